//! A scripted broker conversation replayed with the broker's byte stream
//! split at every byte boundary: framing partial input must never change
//! what the application sees or what the client sends.  With the `mqtt5`
//! feature the same conversation runs through `Session::handle_v5` in
//! 3.1.1 (same bytes, same events) and in MQTT 5 (its own bytes).

use std::format;
use std::string::String;
use std::vec::Vec;

use super::{Event, Session, TxBuf};
use crate::wire::{Connect, Packet, QoS, Version};

const NOW: u64 = 5_000;

/// Everything the broker sends, in order.
#[rustfmt::skip]
const BROKER: &[u8] = &[
    0x20, 0x02, 0x00, 0x00,             // CONNACK accepted
    0x90, 0x04, 0x00, 0x01, 0x01, 0x02, // SUBACK id 1: QoS 1, QoS 2
    0x40, 0x02, 0x00, 0x02,             // PUBACK id 2
    0x50, 0x02, 0x00, 0x03,             // PUBREC id 3
    0x70, 0x02, 0x00, 0x03,             // PUBCOMP id 3
    0x30, 0x06, 0x00, 0x03, b'a', b'/', b'x', b'0',             // PUBLISH QoS 0 "a/x" "0"
    0x32, 0x08, 0x00, 0x03, b'a', b'/', b'y', 0x00, 0x07, b'1', // PUBLISH QoS 1 id 7 "a/y" "1"
    0x34, 0x06, 0x00, 0x01, b'b', 0x00, 0x08, b'2',             // PUBLISH QoS 2 id 8 "b" "2"
    0x3c, 0x06, 0x00, 0x01, b'b', 0x00, 0x08, b'2',             // the same, DUP
    0x62, 0x02, 0x00, 0x08,             // PUBREL id 8
    0xd0, 0x00,                         // PINGRESP
];

/// Everything the client must send in reply, in order.
#[rustfmt::skip]
const CLIENT: &[u8] = &[
    0x10, 0x0e, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x3c,
    0x00, 0x02, b'c', b'1',             // CONNECT "c1", clean, keepalive 60
    0x82, 0x0c, 0x00, 0x01, 0x00, 0x03, b'a', b'/', b'#', 0x01,
    0x00, 0x01, b'b', 0x02,             // SUBSCRIBE id 1: "a/#" QoS 1, "b" QoS 2
    0x30, 0x05, 0x00, 0x01, b't', b'q', b'0',             // PUBLISH QoS 0 "t" "q0"
    0x32, 0x07, 0x00, 0x01, b't', 0x00, 0x02, b'q', b'1', // PUBLISH QoS 1 id 2
    0x34, 0x07, 0x00, 0x01, b't', 0x00, 0x03, b'q', b'2', // PUBLISH QoS 2 id 3
    0xc0, 0x00,                         // PINGREQ
    0x62, 0x02, 0x00, 0x03,             // PUBREL id 3
    0x40, 0x02, 0x00, 0x07,             // PUBACK id 7
    0x50, 0x02, 0x00, 0x08,             // PUBREC id 8
    0x50, 0x02, 0x00, 0x08,             // PUBREC id 8 (for the DUP)
    0x70, 0x02, 0x00, 0x08,             // PUBCOMP id 8
];

const EVENTS: &[&str] = &[
    "Connected { session_present: false }",
    "Subscribed { pid: 1, return_codes: [1, 2] }",
    "Published { pid: 2 }",
    "Published { pid: 3 }",
    "Message a/x [48] QoS AtMostOnce",
    "Message a/y [49] QoS AtLeastOnce",
    "Message b [50] QoS ExactlyOnce",
    "Pong",
];

/// Accumulates received bytes and cuts them into whole packets.
struct Framer {
    buf: [u8; 128],
    len: usize,
}

impl Framer {
    fn new() -> Self {
        Self {
            buf: [0; 128],
            len: 0,
        }
    }

    fn extend(&mut self, bytes: &[u8]) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
    }

    /// Hands the complete packet at the front to the session, read in
    /// `version` for `handle_v5` (`None`: 3.1.1 and `handle`): the event
    /// and the bytes taken.
    fn handle(
        &self,
        session: &mut Session,
        version: Option<Version>,
        tx: &mut TxBuf<'_>,
    ) -> Option<(Option<String>, usize)> {
        let bytes = &self.buf[..self.len];
        let (ev, used) = match version {
            None => {
                let (packet, used) = Packet::parse(bytes).expect("broker bytes are valid")?;
                (session.handle(NOW, packet, tx), used)
            }
            #[cfg(feature = "mqtt5")]
            Some(v) => {
                let parsed = crate::wire::v5::Packet::parse_for(bytes, v);
                let (packet, used) = parsed.expect("broker bytes are valid")?;
                (session.handle_v5(NOW, packet, tx), used)
            }
            #[cfg(not(feature = "mqtt5"))]
            Some(_) => unreachable!("3.1.1 only"),
        };
        let ev = ev.unwrap();
        if let Some(ev) = &ev {
            react(session, ev, tx);
        }
        Some((ev.as_ref().map(describe), used))
    }

    fn consume(&mut self, n: usize) {
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }
}

