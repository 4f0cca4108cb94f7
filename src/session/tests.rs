//! Unit tests of the session: annotated byte fixtures for every flow.

use super::*;
use crate::wire::{ConnectReturnCode, Packet, PacketType, Publish, TopicError};

const T0: u64 = 1_000;

#[rustfmt::skip]
const CONNECT_KA10: &[u8] = &[
    0x10, 0x0d,                   // CONNECT, remaining 13
    0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, // protocol name, level 4
    0x02,                         // flags: clean session
    0x00, 0x0a,                   // keepalive 10 s
    0x00, 0x01, b'c',             // client id "c"
];
const CONNACK_OK: &[u8] = &[0x20, 0x02, 0x00, 0x00]; // CONNACK accepted, no session
const CONNACK_PRESENT: &[u8] = &[0x20, 0x02, 0x01, 0x00]; // CONNACK accepted, session present
const CONNACK_NOT_AUTHORIZED: &[u8] = &[0x20, 0x02, 0x00, 0x05]; // CONNACK refused (5)
#[rustfmt::skip]
const PUBLISH_QOS0: &[u8] = &[
    0x30, 0x07,                   // PUBLISH QoS 0, remaining 7
    0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
    b'h', b'i',                   // payload "hi"
];
#[rustfmt::skip]
const PUBLISH_QOS1_ID10: &[u8] = &[
    0x32, 0x09,                   // PUBLISH QoS 1, remaining 9
    0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
    0x00, 0x0a,                   // packet id 10
    b'h', b'i',                   // payload "hi"
];
#[rustfmt::skip]
const PUBLISH_QOS2_ID11: &[u8] = &[
    0x34, 0x09,                   // PUBLISH QoS 2, remaining 9
    0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
    0x00, 0x0b,                   // packet id 11
    b'h', b'i',                   // payload "hi"
];
#[rustfmt::skip]
const PUBLISH_QOS2_ID11_DUP: &[u8] = &[
    0x3c, 0x09,                   // PUBLISH QoS 2 DUP, remaining 9
    0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
    0x00, 0x0b,                   // packet id 11
    b'h', b'i',                   // payload "hi"
];
const PINGREQ: &[u8] = &[0xc0, 0x00]; // PINGREQ
const PINGRESP: &[u8] = &[0xd0, 0x00]; // PINGRESP

fn connect_packet(keepalive: u16, clean_session: bool) -> Connect<'static> {
    Connect {
        client_id: "c",
        keepalive,
        clean_session,
        will: None,
        username: None,
        password: None,
    }
}

/// Parses one whole packet from a fixture and hands it to the session.
fn feed<'p>(
    s: &mut Session,
    now_ms: u64,
    bytes: &'p [u8],
    tx: &mut TxBuf<'_>,
) -> Result<Option<Event<'p>>, Error> {
    let (packet, used) = Packet::parse(bytes).unwrap().unwrap();
    assert_eq!(used, bytes.len(), "fixture holds one packet");
    s.handle(now_ms, packet, tx)
}

/// A session whose CONNECT (keepalive 10 s) was accepted at `T0`; the
/// CONNECT bytes are consumed from `tx`.
fn connected(tx: &mut TxBuf<'_>) -> Session {
    let mut s = Session::new();
    s.connect(T0, &connect_packet(10, true), tx).unwrap();
    tx.consume(tx.len());
    let ev = feed(&mut s, T0, CONNACK_OK, tx).unwrap();
    assert!(matches!(
        ev,
        Some(Event::Connected {
            session_present: false
        })
    ));
    s
}

/// What the session queued, taken out of `tx` (shared by the session's
/// test modules).
pub(super) fn take(tx: &mut TxBuf<'_>) -> std::vec::Vec<u8> {
    let out = tx.pending().to_vec();
    tx.consume(out.len());
    out
}

#[test]
fn connect_accepted() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    assert!(!s.is_connected());
    s.connect(T0, &connect_packet(10, true), &mut tx).unwrap();
    assert_eq!(take(&mut tx), CONNECT_KA10);
    assert!(!s.is_connected(), "not before CONNACK");
    let ev = feed(&mut s, T0, CONNACK_PRESENT, &mut tx).unwrap();
    assert!(matches!(
        ev,
        Some(Event::Connected {
            session_present: true
        })
    ));
    assert!(s.is_connected());
    assert!(tx.is_empty());
}

#[test]
fn connect_refused() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    s.connect(T0, &connect_packet(10, true), &mut tx).unwrap();
    let err = feed(&mut s, T0, CONNACK_NOT_AUTHORIZED, &mut tx).unwrap_err();
    assert_eq!(err, Error::Refused(ConnectReturnCode::NotAuthorized));
    assert!(err.is_fatal());
    assert!(!s.is_connected());
    assert_eq!(s.poll_at(), None, "no timer after a refusal");
    assert_eq!(
        feed(&mut s, T0, CONNACK_OK, &mut tx).unwrap_err(),
        Error::NotConnected
    );
}

#[test]
fn connack_twice() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    assert_eq!(
        feed(&mut s, T0, CONNACK_OK, &mut tx).unwrap_err(),
        Error::Protocol(ProtocolError::ConnackTwice)
    );
}

#[test]
fn nothing_before_connack() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    assert_eq!(
        feed(&mut s, T0, PINGRESP, &mut tx).unwrap_err(),
        Error::NotConnected,
        "no connection started"
    );
    assert_eq!(
        s.publish(T0, "a", b"", QoS::AtMostOnce, false, &mut tx),
        Err(Error::NotConnected)
    );
    s.connect(T0, &connect_packet(10, true), &mut tx).unwrap();
    tx.consume(tx.len());
    assert_eq!(
        feed(&mut s, T0, PUBLISH_QOS0, &mut tx).unwrap_err(),
        Error::Protocol(ProtocolError::UnexpectedPacket(PacketType::Publish))
    );
    assert_eq!(
        s.publish(T0, "a", b"", QoS::AtMostOnce, false, &mut tx),
        Err(Error::NotConnected)
    );
    assert_eq!(
        s.subscribe(T0, &[("a", QoS::AtMostOnce)], &mut tx),
        Err(Error::NotConnected)
    );
    assert_eq!(s.ping(T0, &mut tx), Err(Error::NotConnected));
    assert!(tx.is_empty());
}

#[test]
fn publish_qos0() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let pid = s
        .publish(T0, "a/b", b"hi", QoS::AtMostOnce, false, &mut tx)
        .unwrap();
    assert_eq!(pid, 0);
    assert_eq!(take(&mut tx), PUBLISH_QOS0);
    assert_eq!(s.inflight_len(), 0);
}

#[test]
fn publish_qos1_puback() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let pid = s
        .publish(T0, "a/b", b"hi", QoS::AtLeastOnce, true, &mut tx)
        .unwrap();
    assert_eq!(pid, 1);
    #[rustfmt::skip]
    assert_eq!(take(&mut tx), [
        0x33, 0x09,                   // PUBLISH QoS 1 retain, remaining 9
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x01,                   // packet id 1
        b'h', b'i',                   // payload
    ]);
    assert!(s.is_inflight(1));
    assert_eq!(s.outgoing_flow(1), Some(OutgoingFlow::AwaitPuback));
    let puback = [0x40, 0x02, 0x00, 0x01]; // PUBACK id 1
    assert!(matches!(
        feed(&mut s, T0, &puback, &mut tx),
        Ok(Some(Event::Published { pid: 1 }))
    ));
    assert!(!s.is_inflight(1));
    assert_eq!(
        feed(&mut s, T0, &puback, &mut tx).unwrap_err(),
        Error::Protocol(ProtocolError::UnknownPacketId(1))
    );
}

