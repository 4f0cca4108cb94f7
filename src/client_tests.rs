//! Tests of [`Client`](super::Client) over a scripted transport.

use super::*;
use crate::session::INLINE_HELD;
use crate::wire::Packet;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::string::String;
use std::vec::Vec;

/// A scripted transport: reads return the queued chunks in order (at
/// most `read_max` bytes at a time, 0 when the script is exhausted: the
/// broker closed the connection); writes accept at most `write_max`
/// bytes, and 0 once `write_budget` bytes were written.  What the client
/// wrote is in `wire`, shared so that a test can look while the client
/// holds the transport.
struct Mock {
    reads: VecDeque<Vec<u8>>,
    read_max: usize,
    wire: Rc<RefCell<Vec<u8>>>,
    write_max: usize,
    write_budget: usize,
}

impl Mock {
    /// The bytes the client wrote.
    fn written(&self) -> Vec<u8> {
        self.wire.borrow().clone()
    }
}

#[derive(Debug, PartialEq)]
struct MockError;

impl embedded_io::Error for MockError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

impl embedded_io::ErrorType for Mock {
    type Error = MockError;
}

impl Read for Mock {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, MockError> {
        let Some(chunk) = self.reads.front_mut() else {
            return Ok(0);
        };
        if chunk.is_empty() {
            self.reads.pop_front();
            return Err(MockError);
        }
        let n = chunk.len().min(buf.len()).min(self.read_max);
        buf[..n].copy_from_slice(&chunk[..n]);
        chunk.drain(..n);
        if chunk.is_empty() {
            self.reads.pop_front();
        }
        Ok(n)
    }
}

impl Write for Mock {
    fn write(&mut self, buf: &[u8]) -> Result<usize, MockError> {
        let mut wire = self.wire.borrow_mut();
        let n = buf
            .len()
            .min(self.write_max)
            .min(self.write_budget - wire.len());
        wire.extend_from_slice(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> Result<(), MockError> {
        Ok(())
    }
}

/// A broker sending `chunks` (an empty chunk is a read error), then
/// closing the connection.
fn mock(chunks: &[&[u8]]) -> Mock {
    Mock {
        reads: chunks.iter().map(|c| c.to_vec()).collect(),
        read_max: usize::MAX,
        wire: Rc::default(),
        write_max: usize::MAX,
        write_budget: usize::MAX,
    }
}

fn connect_packet() -> Connect<'static> {
    Connect {
        client_id: "c",
        keepalive: 10,
        clean_session: true,
        will: None,
        username: None,
        password: None,
    }
}

fn persistent_connect() -> Connect<'static> {
    Connect {
        clean_session: false,
        ..connect_packet()
    }
}

const CONNACK_OK: &[u8] = &[0x20, 0x02, 0x00, 0x00]; // CONNACK accepted
const CONNACK_PRESENT: &[u8] = &[0x20, 0x02, 0x01, 0x00]; // CONNACK accepted, session present
#[rustfmt::skip]
const CONNECT_C: &[u8] = &[
    0x10, 0x0d,                               // CONNECT, remaining 13
    0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, // protocol name, level 4
    0x02,                                     // flags: clean session
    0x00, 0x0a,                               // keepalive 10 s
    0x00, 0x01, b'c',                         // client id "c"
];
#[rustfmt::skip]
const CONNECT_C_PERSISTENT: &[u8] = &[
    0x10, 0x0d,                               // CONNECT, remaining 13
    0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, // protocol name, level 4
    0x00,                                     // flags: none (keep the session)
    0x00, 0x0a,                               // keepalive 10 s
    0x00, 0x01, b'c',                         // client id "c"
];
#[rustfmt::skip]
const PUBLISH_QOS2_ID10: &[u8] = &[
    0x34, 0x06,       // PUBLISH QoS 2, remaining 6
    0x00, 0x01, b't', // topic "t"
    0x00, 0x0a,       // packet id = 10
    b'm',             // payload "m"
];
#[rustfmt::skip]
const PUBLISH_QOS2_ID10_DUP: &[u8] = &[
    0x3c, 0x06,       // PUBLISH QoS 2 DUP, remaining 6
    0x00, 0x01, b't', // topic "t"
    0x00, 0x0a,       // packet id = 10
    b'm',             // payload "m"
];
const PUBREC_10: &[u8] = &[0x50, 0x02, 0x00, 0x0a]; // PUBREC, packet id = 10
const PUBREL_10: &[u8] = &[0x62, 0x02, 0x00, 0x0a]; // PUBREL, packet id = 10
const PUBCOMP_10: &[u8] = &[0x70, 0x02, 0x00, 0x0a]; // PUBCOMP, packet id = 10

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// What `poll` returned, in short.
#[derive(Debug, PartialEq)]
enum Seen {
    /// A message: packet id, DUP flag.
    Message(u16, bool),
    Published(u16),
    Other(String),
}