fn describe(ev: &Event<'_>) -> String {
    match ev {
        Event::Message(p) => format!("Message {} {:?} QoS {:?}", p.topic, p.payload, p.qos),
        #[cfg(feature = "mqtt5")]
        Event::Connected5 {
            session_present, ..
        } => format!("Connected5 {{ session_present: {session_present} }}"),
        #[cfg(feature = "mqtt5")]
        Event::Message5 { publish: p, props } => format!(
            "Message5 {} {:?} QoS {:?} props {:?}",
            p.topic,
            p.payload,
            p.qos,
            props.user_properties().collect::<Vec<_>>()
        ),
        other => format!("{other:?}"),
    }
}

/// The application: subscribes once connected, publishes and pings once
/// subscribed.
fn react(session: &mut Session, ev: &Event<'_>, tx: &mut TxBuf<'_>) {
    #[cfg(feature = "mqtt5")]
    match ev {
        Event::Connected5 { .. } => {
            return react(
                session,
                &Event::Connected {
                    session_present: false,
                },
                tx,
            )
        }
        Event::Message5 { publish, .. } => return react(session, &Event::Message(*publish), tx),
        _ => {}
    }
    match ev {
        Event::Connected { .. } => {
            let topics = [("a/#", QoS::AtLeastOnce), ("b", QoS::ExactlyOnce)];
            assert_eq!(session.subscribe(NOW, &topics, tx), Ok(1));
        }
        Event::Subscribed { .. } => {
            for (qos, payload, pid) in [
                (QoS::AtMostOnce, b"q0", 0),
                (QoS::AtLeastOnce, b"q1", 2),
                (QoS::ExactlyOnce, b"q2", 3),
            ] {
                assert_eq!(session.publish(NOW, "t", payload, qos, false, tx), Ok(pid));
            }
            session.ping(NOW, tx).unwrap();
        }
        // The application has the message: now it is acknowledged.
        Event::Message(p) if p.qos != QoS::AtMostOnce => session.ack(NOW, p.pid, tx).unwrap(),
        _ => {}
    }
}

/// Runs the conversation with the broker bytes arriving in `chunks`;
/// returns the events seen and the bytes the client sent.
fn converse(chunks: &[&[u8]]) -> (Vec<String>, Vec<u8>) {
    converse_in(chunks, None)
}

/// [`converse`] with the packets parsed in `version` and handed to
/// `handle_v5` (`None`: the 3.1.1 `Packet` and `handle`).
fn converse_in(chunks: &[&[u8]], version: Option<Version>) -> (Vec<String>, Vec<u8>) {
    let mut session = Session::new();
    #[cfg(feature = "mqtt5")]
    if let Some(v) = version {
        session.set_version(v);
    }
    let mut mem = [0u8; 128];
    let mut sent = Vec::new();
    let mut events = Vec::new();
    let connect = Connect {
        client_id: "c1",
        keepalive: 60,
        clean_session: true,
        will: None,
        username: None,
        password: None,
    };
    let mut tx = TxBuf::new(&mut mem, 0);
    session.connect(NOW, &connect, &mut tx).unwrap();
    sent.extend_from_slice(tx.pending());
    tx.consume(tx.len());

    let mut framer = Framer::new();
    for chunk in chunks {
        framer.extend(chunk);
        while let Some((ev, used)) = framer.handle(&mut session, version, &mut tx) {
            events.extend(ev);
            sent.extend_from_slice(tx.pending());
            tx.consume(tx.len());
            framer.consume(used);
        }
    }
    assert_eq!(framer.len, 0, "no bytes left over");
    assert_eq!(session.inflight_len(), 0);
    assert_eq!(session.poll_at(), Some(NOW + 30_000));
    (events, sent)
}

#[test]
fn whole_stream() {
    let (events, sent) = converse(&[BROKER]);
    assert_eq!(events, EVENTS);
    assert_eq!(sent, CLIENT);
}

#[test]
fn split_at_every_byte() {
    for k in 0..=BROKER.len() {
        let (head, tail) = BROKER.split_at(k);
        let (events, sent) = converse(&[head, tail]);
        assert_eq!(events, EVENTS, "split at {k}");
        assert_eq!(sent, CLIENT, "split at {k}");
    }
}

#[test]
fn one_byte_at_a_time() {
    let chunks: Vec<&[u8]> = BROKER.chunks(1).collect();
    let (events, sent) = converse(&chunks);
    assert_eq!(events, EVENTS);
    assert_eq!(sent, CLIENT);
}