#[test]
fn publish_qos2_flow() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let pid = s
        .publish(T0, "a/b", b"hi", QoS::ExactlyOnce, false, &mut tx)
        .unwrap();
    assert_eq!(take(&mut tx)[0], 0x34); // PUBLISH QoS 2
    assert_eq!(s.outgoing_flow(pid), Some(OutgoingFlow::AwaitPubrec));
    // A PUBCOMP (or PUBACK) before the PUBREC is wrong.
    for (got, packet) in [
        (PacketType::Pubcomp, [0x70, 0x02, 0x00, 0x01]), // PUBCOMP id 1
        (PacketType::Puback, [0x40, 0x02, 0x00, 0x01]),  // PUBACK id 1
    ] {
        assert_eq!(
            feed(&mut s, T0, &packet, &mut tx).unwrap_err(),
            Error::Protocol(ProtocolError::WrongAck {
                pid: 1,
                got,
                awaited: OutgoingFlow::AwaitPubrec
            })
        );
    }
    let pubrec = [0x50, 0x02, 0x00, 0x01]; // PUBREC id 1
    assert!(matches!(feed(&mut s, T0, &pubrec, &mut tx), Ok(None)));
    assert_eq!(take(&mut tx), [0x62, 0x02, 0x00, 0x01]); // PUBREL id 1
    assert_eq!(s.outgoing_flow(pid), Some(OutgoingFlow::AwaitPubcomp));
    // A repeated PUBREC is answered again.
    assert!(matches!(feed(&mut s, T0, &pubrec, &mut tx), Ok(None)));
    assert_eq!(take(&mut tx), [0x62, 0x02, 0x00, 0x01]); // PUBREL id 1
    assert!(matches!(
        feed(&mut s, T0, &[0x70, 0x02, 0x00, 0x01], &mut tx), // PUBCOMP id 1
        Ok(Some(Event::Published { pid: 1 }))
    ));
    assert_eq!(s.inflight_len(), 0);
    assert_eq!(
        feed(&mut s, T0, &[0x50, 0x02, 0x00, 0x09], &mut tx).unwrap_err(), // PUBREC id 9
        Error::Protocol(ProtocolError::UnknownPacketId(9))
    );
}

#[test]
fn receive_qos0_qos1() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    match feed(&mut s, T0, PUBLISH_QOS0, &mut tx) {
        Ok(Some(Event::Message(p))) => {
            assert_eq!(
                (p.topic, p.payload, p.qos),
                ("a/b", &b"hi"[..], QoS::AtMostOnce)
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(tx.is_empty(), "QoS 0 needs no ack");
    match feed(&mut s, T0, PUBLISH_QOS1_ID10, &mut tx) {
        Ok(Some(Event::Message(p))) => assert_eq!((p.pid, p.qos), (10, QoS::AtLeastOnce)),
        other => panic!("{other:?}"),
    }
    assert!(tx.is_empty(), "no ack before the application has it");
    assert_eq!(s.unacked_len(), 1);
    s.ack(T0, 10, &mut tx).unwrap();
    assert_eq!(take(&mut tx), [0x40, 0x02, 0x00, 0x0a]); // PUBACK id 10
    s.ack(T0, 10, &mut tx).unwrap();
    assert!(tx.is_empty(), "acked once only");
    assert_eq!(s.unacked_len(), 0);
}

/// After its PUBACK, a QoS 1 id is a new publication whatever its DUP
/// flag [MQTT-4.3.2-2]: the same id again is delivered and acked again.
#[test]
fn qos1_same_id_again_is_a_new_message() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let mut dup = PUBLISH_QOS1_ID10.to_vec();
    dup[0] |= 0x08; // DUP
    for packet in [PUBLISH_QOS1_ID10, &dup[..], PUBLISH_QOS1_ID10] {
        assert!(matches!(
            feed(&mut s, T0, packet, &mut tx),
            Ok(Some(Event::Message(_)))
        ));
        s.ack(T0, 10, &mut tx).unwrap();
        assert_eq!(take(&mut tx), [0x40, 0x02, 0x00, 0x0a]); // PUBACK id 10
    }
}

#[test]
fn receive_qos2_exactly_once() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS2_ID11, &mut tx),
        Ok(Some(Event::Message(_)))
    ));
    assert!(tx.is_empty(), "no PUBREC before the application has it");
    s.ack(T0, 11, &mut tx).unwrap();
    assert_eq!(take(&mut tx), [0x50, 0x02, 0x00, 0x0b]); // PUBREC id 11
                                                         // The broker resends before seeing our PUBREC: ack, do not deliver.
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS2_ID11_DUP, &mut tx),
        Ok(None)
    ));
    assert_eq!(take(&mut tx), [0x50, 0x02, 0x00, 0x0b]); // PUBREC id 11
    assert!(matches!(
        feed(&mut s, T0, &[0x62, 0x02, 0x00, 0x0b], &mut tx), // PUBREL id 11
        Ok(None)
    ));
    assert_eq!(take(&mut tx), [0x70, 0x02, 0x00, 0x0b]); // PUBCOMP id 11
                                                         // After the release, id 11 is a new message.
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS2_ID11, &mut tx),
        Ok(Some(Event::Message(_)))
    ));
    take(&mut tx);
}

#[test]
fn pubrel_unknown_still_answered() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    assert!(matches!(
        feed(&mut s, T0, &[0x62, 0x02, 0x12, 0x34], &mut tx), // PUBREL id 0x1234
        Ok(None)
    ));
    assert_eq!(take(&mut tx), [0x70, 0x02, 0x12, 0x34]); // PUBCOMP id 0x1234
}

/// Sets the packet id of a PUBLISH fixture (topic "a/b").
fn with_pid(publish: &[u8], pid: u16) -> std::vec::Vec<u8> {
    let mut p = publish.to_vec();
    p[7..9].copy_from_slice(&pid.to_be_bytes()); // packet id
    p
}

/// Feeds a QoS 2 PUBLISH with id `pid`, delivers and acks it: PUBREC.
fn receive_qos2(s: &mut Session, pid: u16, tx: &mut TxBuf<'_>) {
    let publish = with_pid(PUBLISH_QOS2_ID11, pid);
    assert!(matches!(
        feed(s, T0, &publish, tx),
        Ok(Some(Event::Message(_)))
    ));
    s.ack(T0, pid, tx).unwrap();
    let pubrec = [0x50, 0x02, (pid >> 8) as u8, pid as u8]; // PUBREC
    assert_eq!(take(tx), pubrec);
}