/// Polls until the connection fails; acks every message when `ack`.
/// Returns what was seen and the error that ended it.
fn until_closed(client: &mut Client<'_, Mock>, ack: bool) -> (Vec<Seen>, ClientError<MockError>) {
    let mut seen = Vec::new();
    loop {
        let pid = match client.poll(0) {
            Ok(Some(Event::Message(p))) => {
                seen.push(Seen::Message(p.pid, p.dup));
                p.pid
            }
            Ok(Some(Event::Published { pid })) => {
                seen.push(Seen::Published(pid));
                continue;
            }
            Ok(Some(other)) => {
                seen.push(Seen::Other(std::format!("{other:?}")));
                continue;
            }
            Ok(None) => continue,
            Err(e) => return (seen, e),
        };
        if ack {
            client.ack(0, pid).unwrap();
        }
    }
}

/// The next message (polling through everything else).
fn next_message(client: &mut Client<'_, Mock>) -> Result<u16, ClientError<MockError>> {
    loop {
        if let Some(Event::Message(p)) = client.poll(0)? {
            return Ok(p.pid);
        }
    }
}

#[test]
fn trickling_transport() {
    #[rustfmt::skip]
    let broker: &[u8] = &[
        0x20, 0x02, 0x00, 0x00,                         // CONNACK accepted
        0x32, 0x06, 0x00, 0x01, b't', 0x00, 0x05, b'x', // PUBLISH QoS 1 id 5 "t" "x"
        0x40, 0x02, 0x00, 0x01,                         // PUBACK id 1
    ];
    let mut t = mock(&[broker]);
    t.read_max = 1;
    t.write_max = 1;
    let wire = t.wire.clone();
    let (mut rx, mut tx) = ([0u8; 32], [0u8; 32]);
    let mut client = Client::new(t, &mut rx, &mut tx);
    assert_eq!(client.connect(0, &connect_packet()), Ok(false));
    assert_eq!(client.publish(0, "t", b"y", QoS::AtLeastOnce, false), Ok(1));
    let mut events = Vec::new();
    while client.session().is_inflight(1) {
        let message = match client.poll(0).unwrap() {
            Some(Event::Message(p)) => Some(p.pid),
            Some(ev) => {
                events.push(std::format!("{ev:?}"));
                None
            }
            None => None,
        };
        if let Some(pid) = message {
            events.push(std::format!("Message {pid}"));
            assert!(
                !wire.borrow().ends_with(&[0x40, 0x02, 0x00, 0x05]),
                "no PUBACK before ack()"
            );
            client.ack(0, pid).unwrap();
        }
    }
    assert_eq!(events, ["Message 5", "Published { pid: 1 }"]);
    let mut expected = CONNECT_C.to_vec();
    #[rustfmt::skip]
    expected.extend_from_slice(&[
        0x32, 0x06, 0x00, 0x01, b't', 0x00, 0x01, b'y', // PUBLISH QoS 1 id 1 "t" "y"
        0x40, 0x02, 0x00, 0x05,                         // PUBACK id 5, after ack()
    ]);
    assert_eq!(client.into_transport().written(), expected);
}