/// The same conversation read into the v5 representation in 3.1.1 and
/// handled by `handle_v5`: the same events, the same bytes.
#[cfg(feature = "mqtt5")]
#[test]
fn handle_v5_in_311_is_311() {
    for k in 0..=BROKER.len() {
        let (head, tail) = BROKER.split_at(k);
        let (events, sent) = converse_in(&[head, tail], Some(Version::V311));
        assert_eq!(events, EVENTS, "split at {k}");
        assert_eq!(sent, CLIENT, "split at {k}");
    }
}

/// What an MQTT 5 broker sends in the conversation.
#[cfg(feature = "mqtt5")]
#[rustfmt::skip]
const BROKER5: &[u8] = &[
    0x20, 0x03, 0x00, 0x00, 0x00,       // CONNACK success, no properties
    0x90, 0x05, 0x00, 0x01, 0x00, 0x01, 0x02, // SUBACK id 1, no properties: QoS 1, QoS 2
    0x40, 0x03, 0x00, 0x02, 0x87,       // PUBACK id 2: not authorized
    0x50, 0x02, 0x00, 0x03,             // PUBREC id 3 (success, short form)
    0x70, 0x02, 0x00, 0x03,             // PUBCOMP id 3
    0x30, 0x07, 0x00, 0x03, b'a', b'/', b'x', 0x00, b'0', // PUBLISH QoS 0 "a/x" "0"
    0x32, 0x10, 0x00, 0x03, b'a', b'/', b'y', 0x00, 0x07, // PUBLISH QoS 1 id 7 "a/y"
    0x07, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v',       //   user property k=v
    b'1',                                                 //   payload "1"
    0x34, 0x07, 0x00, 0x01, b'b', 0x00, 0x08, 0x00, b'2', // PUBLISH QoS 2 id 8 "b" "2"
    0x3c, 0x07, 0x00, 0x01, b'b', 0x00, 0x08, 0x00, b'2', // the same, DUP
    0x62, 0x02, 0x00, 0x08,             // PUBREL id 8
    0xd0, 0x00,                         // PINGRESP
];

/// What the client sends in MQTT 5.
#[cfg(feature = "mqtt5")]
#[rustfmt::skip]
const CLIENT5: &[u8] = &[
    0x10, 0x12, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0x00, 0x3c,
    0x03, 0x21, 0x00, 0x20,             // properties: receive maximum 32
    0x00, 0x02, b'c', b'1',             // CONNECT v5 "c1", clean, keepalive 60
    0x82, 0x0d, 0x00, 0x01, 0x00, 0x00, 0x03, b'a', b'/', b'#', 0x01,
    0x00, 0x01, b'b', 0x02,             // SUBSCRIBE id 1, no properties
    0x30, 0x06, 0x00, 0x01, b't', 0x00, b'q', b'0',             // PUBLISH QoS 0
    0x32, 0x08, 0x00, 0x01, b't', 0x00, 0x02, 0x00, b'q', b'1', // PUBLISH QoS 1 id 2
    0x34, 0x08, 0x00, 0x01, b't', 0x00, 0x03, 0x00, b'q', b'2', // PUBLISH QoS 2 id 3
    0xc0, 0x00,                         // PINGREQ
    0x62, 0x02, 0x00, 0x03,             // PUBREL id 3 (short form)
    0x40, 0x02, 0x00, 0x07,             // PUBACK id 7
    0x50, 0x02, 0x00, 0x08,             // PUBREC id 8
    0x50, 0x02, 0x00, 0x08,             // PUBREC id 8 (for the DUP)
    0x70, 0x02, 0x00, 0x08,             // PUBCOMP id 8
];

#[cfg(feature = "mqtt5")]
const EVENTS5: &[&str] = &[
    "Connected5 { session_present: false }",
    "Subscribed { pid: 1, return_codes: [1, 2] }",
    "PublishFailed { pid: 2, reason: NotAuthorized }",
    "Published { pid: 3 }",
    "Message5 a/x [48] QoS AtMostOnce props []",
    "Message5 a/y [49] QoS AtLeastOnce props [(\"k\", \"v\")]",
    "Message5 b [50] QoS ExactlyOnce props []",
    "Pong",
];

#[cfg(feature = "mqtt5")]
#[test]
fn v5_split_at_every_byte() {
    for k in 0..=BROKER5.len() {
        let (head, tail) = BROKER5.split_at(k);
        let (events, sent) = converse_in(&[head, tail], Some(Version::V5));
        assert_eq!(events, EVENTS5, "split at {k}");
        assert_eq!(sent, CLIENT5, "split at {k}");
    }
    let chunks: Vec<&[u8]> = BROKER5.chunks(1).collect();
    assert_eq!(converse_in(&chunks, Some(Version::V5)).1, CLIENT5);
}