/// A broker may keep any number of QoS 2 messages unreleased: no held
/// id is ever forgotten.  Beyond the inline set the session asks for
/// the bitmap (HeldFull, nothing delivered nor acked) and, with it,
/// holds every id of the space.
#[test]
fn held_ids_exact_over_the_whole_id_space() {
    let mut mem = [0u8; 64];
    let mut bits = std::vec![0u8; HELD_BITMAP_BYTES];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    for pid in 1..INLINE_HELD as u16 {
        receive_qos2(&mut s, pid, &mut tx);
    }
    // The last inline place is reserved by a message still with the
    // application: one more cannot be delivered.
    let last = INLINE_HELD as u16;
    assert!(feed(&mut s, T0, &with_pid(PUBLISH_QOS2_ID11, last), &mut tx).is_ok());
    let more = with_pid(PUBLISH_QOS2_ID11, 40_000);
    assert_eq!(
        feed(&mut s, T0, &more, &mut tx).map(|_| ()),
        Err(Error::HeldFull)
    );
    s.ack(T0, last, &mut tx).unwrap();
    take(&mut tx);
    assert_eq!(
        feed(&mut s, T0, &more, &mut tx).map(|_| ()),
        Err(Error::HeldFull)
    );
    assert!(tx.is_empty(), "refused: nothing acked");
    assert_eq!((s.held_len(), s.unacked_len()), (INLINE_HELD, 0));
    assert!(!s.held_bitmap_in_use());

    // With the bitmap, every other id of the space too.
    let mut tx = TxBuf::new(&mut mem, 0).with_held_bitmap(&mut bits);
    for pid in (INLINE_HELD as u16 + 1)..=u16::MAX {
        receive_qos2(&mut s, pid, &mut tx);
    }
    assert_eq!(s.held_len(), 65_535);
    assert!(s.held_bitmap_in_use());
    for pid in [1, last, last + 1, 40_000, u16::MAX] {
        let resend = with_pid(PUBLISH_QOS2_ID11_DUP, pid);
        assert!(
            matches!(feed(&mut s, T0, &resend, &mut tx), Ok(None)),
            "resend of held id {pid} not delivered again"
        );
        take(&mut tx);
    }
    // PUBREL releases: the same id is a new message after it.
    for pid in 1..=u16::MAX {
        feed(
            &mut s,
            T0,
            &[0x62, 0x02, (pid >> 8) as u8, pid as u8],
            &mut tx,
        )
        .unwrap();
        take(&mut tx);
    }
    assert_eq!(s.held_len(), 0);
    assert!(!s.held_bitmap_in_use(), "the bitmap may be taken back");
    receive_qos2(&mut s, 1, &mut tx);
}

/// A message the application could not take is not acknowledged and a
/// QoS 2 id is not held: the broker's resend is delivered again.
#[test]
fn abandoned_message_is_not_acked_and_comes_again() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = persistent(&mut tx);
    for publish in [PUBLISH_QOS1_ID10, PUBLISH_QOS2_ID11] {
        let Ok(Some(Event::Message(p))) = feed(&mut s, T0, publish, &mut tx) else {
            panic!("not delivered");
        };
        s.abandon(p.pid);
    }
    assert!(tx.is_empty(), "nothing acknowledged");
    assert_eq!((s.unacked_len(), s.held_len()), (0, 0));
    reconnect(&mut s, CONNACK_PRESENT, &mut tx);
    for (publish, ack) in [
        (PUBLISH_QOS1_ID10, [0x40, 0x02, 0x00, 0x0a]), // PUBACK id 10
        (PUBLISH_QOS2_ID11_DUP, [0x50, 0x02, 0x00, 0x0b]), // PUBREC id 11
    ] {
        let mut resend = publish.to_vec();
        resend[0] |= 0x08; // DUP
        let Ok(Some(Event::Message(p))) = feed(&mut s, T0, &resend, &mut tx) else {
            panic!("not delivered again");
        };
        s.ack(T0, p.pid, &mut tx).unwrap();
        assert_eq!(take(&mut tx), ack);
    }
}

/// An ack that does not fit is owed, never lost nor failed: packets
/// that need no room are handled meanwhile, and it goes out first once
/// there is room.
#[test]
fn ack_without_room_is_owed() {
    let mut mem = [0u8; 16];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    assert!(feed(&mut s, T0, PUBLISH_QOS1_ID10, &mut tx).is_ok());
    tx.push(&Packet::Publish(Publish {
        topic: "f",
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        pid: 0,
        payload: b"0123456789",
    }))
    .unwrap();
    assert_eq!(tx.free(), 1);
    s.ack(T0, 10, &mut tx).unwrap();
    assert_eq!(tx.len(), 15, "owed, not queued");
    assert!(matches!(
        feed(&mut s, T0, PINGRESP, &mut tx),
        Ok(Some(Event::Pong))
    ));
    assert!(
        matches!(
            feed(&mut s, T0, PUBLISH_QOS0, &mut tx),
            Ok(Some(Event::Message(_)))
        ),
        "a message is delivered while the ack waits"
    );
    assert_eq!(tx.len(), 15, "still owed");
    tx.consume(15);
    assert!(matches!(
        feed(&mut s, T0, PINGRESP, &mut tx),
        Ok(Some(Event::Pong))
    ));
    assert_eq!(take(&mut tx), [0x40, 0x02, 0x00, 0x0a]); // PUBACK id 10
    assert_eq!(s.unacked_len(), 0);
}

/// An ack of a message from an earlier connection goes out on the
/// current one (the broker's session still has it under that id); one
/// given while no connection is open is owed until one is.  After the
/// broker lost the session nothing is acknowledged.
#[test]
fn ack_after_reconnect() {
    let (mut mem, mut store) = ([0u8; 128], [0u8; 128]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = persistent(&mut tx);
    assert!(feed(&mut s, T0, PUBLISH_QOS1_ID10, &mut tx).is_ok());
    assert!(feed(&mut s, T0, PUBLISH_QOS2_ID11, &mut tx).is_ok());
    s.connection_lost();
    s.ack(T0, 11, &mut tx).unwrap();
    assert!(tx.is_empty(), "no connection: owed");
    reconnect(&mut s, CONNACK_PRESENT, &mut tx);
    s.ack(T0, 10, &mut tx).unwrap();
    assert_eq!(take(&mut tx), [0x40, 0x02, 0x00, 0x0a]); // PUBACK id 10
    s.poll(T0, &mut tx).unwrap();
    assert_eq!(take(&mut tx), [0x50, 0x02, 0x00, 0x0b]); // PUBREC id 11, owed
    assert!(
        matches!(feed(&mut s, T0, PUBLISH_QOS2_ID11_DUP, &mut tx), Ok(None)),
        "held: the resend is acked, not delivered"
    );
    assert_eq!(take(&mut tx), [0x50, 0x02, 0x00, 0x0b]); // PUBREC id 11

    assert!(feed(&mut s, T0, PUBLISH_QOS1_ID10, &mut tx).is_ok());
    reconnect(&mut s, CONNACK_OK, &mut tx);
    s.ack(T0, 10, &mut tx).unwrap();
    assert!(tx.is_empty(), "a new session: no stray PUBACK");
    assert_eq!((s.held_len(), s.unacked_len()), (0, 0));
}

/// A resend that arrives while the first copy is still with the
/// application (a callback that reconnects, say) is not delivered twice.
#[test]
fn qos2_resend_while_delivering() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = persistent(&mut tx);
    assert!(feed(&mut s, T0, PUBLISH_QOS2_ID11, &mut tx).is_ok());
    reconnect(&mut s, CONNACK_PRESENT, &mut tx);
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS2_ID11_DUP, &mut tx),
        Ok(None)
    ));
    assert!(tx.is_empty(), "its ack is the first copy's to give");
    s.ack(T0, 11, &mut tx).unwrap();
    assert_eq!(take(&mut tx), [0x50, 0x02, 0x00, 0x0b]); // PUBREC id 11
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS2_ID11_DUP, &mut tx),
        Ok(None)
    ));
    assert_eq!(take(&mut tx), [0x50, 0x02, 0x00, 0x0b]); // PUBREC id 11
}