/// (c) Nothing acknowledges a message but `ack`: no PUBACK/PUBREC is
/// written when `poll` returns it, one is written by `ack`, and acking
/// twice (or a QoS 0 message) writes nothing more.
#[test]
fn no_ack_before_ack_call() {
    #[rustfmt::skip]
    let broker: &[u8] = &[
        0x20, 0x02, 0x00, 0x00, // CONNACK accepted
        0x32, 0x06,             // PUBLISH QoS 1, remaining 6
        0x00, 0x01, b't',       //   topic "t"
        0x00, 0x05,             //   packet id = 5
        b'a',                   //   payload "a"
        0x34, 0x06,             // PUBLISH QoS 2, remaining 6
        0x00, 0x01, b't',       //   topic "t"
        0x00, 0x06,             //   packet id = 6
        b'b',                   //   payload "b"
        0x30, 0x04,             // PUBLISH QoS 0, remaining 4
        0x00, 0x01, b't',       //   topic "t"
        b'c',                   //   payload "c"
    ];
    let (mut rx, mut tx) = ([0u8; 64], [0u8; 32]);
    let t = mock(&[broker]);
    let wire = t.wire.clone();
    let mut client = Client::new(t, &mut rx, &mut tx);
    client.connect(0, &connect_packet()).unwrap();
    assert_eq!(next_message(&mut client), Ok(5));
    assert_eq!(next_message(&mut client), Ok(6));
    assert_eq!(next_message(&mut client), Ok(0));
    assert_eq!(*wire.borrow(), CONNECT_C, "nothing acknowledged yet");
    assert_eq!(client.session().unacked_len(), 2);

    client.ack(0, 6).unwrap();
    client.ack(0, 5).unwrap();
    client.ack(0, 5).unwrap();
    client.ack(0, 6).unwrap();
    client.ack(0, 0).unwrap();
    #[rustfmt::skip]
    assert_eq!(*wire.borrow(), cat(&[CONNECT_C, &[
        0x50, 0x02, 0x00, 0x06, // PUBREC, packet id = 6
        0x40, 0x02, 0x00, 0x05, // PUBACK, packet id = 5
    ]]));
    assert_eq!(client.session().held_len(), 1, "id 6 held until PUBREL");
}

/// `wait_published` hands a message to `on_event` and acks it after
/// `on_event` returned.
#[test]
fn wait_published_acks_after_on_event() {
    #[rustfmt::skip]
    let message: &[u8] = &[
        0x32, 0x06,       // PUBLISH QoS 1, remaining 6
        0x00, 0x01, b't', // topic "t"
        0x00, 0x07,       // packet id = 7
        b'm',             // payload "m"
    ];
    let puback_1: &[u8] = &[0x40, 0x02, 0x00, 0x01]; // PUBACK, packet id = 1
    let t = mock(&[CONNACK_OK, message, puback_1]);
    let wire = t.wire.clone();
    let (mut rx, mut tx) = ([0u8; 32], [0u8; 32]);
    let mut client = Client::new(t, &mut rx, &mut tx);
    client.connect(0, &connect_packet()).unwrap();
    let pid = client
        .publish(0, "t", b"y", QoS::AtLeastOnce, false)
        .unwrap();
    let mut seen = Vec::new();
    client
        .wait_published(0, pid, |ev| {
            if let Event::Message(p) = ev {
                seen.push((p.pid, p.payload.to_vec(), wire.borrow().len()));
            }
        })
        .unwrap();
    #[rustfmt::skip]
    let publish_1: &[u8] = &[
        0x32, 0x06, 0x00, 0x01, b't', // PUBLISH QoS 1, topic "t"
        0x00, 0x01, b'y',             // packet id = 1, payload "y"
    ];
    let sent_before = CONNECT_C.len() + publish_1.len();
    assert_eq!(seen, [(7, b"m".to_vec(), sent_before)], "no ack yet");
    #[rustfmt::skip]
    assert_eq!(*wire.borrow(), cat(&[CONNECT_C, publish_1, &[
        0x40, 0x02, 0x00, 0x07, // PUBACK, packet id = 7: after on_event
    ]]));
}