/// `abandon_all` before reconnecting: the copy left with the
/// application is given up, so the broker's resend is delivered again
/// and acked on the connection it came on; an owed ack is kept.
#[test]
fn abandon_all_redelivers_the_resend() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = persistent(&mut tx);
    assert!(feed(&mut s, T0, PUBLISH_QOS2_ID11, &mut tx).is_ok());
    assert!(feed(&mut s, T0, PUBLISH_QOS1_ID10, &mut tx).is_ok());
    s.abandon_all();
    assert_eq!(s.unacked_len(), 0);
    assert!(tx.is_empty(), "nothing acknowledged");
    reconnect(&mut s, CONNACK_PRESENT, &mut tx);
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS2_ID11_DUP, &mut tx),
        Ok(Some(Event::Message(_)))
    ));
    s.ack(T0, 11, &mut tx).unwrap();
    assert_eq!(take(&mut tx), [0x50, 0x02, 0x00, 0x0b]); // PUBREC id 11

    // An ack owed for lack of room survives abandon_all.
    assert!(feed(&mut s, T0, PUBLISH_QOS1_ID10, &mut tx).is_ok());
    let free = tx.free();
    tx.push(&Packet::Publish(Publish {
        topic: "f",
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        pid: 0,
        payload: &[0u8; 64][..free - 6],
    }))
    .unwrap();
    assert_eq!(tx.free(), 1);
    s.ack(T0, 10, &mut tx).unwrap();
    s.abandon_all();
    assert_eq!(s.unacked_len(), 1, "owed, not abandoned");
    tx.consume(tx.len());
    assert!(matches!(feed(&mut s, T0, PINGRESP, &mut tx), Ok(Some(_))));
    assert_eq!(take(&mut tx), [0x40, 0x02, 0x00, 0x0a]); // PUBACK id 10
}

#[test]
fn too_many_unacked() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    for pid in 1..=MAX_UNACKED as u16 {
        assert!(feed(&mut s, T0, &with_pid(PUBLISH_QOS1_ID10, pid), &mut tx).is_ok());
    }
    let more = with_pid(PUBLISH_QOS1_ID10, 100);
    assert_eq!(
        feed(&mut s, T0, &more, &mut tx).map(|_| ()),
        Err(Error::TooManyUnacked)
    );
    assert!(
        matches!(feed(&mut s, T0, PUBLISH_QOS0, &mut tx), Ok(Some(_))),
        "QoS 0 needs no ack"
    );
    s.ack(T0, 3, &mut tx).unwrap();
    assert!(feed(&mut s, T0, &more, &mut tx).is_ok());
}

/// When the acks waiting for room fill the table, a new message waits
/// too (backpressure: TxFull), rather than failing the connection.
#[test]
fn owed_acks_fill_the_table_as_backpressure() {
    let mut mem = [0u8; 16];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    while tx.free() > 0 {
        tx.push(&Packet::Pingreq).unwrap(); // fill tx
    }
    for pid in 1..=MAX_UNACKED as u16 {
        assert!(feed(&mut s, T0, &with_pid(PUBLISH_QOS1_ID10, pid), &mut tx).is_ok());
        s.ack(T0, pid, &mut tx).unwrap();
    }
    let more = with_pid(PUBLISH_QOS1_ID10, 100);
    assert_eq!(
        feed(&mut s, T0, &more, &mut tx).map(|_| ()),
        Err(Error::TxFull { needed: 4 })
    );
    tx.consume(16);
    assert!(feed(&mut s, T0, &more, &mut tx).is_ok(), "acks went out");
    assert_eq!(&take(&mut tx)[..4], [0x40, 0x02, 0x00, 0x01]); // PUBACK id 1, first
}

/// A broker that answers QoS 2 with PUBACK (RabbitMQ 3.10) is told
/// apart from an unknown id.
#[test]
fn wrong_ack_kind_is_named() {
    use std::string::ToString;
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let pid = s
        .publish(T0, "t", b"", QoS::ExactlyOnce, false, &mut tx)
        .unwrap();
    let puback = [0x40, 0x02, 0x00, pid as u8]; // PUBACK
    let err = feed(&mut s, T0, &puback, &mut tx).unwrap_err();
    assert_eq!(
        err,
        Error::Protocol(ProtocolError::WrongAck {
            pid,
            got: PacketType::Puback,
            awaited: OutgoingFlow::AwaitPubrec
        })
    );
    assert!(err.is_fatal());
    assert_eq!(
        err.to_string(),
        "protocol violation by broker: broker acknowledged a QoS 2 publish (id 1) \
         with PUBACK: it does not support QoS 2"
    );
    let unknown = [0x40, 0x02, 0x00, 0x63]; // PUBACK id 99
    assert_eq!(
        feed(&mut s, T0, &unknown, &mut tx).unwrap_err(),
        Error::Protocol(ProtocolError::UnknownPacketId(99))
    );
}

/// A streamed payload: only the header is queued (its remaining length
/// counts the payload), nothing is stored, and the message is not resent
/// after a reconnect (it could not be).
#[test]
fn publish_streamed_is_header_only_and_not_stored() {
    let (mut mem, mut store) = ([0u8; 64], [0u8; 64]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = persistent(&mut tx);
    let pid = s
        .publish_streamed(T0, "a/b", 1000, QoS::AtLeastOnce, false, false, &mut tx)
        .unwrap();
    #[rustfmt::skip]
    assert_eq!(take(&mut tx), [
        0x32, 0xef, 0x07,             // PUBLISH QoS 1, remaining 2 + 3 + 2 + 1000 = 1007
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, pid as u8,              // packet id
    ]);
    assert_eq!(tx.store().used(), 0, "nothing stored");
    assert!(s.is_inflight(pid));
    assert!(
        reconnect(&mut s, CONNACK_PRESENT, &mut tx).is_empty(),
        "not resent"
    );
    assert!(!s.is_inflight(pid));
    s.set_max_packet_size(1000);
    assert_eq!(
        s.publish_streamed(T0, "a/b", 1000, QoS::AtMostOnce, false, false, &mut tx),
        Err(Error::TooLarge { size: 1008 })
    );
}

/// A streamed payload the caller can read again: its header is stored, and
/// the resend after a reconnect queues it with DUP and asks for the payload
/// again (the tail, naming the message), before anything else.
#[test]
fn resendable_stream_resent_with_its_payload_asked_again() {
    let (mut mem, mut store) = ([0u8; 64], [0u8; 64]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = persistent(&mut tx);
    let pid = s
        .publish_streamed(T0, "a/b", 1000, QoS::ExactlyOnce, false, true, &mut tx)
        .unwrap();
    let header = take(&mut tx);
    assert_eq!(tx.store().used(), header.len(), "the header is stored");
    s.connection_lost();
    s.connect(T0, &connect_packet(10, false), &mut tx).unwrap();
    take(&mut tx);
    feed(&mut s, T0, CONNACK_PRESENT, &mut tx).unwrap();
    let mut dup = header.clone();
    dup[0] |= 0x08; // DUP
    assert_eq!(take(&mut tx), dup);
    assert_eq!(tx.tail(), (1000, pid), "the payload again, from its start");
    assert_eq!(
        s.publish(T0, "t", b"", QoS::AtMostOnce, false, &mut tx),
        Err(Error::TxFull { needed: 5 }),
        "nothing behind the tail"
    );
    tx.set_tail(0, 0); // written
    s.publish(T0, "t", b"", QoS::AtMostOnce, false, &mut tx)
        .unwrap();
    feed(&mut s, T0, &[0x50, 0x02, 0x00, pid as u8], &mut tx).unwrap(); // PUBREC
    assert_eq!(tx.store().used(), 0);
}

#[test]
fn max_packet_size() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    s.set_max_packet_size(16);
    assert_eq!(s.max_packet_size(), 16);
    // 2 + 2 + 3 + 2 + 7 = 16 bytes: fits exactly; one more does not.
    s.publish(T0, "a/b", b"0123456", QoS::AtLeastOnce, false, &mut tx)
        .unwrap();
    take(&mut tx);
    assert_eq!(
        s.publish(T0, "a/b", b"01234567", QoS::AtLeastOnce, false, &mut tx),
        Err(Error::TooLarge { size: 17 })
    );
    assert!(tx.is_empty() && s.inflight_len() == 1, "nothing queued");
    assert_eq!(s.check_incoming_size(16), Ok(()));
    let err = s.check_incoming_size(17).unwrap_err();
    assert_eq!(err, Error::IncomingTooLarge { size: 17 });
    assert!(err.is_fatal());
    s.set_max_packet_size(0);
    assert_eq!(s.max_packet_size(), PROTOCOL_MAX_PACKET_SIZE);
}

#[test]
fn packet_id_wraps_around_inflight_id() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let held = s
        .publish(T0, "t", b"", QoS::AtLeastOnce, false, &mut tx)
        .unwrap();
    assert_eq!(held, 1);
    tx.consume(tx.len());
    let mut previous = held;
    let mut wrapped = false;
    for _ in 0..70_000 {
        let pid = s
            .publish(T0, "t", b"", QoS::AtLeastOnce, false, &mut tx)
            .unwrap();
        tx.consume(tx.len());
        assert_ne!(pid, 0);
        assert_ne!(pid, held, "an id in flight is never reused");
        if pid < previous {
            assert_eq!((previous, pid), (65535, 2), "wraps past 0 and the held id");
            wrapped = true;
        }
        previous = pid;
        let [hi, lo] = pid.to_be_bytes();
        let puback = [0x40, 0x02, hi, lo]; // PUBACK
        assert!(matches!(
            feed(&mut s, T0, &puback, &mut tx),
            Ok(Some(Event::Published { .. }))
        ));
    }
    assert!(wrapped);
    assert!(s.is_inflight(held));
    assert_eq!(s.inflight_len(), 1);
}

#[test]
fn inflight_full() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    assert_eq!(s.window(), DEFAULT_WINDOW);
    s.set_window(1000);
    assert_eq!(s.window(), MAX_INFLIGHT, "clamped");
    for _ in 0..MAX_INFLIGHT {
        s.publish(T0, "t", b"", QoS::ExactlyOnce, false, &mut tx)
            .unwrap();
        tx.consume(tx.len());
    }
    assert_eq!(
        s.publish(T0, "t", b"", QoS::AtLeastOnce, false, &mut tx),
        Err(Error::InflightFull)
    );
    assert!(tx.is_empty(), "nothing queued");
    assert_eq!(s.inflight_len(), MAX_INFLIGHT);
    assert_eq!(
        s.publish(T0, "t", b"", QoS::AtMostOnce, false, &mut tx),
        Ok(0),
        "QoS 0 is not limited"
    );
}

#[test]
fn pending_requests_full() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    for _ in 0..MAX_PENDING_ACKS {
        s.unsubscribe(T0, &["t"], &mut tx).unwrap();
        tx.consume(tx.len());
    }
    assert_eq!(s.unsubscribe(T0, &["t"], &mut tx), Err(Error::InflightFull));
    assert_eq!(
        s.subscribe(T0, &[("t", QoS::AtMostOnce)], &mut tx),
        Err(Error::InflightFull)
    );
}

#[test]
fn keepalive_ping_and_pong() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx); // keepalive 10 s, last sent at T0
    assert_eq!(s.poll_at(), Some(T0 + 5_000));
    s.poll(T0 + 4_999, &mut tx).unwrap();
    assert!(tx.is_empty(), "too early");
    s.poll(T0 + 5_000, &mut tx).unwrap();
    assert_eq!(take(&mut tx), PINGREQ);
    assert_eq!(s.poll_at(), Some(T0 + 15_000), "PINGRESP deadline");
    s.poll(T0 + 6_000, &mut tx).unwrap();
    assert!(tx.is_empty(), "one ping outstanding at a time");
    s.poll(T0 + 14_999, &mut tx).unwrap();
    assert!(matches!(
        feed(&mut s, T0 + 7_000, PINGRESP, &mut tx),
        Ok(Some(Event::Pong))
    ));
    assert_eq!(
        s.poll_at(),
        Some(T0 + 10_000),
        "half keepalive after the PINGREQ"
    );
    // Sending anything postpones the next ping.
    s.publish(T0 + 8_000, "t", b"", QoS::AtMostOnce, false, &mut tx)
        .unwrap();
    take(&mut tx);
    assert_eq!(s.poll_at(), Some(T0 + 13_000));
    s.poll(T0 + 12_999, &mut tx).unwrap();
    assert!(tx.is_empty());
}

#[test]
fn keepalive_timeout() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    s.poll(T0 + 5_000, &mut tx).unwrap();
    assert_eq!(take(&mut tx), PINGREQ);
    s.poll(T0 + 14_999, &mut tx).unwrap();
    let err = s.poll(T0 + 15_000, &mut tx).unwrap_err();
    assert_eq!(err, Error::KeepaliveTimeout);
    assert!(err.is_fatal());
    s.connection_lost();
    assert!(!s.is_connected());
    assert_eq!(s.poll_at(), None);
    s.poll(T0 + 99_000, &mut tx).unwrap();
}

#[test]
fn short_keepalive_has_minimum_ping_timeout() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    s.connect(T0, &connect_packet(1, true), &mut tx).unwrap();
    feed(&mut s, T0, CONNACK_OK, &mut tx).unwrap();
    take(&mut tx);
    assert_eq!(s.poll_at(), Some(T0 + 500));
    s.poll(T0 + 500, &mut tx).unwrap();
    assert_eq!(take(&mut tx), PINGREQ);
    assert_eq!(s.poll_at(), Some(T0 + 500 + MIN_PING_TIMEOUT_MS));
}

#[test]
fn keepalive_zero_disables_pings() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    s.connect(T0, &connect_packet(0, true), &mut tx).unwrap();
    feed(&mut s, T0, CONNACK_OK, &mut tx).unwrap();
    take(&mut tx);
    assert_eq!(s.poll_at(), None);
    s.poll(u64::MAX, &mut tx).unwrap();
    assert!(tx.is_empty());
    // A manual ping is timed with the connect timeout.
    s.ping(T0, &mut tx).unwrap();
    assert_eq!(take(&mut tx), PINGREQ);
    assert_eq!(s.poll_at(), Some(T0 + DEFAULT_CONNECT_TIMEOUT_MS));
    assert!(matches!(
        feed(&mut s, T0, PINGRESP, &mut tx),
        Ok(Some(Event::Pong))
    ));
    assert_eq!(s.poll_at(), None);
}

#[test]
fn connack_timeout() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    assert_eq!(s.poll_at(), None);
    s.connect(T0, &connect_packet(10, true), &mut tx).unwrap();
    assert_eq!(s.poll_at(), Some(T0 + 10_000));
    s.poll(T0 + 9_999, &mut tx).unwrap();
    assert_eq!(s.poll(T0 + 10_000, &mut tx), Err(Error::KeepaliveTimeout));
    s.set_connect_timeout(0);
    assert_eq!(s.connect_timeout(), 0);
    assert_eq!(s.poll_at(), None);
    s.poll(u64::MAX, &mut tx).unwrap();
}