/// (a) QoS 1/2 messages in flight when the connection drops are resent
/// after `set_transport` + `connect(clean_session = false)` when the
/// broker has the session: same ids, in order, PUBLISH with DUP, PUBREL
/// for the one past PUBREC.  `tx` (16 bytes) cannot take all resends
/// beside the CONNACK's turn: `connect` sends the rest.
#[test]
fn inflight_resent_after_reconnect() {
    let (mut rx, mut tx, mut store) = ([0u8; 64], [0u8; 16], [0u8; 64]);
    let pubrec_3: &[u8] = &[0x50, 0x02, 0x00, 0x03]; // PUBREC, packet id = 3
    let first = mock(&[CONNACK_OK, pubrec_3]);
    let mut client = Client::with_store(first, &mut rx, &mut tx, &mut store);
    assert_eq!(client.connect(0, &persistent_connect()), Ok(false));
    assert_eq!(client.publish(0, "t", b"a", QoS::AtLeastOnce, false), Ok(1));
    assert_eq!(client.publish(0, "t", b"b", QoS::ExactlyOnce, false), Ok(2));
    assert_eq!(client.publish(0, "t", b"c", QoS::ExactlyOnce, false), Ok(3));
    assert_eq!(client.store_used(), 3 * 8);
    let (seen, err) = until_closed(&mut client, true);
    assert_eq!((seen, err), (Vec::new(), ClientError::Closed));
    assert!(!client.is_connected(), "a fatal error ends the connection");
    assert_eq!(
        client.store_used(),
        2 * 8,
        "id 3's PUBLISH dropped at PUBREC"
    );

    #[rustfmt::skip]
    let broker: &[u8] = &[
        0x40, 0x02, 0x00, 0x01, // PUBACK, packet id = 1
        0x50, 0x02, 0x00, 0x02, // PUBREC, packet id = 2
        0x70, 0x02, 0x00, 0x03, // PUBCOMP, packet id = 3
        0x70, 0x02, 0x00, 0x02, // PUBCOMP, packet id = 2
    ];
    let old = client.set_transport(mock(&[CONNACK_PRESENT, broker]));
    #[rustfmt::skip]
    assert_eq!(old.written(), cat(&[CONNECT_C_PERSISTENT, &[
        0x32, 0x06, 0x00, 0x01, b't', // PUBLISH QoS 1, topic "t"
        0x00, 0x01, b'a',             //   packet id = 1, payload "a"
        0x34, 0x06, 0x00, 0x01, b't', // PUBLISH QoS 2, topic "t"
        0x00, 0x02, b'b',             //   packet id = 2, payload "b"
        0x34, 0x06, 0x00, 0x01, b't', // PUBLISH QoS 2, topic "t"
        0x00, 0x03, b'c',             //   packet id = 3, payload "c"
        0x62, 0x02, 0x00, 0x03,       // PUBREL, packet id = 3
    ]]));

    assert_eq!(client.connect(10, &persistent_connect()), Ok(true));
    #[rustfmt::skip]
    let resends: &[u8] = &[
        0x3a, 0x06, 0x00, 0x01, b't', // PUBLISH QoS 1 DUP, topic "t"
        0x00, 0x01, b'a',             //   packet id = 1, payload "a"
        0x3c, 0x06, 0x00, 0x01, b't', // PUBLISH QoS 2 DUP, topic "t"
        0x00, 0x02, b'b',             //   packet id = 2, payload "b"
        0x62, 0x02, 0x00, 0x03,       // PUBREL, packet id = 3
    ];
    let wire = client.transport_mut().wire.clone();
    assert_eq!(*wire.borrow(), cat(&[CONNECT_C_PERSISTENT, resends]));

    let (seen, err) = until_closed(&mut client, true);
    use Seen::Published;
    assert_eq!(seen, [Published(1), Published(3), Published(2)]);
    assert_eq!(err, ClientError::Closed);
    #[rustfmt::skip]
    assert_eq!(*wire.borrow(), cat(&[CONNECT_C_PERSISTENT, resends, &[
        0x62, 0x02, 0x00, 0x02, // PUBREL, packet id = 2
    ]]));
    assert_eq!(
        (client.session().inflight_len(), client.store_used()),
        (0, 0)
    );
}