#[test]
fn time_never_overflows() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    s.connect(u64::MAX - 1, &connect_packet(u16::MAX, true), &mut tx)
        .unwrap();
    assert_eq!(s.poll_at(), Some(u64::MAX));
    feed(&mut s, u64::MAX, CONNACK_OK, &mut tx).unwrap();
    assert_eq!(s.poll_at(), Some(u64::MAX));
    s.poll(0, &mut tx).unwrap(); // time going backwards is no error
    s.poll(u64::MAX, &mut tx).unwrap();
}

#[test]
fn tx_full_leaves_state_unchanged() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    // Outgoing QoS 2 to have a PUBREC to answer.
    let pid = s
        .publish(T0, "a/b", b"", QoS::ExactlyOnce, false, &mut tx)
        .unwrap();
    take(&mut tx);
    // Fill the buffer, leaving 1 byte: no ack (2 or 4 bytes) fits.
    let filler = [0u8; 63];
    tx.push(&Packet::Publish(Publish {
        topic: "f",
        qos: QoS::AtMostOnce,
        retain: false,
        dup: false,
        pid: 0,
        payload: &filler[..63 - 5],
    }))
    .unwrap();
    assert_eq!(tx.free(), 1);
    let full = Err(Error::TxFull { needed: 4 });

    // A new message needs no room: its ack comes from the application
    // and is owed until there is room; publishes and pings wait for it.
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS1_ID10, &mut tx),
        Ok(Some(Event::Message(_)))
    ));
    s.ack(T0, 10, &mut tx).unwrap();
    let pubrec = [0x50, 0x02, 0x00, 0x01]; // PUBREC id 1
    assert_eq!(feed(&mut s, T0, &pubrec, &mut tx).map(|_| ()), full);
    assert_eq!(s.outgoing_flow(pid), Some(OutgoingFlow::AwaitPubrec));
    assert_eq!(
        feed(&mut s, T0, &[0x62, 0x02, 0x00, 0x0b], &mut tx).map(|_| ()), // PUBREL id 11
        full
    );
    assert_eq!(
        s.publish(T0, "a/b", b"", QoS::AtLeastOnce, false, &mut tx)
            .map(|_| ()),
        full,
        "the owed ack goes before a publish"
    );
    assert_eq!(s.inflight_len(), 1);
    assert_eq!(
        s.subscribe(T0, &[("a", QoS::AtMostOnce)], &mut tx),
        Err(Error::TxFull { needed: 8 })
    );
    assert_eq!(s.poll(T0 + 5_000, &mut tx), full, "and before a ping");
    assert_eq!(s.poll_at(), Some(T0 + 5_000), "no ping recorded");
    assert_eq!(tx.len(), 63, "nothing was written");

    // Flush and retry: every operation now goes through.
    tx.consume(63);
    s.poll(T0 + 5_000, &mut tx).unwrap();
    // The owed ack goes out; it is traffic, so no ping is due.
    assert_eq!(take(&mut tx), [0x40, 0x02, 0x00, 0x0a]); // PUBACK id 10
    assert_eq!(s.poll_at(), Some(T0 + 10_000));
    assert!(
        matches!(
            feed(&mut s, T0, PUBLISH_QOS2_ID11, &mut tx),
            Ok(Some(Event::Message(_))),
        ),
        "id 11 is delivered once the owed ack went out"
    );
    s.ack(T0, 11, &mut tx).unwrap();
    assert!(matches!(feed(&mut s, T0, &pubrec, &mut tx), Ok(None)));
    #[rustfmt::skip]
    assert_eq!(take(&mut tx), [
        0x50, 0x02, 0x00, 0x0b, // PUBREC id 11
        0x62, 0x02, 0x00, 0x01, // PUBREL id 1
    ]);
    let next = s
        .publish(T0, "a/b", b"", QoS::AtLeastOnce, false, &mut tx)
        .unwrap();
    assert_eq!(next, 2, "the refused publish did not use an id");
}

#[test]
fn subscribe_unsubscribe_flows() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let pid = s
        .subscribe(
            T0,
            &[("a/#", QoS::AtLeastOnce), ("b", QoS::ExactlyOnce)],
            &mut tx,
        )
        .unwrap();
    assert_eq!(pid, 1);
    #[rustfmt::skip]
    assert_eq!(take(&mut tx), [
        0x82, 0x0c,                         // SUBSCRIBE, remaining 12
        0x00, 0x01,                         // packet id 1
        0x00, 0x03, b'a', b'/', b'#', 0x01, // "a/#" QoS 1
        0x00, 0x01, b'b', 0x02,             // "b" QoS 2
    ]);
    // The ids of requests and publishes never collide.
    let pub_pid = s
        .publish(T0, "t", b"", QoS::AtLeastOnce, false, &mut tx)
        .unwrap();
    assert_eq!(pub_pid, 2);
    take(&mut tx);
    assert_eq!(
        feed(&mut s, T0, &[0xb0, 0x02, 0x00, 0x01], &mut tx).unwrap_err(), // UNSUBACK id 1
        Error::Protocol(ProtocolError::UnknownPacketId(1)),
        "id 1 awaits a SUBACK, not an UNSUBACK"
    );
    let suback = [0x90, 0x04, 0x00, 0x01, 0x01, 0x80]; // SUBACK id 1: QoS 1, failure
    match feed(&mut s, T0, &suback, &mut tx) {
        Ok(Some(Event::Subscribed { pid, return_codes })) => {
            assert_eq!((pid, return_codes), (1, &[0x01, 0x80][..]));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        feed(&mut s, T0, &suback, &mut tx).unwrap_err(),
        Error::Protocol(ProtocolError::UnknownPacketId(1))
    );

    let pid = s.unsubscribe(T0, &["a/#"], &mut tx).unwrap();
    assert_eq!(pid, 3);
    #[rustfmt::skip]
    assert_eq!(take(&mut tx), [
        0xa2, 0x07,                   // UNSUBSCRIBE, remaining 7
        0x00, 0x03,                   // packet id 3
        0x00, 0x03, b'a', b'/', b'#', // "a/#"
    ]);
    assert!(matches!(
        feed(&mut s, T0, &[0xb0, 0x02, 0x00, 0x03], &mut tx), // UNSUBACK id 3
        Ok(Some(Event::Unsubscribed { pid: 3 }))
    ));
}

#[test]
fn invalid_topics_rejected() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    assert_eq!(
        s.publish(T0, "a/+", b"", QoS::AtLeastOnce, false, &mut tx),
        Err(Error::Encode(EncodeError::InvalidTopic(
            TopicError::Wildcard
        )))
    );
    assert_eq!(
        s.subscribe(T0, &[("a/#/b", QoS::AtMostOnce)], &mut tx),
        Err(Error::Encode(EncodeError::InvalidTopic(
            TopicError::BadFilter
        )))
    );
    assert_eq!(
        s.unsubscribe(T0, &[""], &mut tx),
        Err(Error::Encode(EncodeError::InvalidTopic(TopicError::Empty)))
    );
    assert_eq!(
        s.subscribe(T0, &[], &mut tx),
        Err(Error::Encode(EncodeError::EmptyList))
    );
    assert!(tx.is_empty());
    assert_eq!(s.inflight_len(), 0);
    assert_eq!(
        s.publish(T0, "ok", b"", QoS::AtLeastOnce, false, &mut tx),
        Ok(1),
        "no id was used"
    );
}