/// Without a store nothing is resent.  With one, a message in flight
/// goes again even to a broker that lost the session (as the session
/// decides: it arrives there as a new message rather than not at all).
#[test]
fn resend_needs_a_store() {
    #[rustfmt::skip]
    let resend: &[u8] = &[
        0x3a, 0x06, 0x00, 0x01, b't', // PUBLISH QoS 1 DUP, topic "t"
        0x00, 0x01, b'a',             //   packet id = 1, payload "a"
    ];
    for with_store in [false, true] {
        let (mut rx, mut tx, mut store) = ([0u8; 64], [0u8; 64], [0u8; 64]);
        let store: &mut [u8] = if with_store { &mut store } else { &mut [] };
        let t = mock(&[CONNACK_OK]);
        let mut client = Client::with_store(t, &mut rx, &mut tx, store);
        client.connect(0, &persistent_connect()).unwrap();
        client
            .publish(0, "t", b"a", QoS::AtLeastOnce, false)
            .unwrap();
        assert_eq!(client.store_used() > 0, with_store);
        client.set_transport(mock(&[CONNACK_OK]));
        assert_eq!(client.connect(0, &persistent_connect()), Ok(false));
        let written = client.transport_mut().written();
        if with_store {
            assert_eq!(written, cat(&[CONNECT_C_PERSISTENT, resend]));
            assert!(client.session().is_inflight(1));
        } else {
            assert_eq!(written, CONNECT_C_PERSISTENT, "no store: no resend");
            assert_eq!(client.session().inflight_len(), 0);
        }
    }
}

/// (b) An incoming QoS 2 message whose PUBREC went out before the drop
/// is not delivered again when the broker resends it with DUP.
#[test]
fn qos2_acked_before_drop_is_delivered_once() {
    let (mut rx, mut tx) = ([0u8; 64], [0u8; 64]);
    let first = mock(&[CONNACK_OK, PUBLISH_QOS2_ID10]);
    let mut client = Client::new(first, &mut rx, &mut tx);
    client.connect(0, &persistent_connect()).unwrap();
    let (seen, err) = until_closed(&mut client, true);
    assert_eq!(
        (seen, err),
        (std::vec![Seen::Message(10, false)], ClientError::Closed)
    );

    let second = mock(&[CONNACK_PRESENT, PUBLISH_QOS2_ID10_DUP, PUBREL_10]);
    let old = client.set_transport(second);
    assert_eq!(old.written(), cat(&[CONNECT_C_PERSISTENT, PUBREC_10]));
    assert_eq!(client.connect(0, &persistent_connect()), Ok(true));
    let (seen, err) = until_closed(&mut client, true);
    assert_eq!((seen, err), (Vec::new(), ClientError::Closed), "not again");
    assert_eq!(
        client.into_transport().written(),
        cat(&[CONNECT_C_PERSISTENT, PUBREC_10, PUBCOMP_10]),
        "the resend is answered"
    );
}

/// (b) A QoS 2 message the application had and acked after the
/// connection dropped (nothing could be written) is not delivered again
/// either: the ack held its id.
#[test]
fn qos2_acked_after_drop_is_delivered_once() {
    let (mut rx, mut tx) = ([0u8; 64], [0u8; 64]);
    let first = mock(&[CONNACK_OK, PUBLISH_QOS2_ID10]);
    let mut client = Client::new(first, &mut rx, &mut tx);
    client.connect(0, &persistent_connect()).unwrap();
    assert_eq!(next_message(&mut client), Ok(10));
    assert_eq!(client.poll(0).map(|_| ()), Err(ClientError::Closed));
    client.ack(0, 10).unwrap();
    assert_eq!(client.session().held_len(), 1);

    let second = mock(&[CONNACK_PRESENT, PUBLISH_QOS2_ID10_DUP, PUBREL_10]);
    let old = client.set_transport(second);
    assert_eq!(old.written(), CONNECT_C_PERSISTENT, "nothing acked on it");
    assert_eq!(client.connect(0, &persistent_connect()), Ok(true));
    let (seen, err) = until_closed(&mut client, true);
    assert_eq!((seen, err), (Vec::new(), ClientError::Closed), "not again");
    // The owed PUBREC goes out on the new connection (the broker's
    // session still has id 10), and the resend is answered too.
    assert_eq!(
        client.into_transport().written(),
        cat(&[CONNECT_C_PERSISTENT, PUBREC_10, PUBREC_10, PUBCOMP_10])
    );
}

/// (b) A QoS 2 message the application abandoned, or had not acked
/// when the next connection started, was never acknowledged: the
/// broker's resend is delivered again, and its PUBREC is written only
/// by `ack`.  Acked once in all.
#[test]
fn qos2_not_acked_before_drop_is_delivered_again() {
    for abandon in [true, false] {
        let (mut rx, mut tx) = ([0u8; 64], [0u8; 64]);
        let first = mock(&[CONNACK_OK, PUBLISH_QOS2_ID10]);
        let mut client = Client::new(first, &mut rx, &mut tx);
        client.connect(0, &persistent_connect()).unwrap();
        assert_eq!(next_message(&mut client), Ok(10));
        if abandon {
            client.abandon(10);
        }
        assert_eq!(client.poll(0).map(|_| ()), Err(ClientError::Closed));

        let second = mock(&[CONNACK_PRESENT, PUBLISH_QOS2_ID10_DUP, PUBREL_10]);
        let old = client.set_transport(second);
        assert_eq!(old.written(), CONNECT_C_PERSISTENT, "no PUBREC");
        assert_eq!(client.connect(0, &persistent_connect()), Ok(true));
        let wire = client.transport_mut().wire.clone();
        let msg = client.poll(0).unwrap().map(|ev| std::format!("{ev:?}"));
        assert!(
            msg.as_deref()
                .is_some_and(|m| m.starts_with("Message") && m.contains("dup: true")),
            "delivered again: {msg:?}"
        );
        assert_eq!(*wire.borrow(), CONNECT_C_PERSISTENT, "no PUBREC before ack");
        client.ack(0, 10).unwrap();
        assert_eq!(*wire.borrow(), cat(&[CONNECT_C_PERSISTENT, PUBREC_10]));
        let (seen, err) = until_closed(&mut client, true);
        assert_eq!((seen, err), (Vec::new(), ClientError::Closed));
        assert_eq!(
            *wire.borrow(),
            cat(&[CONNECT_C_PERSISTENT, PUBREC_10, PUBCOMP_10])
        );
        assert_eq!(client.session().held_len(), 0, "released");
    }
}