#[test]
fn unexpected_packets() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    #[rustfmt::skip]
    let cases: [(&[u8], PacketType); 5] = [
        (CONNECT_KA10, PacketType::Connect),
        (&[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x00], PacketType::Subscribe), // SUBSCRIBE "a"
        (&[0xa2, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'], PacketType::Unsubscribe), // UNSUBSCRIBE "a"
        (PINGREQ, PacketType::Pingreq),
        (&[0xe0, 0x00], PacketType::Disconnect), // DISCONNECT
    ];
    for (bytes, ty) in cases {
        assert_eq!(
            feed(&mut s, T0, bytes, &mut tx).unwrap_err(),
            Error::Protocol(ProtocolError::UnexpectedPacket(ty))
        );
    }
    assert!(tx.is_empty());
}

#[test]
fn durable_state_survives_connection_loss() {
    let mut mem = [0u8; 64];
    let mut store = [0u8; 64];
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = connected(&mut tx);
    let pid = s
        .publish(T0, "t", b"", QoS::AtLeastOnce, false, &mut tx)
        .unwrap();
    feed(&mut s, T0, PUBLISH_QOS2_ID11, &mut tx).unwrap();
    take(&mut tx);
    s.connection_lost();
    assert!(!s.is_connected());
    assert!(s.is_inflight(pid));

    // Resume the session: everything kept.
    s.connect(T0, &connect_packet(10, false), &mut tx).unwrap();
    feed(&mut s, T0, CONNACK_PRESENT, &mut tx).unwrap();
    take(&mut tx);
    assert!(s.is_inflight(pid));
    assert!(
        matches!(feed(&mut s, T0, PUBLISH_QOS2_ID11_DUP, &mut tx), Ok(None)),
        "still held: not delivered twice across reconnects"
    );
    take(&mut tx);

    // The broker lost the session: the held QoS 2 ids go.
    s.connection_lost();
    s.connect(T0, &connect_packet(10, false), &mut tx).unwrap();
    feed(&mut s, T0, CONNACK_OK, &mut tx).unwrap();
    take(&mut tx);
    assert!(s.is_inflight(pid));
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS2_ID11, &mut tx),
        Ok(Some(Event::Message(_)))
    ));
    take(&mut tx);

    // A clean session forgets everything.
    s.connection_lost();
    s.connect(T0, &connect_packet(10, true), &mut tx).unwrap();
    assert_eq!(s.inflight_len(), 0);
}

#[test]
fn disconnect() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    assert_eq!(s.disconnect(&mut tx), Err(Error::NotConnected));
    let mut s2 = connected(&mut tx);
    s2.disconnect(&mut tx).unwrap();
    assert_eq!(take(&mut tx), [0xe0, 0x00]); // DISCONNECT
    assert!(!s2.is_connected());
    assert_eq!(s2.poll_at(), None);
    s = s2;
    assert_eq!(s.ping(T0, &mut tx), Err(Error::NotConnected));
}

#[test]
fn publish_header_streams_payload() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let payload = [0x5a; 200];
    let pid = s
        .publish_header(T0, "a/b", &payload, QoS::AtLeastOnce, false, &mut tx)
        .unwrap();
    assert_eq!(pid, 1);
    assert!(s.is_inflight(1));
    #[rustfmt::skip]
    let expected = [
        0x32, 0xcf, 0x01,             // PUBLISH QoS 1, remaining 207 (2-byte varint)
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x01,                   // packet id 1
    ];
    assert_eq!(take(&mut tx), expected);
    // Same bytes as the start of the whole packet.
    let whole = Packet::Publish(Publish {
        topic: "a/b",
        qos: QoS::AtLeastOnce,
        retain: false,
        dup: false,
        pid: 1,
        payload: &payload,
    });
    let mut buf = [0u8; 256];
    let n = whole.encode(&mut buf).unwrap();
    assert_eq!(&buf[..expected.len()], expected);
    assert_eq!(n, expected.len() + 200);

    // A small payload keeps a 1-byte length.
    s.publish_header(T0, "a/b", b"hi", QoS::AtMostOnce, true, &mut tx)
        .unwrap();
    // PUBLISH retain, remaining 7
    assert_eq!(take(&mut tx), [0x31, 0x07, 0x00, 0x03, b'a', b'/', b'b']);
    // It is refused as a whole when it does not fit.
    let mut small = [0u8; 4];
    let mut tx_small = TxBuf::new(&mut small, 0);
    assert_eq!(
        s.publish_header(
            T0,
            "a/b",
            &[0; 100_000],
            QoS::AtMostOnce,
            false,
            &mut tx_small
        ),
        Err(Error::TxFull { needed: 9 })
    );
    assert!(tx_small.is_empty());
}

/// A session with a store (keepalive 10 s, clean_session = false) whose
/// CONNACK was accepted at `T0`.
fn persistent<'a>(tx: &mut TxBuf<'a>) -> Session {
    let mut s = Session::new();
    s.connect(T0, &connect_packet(10, false), tx).unwrap();
    tx.consume(tx.len());
    feed(&mut s, T0, CONNACK_OK, tx).unwrap();
    s
}

/// Drops the connection and reconnects with clean_session = false; the
/// broker answers `connack`.  Returns what the session queued after the
/// CONNACK (the resends).
fn reconnect(s: &mut Session, connack: &[u8], tx: &mut TxBuf<'_>) -> std::vec::Vec<u8> {
    s.connection_lost();
    tx.consume(tx.len());
    s.connect(T0 + 100, &connect_packet(10, false), tx).unwrap();
    tx.consume(tx.len());
    assert!(matches!(
        feed(s, T0 + 100, connack, tx),
        Ok(Some(Event::Connected { .. }))
    ));
    take(tx)
}

#[rustfmt::skip]
const PUB_Q1_ID1: &[u8] = &[
    0x32, 0x07,             // PUBLISH QoS 1, remaining 7
    0x00, 0x01, b't',       // topic "t"
    0x00, 0x01,             // packet id 1
    b'x', b'y',             // payload "xy"
];
#[rustfmt::skip]
const PUB_Q2_ID2: &[u8] = &[
    0x34, 0x06,             // PUBLISH QoS 2, remaining 6
    0x00, 0x01, b't',       // topic "t"
    0x00, 0x02,             // packet id 2
    b'z',                   // payload "z"
];

/// A resent PUBLISH: the original bytes with DUP (bit 3) set.
fn dup(packet: &[u8]) -> std::vec::Vec<u8> {
    let mut v = packet.to_vec();
    v[0] |= 0x08;
    v
}