/// More than `INLINE_HELD` unreleased QoS 2 ids without a bitmap: the
/// next message is refused with `HeldFull` (not fatal, not delivered,
/// not acked) until a bitmap is lent; then it is delivered.
#[test]
fn held_full_until_a_bitmap_is_lent() {
    let mut broker = CONNACK_OK.to_vec();
    for pid in 1..=INLINE_HELD as u16 + 1 {
        let [hi, lo] = pid.to_be_bytes();
        #[rustfmt::skip]
        broker.extend_from_slice(&[
            0x34, 0x06, 0x00, 0x01, b't', // PUBLISH QoS 2, topic "t"
            hi, lo, b'm',                 //   packet id = pid, payload "m"
        ]);
    }
    let mut bits = std::vec![0u8; HELD_BITMAP_BYTES];
    let (mut rx, mut tx) = ([0u8; 64], [0u8; 64]);
    let t = mock(&[&broker]);
    let wire = t.wire.clone();
    let mut client = Client::new(t, &mut rx, &mut tx);
    client.connect(0, &connect_packet()).unwrap();
    for pid in 1..=INLINE_HELD as u16 {
        assert_eq!(next_message(&mut client), Ok(pid));
        client.ack(0, pid).unwrap();
    }
    let acked = wire.borrow().len();
    for _ in 0..2 {
        let err = next_message(&mut client).unwrap_err();
        assert_eq!(err, ClientError::Session(Error::HeldFull));
        assert!(!err.is_fatal() && client.is_connected());
        assert!(std::format!("{err}").contains("held-id set"), "{err}");
    }
    assert_eq!(wire.borrow().len(), acked, "nothing acked");
    client = client.with_held_bitmap(&mut bits);
    let last = INLINE_HELD as u16 + 1;
    assert_eq!(next_message(&mut client), Ok(last), "the same message");
    client.ack(0, last).unwrap();
    assert!(wire.borrow().ends_with(&[0x50, 0x02, 0x00, last as u8])); // PUBREC
    assert_eq!(client.session().held_len(), INLINE_HELD + 1);
    assert!(client.session().held_bitmap_in_use());
}

#[test]
fn large_payload_is_streamed() {
    let (mut rx, mut tx) = ([0u8; 32], [0u8; 32]);
    let mut client = Client::new(mock(&[CONNACK_OK]), &mut rx, &mut tx);
    client.connect(0, &connect_packet()).unwrap();
    let payload = [0xa5u8; 300];
    assert_eq!(
        client.publish(0, "big", &payload, QoS::AtMostOnce, false),
        Ok(0)
    );
    let written = client.into_transport().written();
    let (packet, used) = Packet::parse(&written[CONNECT_C.len()..]).unwrap().unwrap();
    assert_eq!(used, written.len() - CONNECT_C.len());
    match packet {
        Packet::Publish(p) => assert_eq!((p.topic, p.payload), ("big", &payload[..])),
        other => panic!("{other:?}"),
    }
}

/// With a store a QoS 1/2 packet is resent through tx, so one larger
/// than tx is refused up front; QoS 0 still streams.
#[test]
fn large_stored_payload_is_refused() {
    let (mut rx, mut tx, mut store) = ([0u8; 32], [0u8; 32], [0u8; 512]);
    let t = mock(&[CONNACK_OK]);
    let mut client = Client::with_store(t, &mut rx, &mut tx, &mut store);
    client.connect(0, &connect_packet()).unwrap();
    let payload = [0xa5u8; 300];
    assert_eq!(
        client.publish(0, "big", &payload, QoS::AtLeastOnce, false),
        Err(ClientError::Session(Error::TxFull { needed: 310 }))
    );
    assert_eq!(
        (client.session().inflight_len(), client.store_used()),
        (0, 0)
    );
    assert_eq!(client.transport_mut().written(), CONNECT_C, "nothing sent");
    assert_eq!(
        client.publish(0, "big", &payload, QoS::AtMostOnce, false),
        Ok(0)
    );
}

#[test]
fn write_of_zero_is_closed_not_a_panic() {
    let mut t = mock(&[CONNACK_OK]);
    t.write_budget = 5;
    let (mut rx, mut tx) = ([0u8; 32], [0u8; 32]);
    let mut client = Client::new(t, &mut rx, &mut tx);
    let err = client.connect(0, &connect_packet()).unwrap_err();
    assert_eq!(err, ClientError::Closed);
    assert!(err.is_fatal());
}

#[test]
fn read_of_zero_is_closed() {
    let (mut rx, mut tx) = ([0u8; 32], [0u8; 32]);
    let mut client = Client::new(mock(&[&CONNACK_OK[..3]]), &mut rx, &mut tx);
    assert_eq!(
        client.connect(0, &connect_packet()),
        Err(ClientError::Closed)
    );
}

#[test]
fn transport_error_is_reported() {
    let (mut rx, mut tx) = ([0u8; 32], [0u8; 32]);
    let mut client = Client::new(mock(&[&[]]), &mut rx, &mut tx);
    assert_eq!(
        client.connect(0, &connect_packet()),
        Err(ClientError::Transport(MockError))
    );
}

/// A packet over the rx buffer, or over the maximum packet size, is
/// refused from its fixed header: fatal, the connection is over.
#[test]
fn oversized_packet_refused_from_its_header() {
    #[rustfmt::skip]
    let broker: &[u8] = &[
        0x20, 0x02, 0x00, 0x00, // CONNACK accepted
        0x30, 0x80, 0x01,       // PUBLISH QoS 0, remaining 128: 131 bytes
    ];
    let (mut rx, mut tx) = ([0u8; 64], [0u8; 32]);
    let mut client = Client::new(mock(&[broker]), &mut rx, &mut tx);
    client.connect(0, &connect_packet()).unwrap();
    let err = client.poll(0).unwrap_err();
    assert_eq!(
        err,
        ClientError::PacketTooLarge {
            needed: 131,
            limit: 64
        }
    );
    assert!(err.is_fatal() && !client.is_connected());

    let (mut rx, mut tx) = ([0u8; 256], [0u8; 32]);
    let mut client = Client::new(mock(&[broker]), &mut rx, &mut tx);
    client.session_mut().set_max_packet_size(100);
    client.connect(0, &connect_packet()).unwrap();
    assert_eq!(
        client.poll(0).unwrap_err(),
        ClientError::PacketTooLarge {
            needed: 131,
            limit: 100
        }
    );
}

#[test]
fn refused_and_malformed() {
    let (mut rx, mut tx) = ([0u8; 32], [0u8; 32]);
    let refused: &[u8] = &[0x20, 0x02, 0x00, 0x04]; // CONNACK bad user name or password
    let mut client = Client::new(mock(&[refused]), &mut rx, &mut tx);
    assert_eq!(
        client.connect(0, &connect_packet()),
        Err(ClientError::Session(Error::Refused(
            crate::wire::ConnectReturnCode::BadUserNameOrPassword
        )))
    );
    let (mut rx, mut tx) = ([0u8; 32], [0u8; 32]);
    let reserved: &[u8] = &[0xf0, 0x00]; // packet type 15
    let mut client = Client::new(mock(&[reserved]), &mut rx, &mut tx);
    assert!(matches!(
        client.connect(0, &connect_packet()),
        Err(ClientError::Session(Error::Decode(_)))
    ));
}

#[test]
fn keepalive_ping_from_poll() {
    let broker: &[u8] = &[0x20, 0x02, 0x00, 0x00, 0xd0, 0x00]; // CONNACK, PINGRESP
    let (mut rx, mut tx) = ([0u8; 32], [0u8; 32]);
    let mut client = Client::new(mock(&[broker]), &mut rx, &mut tx);
    client.connect(0, &connect_packet()).unwrap();
    assert_eq!(client.poll_at(), Some(5_000));
    assert!(matches!(client.poll(5_000), Ok(Some(Event::Pong))));
    let written = client.into_transport().written();
    assert_eq!(&written[CONNECT_C.len()..], [0xc0, 0x00]); // PINGREQ
}