#[test]
fn resend_qos1_and_qos2_publish_sent() {
    let (mut mem, mut store) = ([0u8; 128], [0u8; 128]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = persistent(&mut tx);
    assert_eq!(
        s.publish(T0, "t", b"xy", QoS::AtLeastOnce, false, &mut tx),
        Ok(1)
    );
    assert_eq!(
        s.publish(T0, "t", b"z", QoS::ExactlyOnce, false, &mut tx),
        Ok(2)
    );
    assert_eq!(take(&mut tx), [PUB_Q1_ID1, PUB_Q2_ID2].concat());
    assert_eq!(tx.store().used(), PUB_Q1_ID1.len() + PUB_Q2_ID2.len());

    // Nothing is retransmitted within a live connection.
    s.poll(T0 + 60_000, &mut tx).unwrap();
    assert_eq!(take(&mut tx), PINGREQ, "only the keepalive ping");

    // Same ids, original order, DUP set [MQTT-4.4.0-1, MQTT-3.3.1-1].
    let resent = reconnect(&mut s, CONNACK_PRESENT, &mut tx);
    assert_eq!(resent, [dup(PUB_Q1_ID1), dup(PUB_Q2_ID2)].concat());

    // Acks end the flows and free the store.
    feed(&mut s, T0, &[0x40, 0x02, 0x00, 0x01], &mut tx).unwrap(); // PUBACK 1
    assert_eq!(tx.store().used(), PUB_Q2_ID2.len());
    feed(&mut s, T0, &[0x50, 0x02, 0x00, 0x02], &mut tx).unwrap(); // PUBREC 2
    assert_eq!(take(&mut tx), [0x62, 0x02, 0x00, 0x02]); // PUBREL 2
    assert_eq!(
        tx.store().used(),
        0,
        "PUBREC: the PUBLISH is no longer needed"
    );
    assert!(matches!(
        feed(&mut s, T0, &[0x70, 0x02, 0x00, 0x02], &mut tx), // PUBCOMP 2
        Ok(Some(Event::Published { pid: 2 }))
    ));
    assert_eq!(s.inflight_len(), 0);
}

#[test]
fn resend_pubrel_after_pubrec() {
    let (mut mem, mut store) = ([0u8; 128], [0u8; 128]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = persistent(&mut tx);
    s.publish(T0, "t", b"xy", QoS::ExactlyOnce, false, &mut tx)
        .unwrap(); // id 1
    s.publish(T0, "t", b"z", QoS::ExactlyOnce, false, &mut tx)
        .unwrap(); // id 2
    take(&mut tx);
    // PUBREC for 2 first, then 1: PUBRELs go in PUBREC order [MQTT-4.6.0-4].
    feed(&mut s, T0, &[0x50, 0x02, 0x00, 0x02], &mut tx).unwrap();
    feed(&mut s, T0, &[0x50, 0x02, 0x00, 0x01], &mut tx).unwrap();
    take(&mut tx);
    let resent = reconnect(&mut s, CONNACK_PRESENT, &mut tx);
    assert_eq!(
        resent,
        [
            0x62, 0x02, 0x00, 0x02, // PUBREL 2 (no DUP flag on PUBREL)
            0x62, 0x02, 0x00, 0x01, // PUBREL 1
        ]
    );
    assert_eq!(s.outgoing_flow(1), Some(OutgoingFlow::AwaitPubcomp));
}

#[test]
fn resend_waits_for_tx_space_and_goes_before_new_publishes() {
    let (mut mem, mut store) = ([0u8; 16], [0u8; 128]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = persistent(&mut tx);
    s.publish(T0, "t", b"xy", QoS::AtLeastOnce, false, &mut tx)
        .unwrap(); // 9 bytes, id 1
    take(&mut tx);
    s.publish(T0, "t", b"z", QoS::ExactlyOnce, false, &mut tx)
        .unwrap(); // 8 bytes, id 2
    take(&mut tx);
    // Only the first resend fits the 16-byte tx buffer at CONNACK.
    assert_eq!(reconnect(&mut s, CONNACK_PRESENT, &mut tx), dup(PUB_Q1_ID1));
    // A new publish goes behind the second one.
    assert_eq!(
        s.publish(T0, "t", b"w", QoS::AtMostOnce, false, &mut tx),
        Ok(0)
    );
    let qos0 = [0x30, 0x04, 0x00, 0x01, b't', b'w']; // PUBLISH QoS 0 "t" "w"
    assert_eq!(take(&mut tx), [&dup(PUB_Q2_ID2)[..], &qos0].concat());

    // Again, without flushing after the CONNACK: the pending resend does
    // not fit beside the first, so the publish is refused (flush, retry).
    s.connection_lost();
    tx.consume(tx.len());
    s.connect(T0, &connect_packet(10, false), &mut tx).unwrap();
    tx.consume(tx.len());
    feed(&mut s, T0, CONNACK_PRESENT, &mut tx).unwrap();
    assert_eq!(
        s.publish(T0, "t", b"w", QoS::AtMostOnce, false, &mut tx),
        Err(Error::TxFull { needed: 8 })
    );
    assert_eq!(take(&mut tx), dup(PUB_Q1_ID1));
    s.publish(T0, "t", b"w", QoS::AtMostOnce, false, &mut tx)
        .unwrap();
    assert_eq!(take(&mut tx), [&dup(PUB_Q2_ID2)[..], &qos0].concat());
}

#[test]
fn receiving_side_pubrec_sent_survives_reconnect() {
    let (mut mem, mut store) = ([0u8; 128], [0u8; 128]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = persistent(&mut tx);
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS2_ID11, &mut tx),
        Ok(Some(Event::Message(_)))
    ));
    s.ack(T0, 11, &mut tx).unwrap();
    assert_eq!(take(&mut tx), [0x50, 0x02, 0x00, 0x0b]); // PUBREC 11
    assert!(reconnect(&mut s, CONNACK_PRESENT, &mut tx).is_empty());
    // The broker resends the PUBLISH (its PUBREC was lost): acked, not
    // delivered twice.
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS2_ID11_DUP, &mut tx),
        Ok(None)
    ));
    assert_eq!(take(&mut tx), [0x50, 0x02, 0x00, 0x0b]);
    feed(&mut s, T0, &[0x62, 0x02, 0x00, 0x0b], &mut tx).unwrap(); // PUBREL 11
    assert_eq!(take(&mut tx), [0x70, 0x02, 0x00, 0x0b]); // PUBCOMP 11
                                                         // Released: the same id is a new message now.
    assert!(matches!(
        feed(&mut s, T0, PUBLISH_QOS2_ID11, &mut tx),
        Ok(Some(Event::Message(_)))
    ));
}

#[test]
fn store_bounds_bytes_in_flight() {
    let (mut mem, mut store) = ([0u8; 64], [0u8; 12]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = persistent(&mut tx);
    s.publish(T0, "t", b"xy", QoS::AtLeastOnce, false, &mut tx)
        .unwrap(); // 9 bytes stored
    assert_eq!(
        s.publish(T0, "t", b"xy", QoS::AtLeastOnce, false, &mut tx),
        Err(Error::StoreFull { needed: 9 }),
        "wait for an ack"
    );
    assert_eq!(
        s.publish(T0, "t", &[0; 20], QoS::AtLeastOnce, false, &mut tx),
        Err(Error::StoreFull { needed: 27 }),
        "larger than the whole store"
    );
    assert_eq!(s.inflight_len(), 1);
    feed(&mut s, T0, &[0x40, 0x02, 0x00, 0x01], &mut tx).unwrap(); // PUBACK 1
    assert_eq!(
        s.publish(T0, "t", b"xy", QoS::AtLeastOnce, false, &mut tx),
        Ok(2)
    );
    // QoS 0 is never stored.
    s.publish(T0, "t", &[0; 20], QoS::AtMostOnce, false, &mut tx)
        .unwrap();
    assert_eq!(tx.store().used(), 9);
}

#[test]
fn clean_session_and_no_store_resend_nothing() {
    let (mut mem, mut store) = ([0u8; 128], [0u8; 128]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = persistent(&mut tx);
    s.publish(T0, "t", b"xy", QoS::AtLeastOnce, false, &mut tx)
        .unwrap();
    s.connection_lost();
    s.connect(T0, &connect_packet(10, true), &mut tx).unwrap();
    assert_eq!((s.inflight_len(), tx.store().used()), (0, 0));

    // Without a store a message in flight cannot be resent: dropped.
    let mut mem2 = [0u8; 128];
    let mut tx2 = TxBuf::new(&mut mem2, 0);
    let mut s2 = persistent(&mut tx2);
    s2.publish(T0, "t", b"xy", QoS::AtLeastOnce, false, &mut tx2)
        .unwrap();
    assert!(reconnect(&mut s2, CONNACK_PRESENT, &mut tx2).is_empty());
    assert_eq!(s2.inflight_len(), 0);
}
