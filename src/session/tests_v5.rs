//! Unit tests of the session in MQTT 5 (the `mqtt5` feature): annotated
//! byte fixtures for CONNECT's properties, the CONNACK limits, reason codes
//! on acks and DISCONNECT, and incoming PUBLISH properties; and the same
//! bytes through a 3.1.1 session where behaviour differs.

use super::tests::take;
use super::*;
use crate::wire::{
    v5, ConnectReturnCode, PacketType, Properties, Property, PropertyId, ReasonCode, Version, Will,
};
use std::string::String;

const T0: u64 = 1_000;

/// A clean CONNECT for client "c", keepalive 10 s.
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

/// Parses one whole packet in the session's version and hands it over.
fn feed<'p>(
    s: &mut Session,
    bytes: &'p [u8],
    tx: &mut TxBuf<'_>,
) -> Result<Option<Event<'p>>, Error> {
    let (packet, used) = v5::Packet::parse_for(bytes, s.version()).unwrap().unwrap();
    assert_eq!(used, bytes.len(), "fixture holds one packet");
    s.handle_v5(T0, packet, tx)
}

#[rustfmt::skip]
const CONNECT_V5_DEFAULT: &[u8] = &[
    0x10, 0x11,                   // CONNECT, remaining 17
    0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // protocol name, level 5
    0x02,                         // flags: clean start
    0x00, 0x0a,                   // keepalive 10 s
    0x03,                         // properties: 3 bytes
    0x21, 0x00, 0x20,             //   receive maximum 32
    0x00, 0x01, b'c',             // client id "c"
];
const CONNACK_V5_OK: &[u8] = &[0x20, 0x03, 0x00, 0x00, 0x00]; // accepted, no properties

/// A v5 session whose CONNECT was accepted without properties.
fn connected(tx: &mut TxBuf<'_>) -> Session {
    let mut s = Session::new();
    s.set_version(Version::V5);
    s.connect(T0, &connect_packet(), tx).unwrap();
    assert_eq!(take(tx), CONNECT_V5_DEFAULT);
    let ev = feed(&mut s, CONNACK_V5_OK, tx).unwrap();
    assert!(matches!(
        ev,
        Some(Event::Connected5 {
            session_present: false,
            ..
        })
    ));
    s
}

#[test]
fn version_defaults_to_311() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    assert_eq!(s.version(), Version::V311);
    s.connect(T0, &connect_packet(), &mut tx).unwrap();
    assert_eq!(take(&mut tx)[8], 0x04, "protocol level 4");
}

#[test]
fn connect_with_properties() {
    #[rustfmt::skip]
    const CONNECT: &[u8] = &[
        0x10, 0x30,                   // CONNECT, remaining 48
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // protocol name, level 5
        0x06,                         // flags: clean start, will QoS 0
        0x00, 0x0a,                   // keepalive 10 s
        0x16,                         // properties: 22 bytes
        0x11, 0x00, 0x00, 0x0e, 0x10, //   session expiry 3600 s
        0x21, 0x00, 0x0a,             //   receive maximum 10
        0x27, 0x00, 0x00, 0x04, 0x00, //   maximum packet size 1024
        0x17, 0x00,                   //   request problem information 0
        0x26, 0x00, 0x01, b'a', 0x00, 0x01, b'b', // user property a=b
        0x00, 0x01, b'c',             // client id "c"
        0x05,                         // will properties: 5 bytes
        0x18, 0x00, 0x00, 0x00, 0x05, //   will delay 5 s
        0x00, 0x01, b'w',             // will topic "w"
        0x00, 0x01, b'x',             // will message "x"
    ];
    let mut mem = [0u8; 128];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    s.set_version(Version::V5);
    s.set_max_packet_size(1024);
    let connect = Connect {
        will: Some(Will {
            topic: "w",
            message: b"x",
            qos: QoS::AtMostOnce,
            retain: false,
        }),
        ..connect_packet()
    };
    let opts = ConnectOptions {
        session_expiry: 3600,
        receive_maximum: 10,
        request_problem_information: false,
        topic_alias_maximum: 0,
        props: &[Property::UserProperty(("a", "b"))],
        will_props: &[Property::WillDelayInterval(5)],
    };
    s.connect_with(T0, &connect, &opts, &mut tx).unwrap();
    assert_eq!(take(&mut tx), CONNECT);

    // A property the session sets itself is refused, nothing queued.
    let twice = ConnectOptions {
        props: &[Property::ReceiveMaximum(3)],
        ..ConnectOptions::DEFAULT
    };
    assert!(matches!(
        s.connect_with(T0, &connect, &twice, &mut tx),
        Err(Error::Encode(EncodeError::Property(_)))
    ));
    assert!(tx.is_empty());
    // 3.1.1 cannot carry properties, nor the options it has no word for.
    s.set_version(Version::V311);
    assert_eq!(
        s.connect_with(T0, &connect, &opts, &mut tx),
        Err(Error::Encode(EncodeError::NotInVersion))
    );
    let expiry = ConnectOptions {
        session_expiry: 60,
        ..ConnectOptions::DEFAULT
    };
    assert_eq!(
        s.connect_with(T0, &connect, &expiry, &mut tx),
        Err(Error::Encode(EncodeError::NotInVersion))
    );
    assert!(tx.is_empty());
}

#[rustfmt::skip]
const CONNACK_LIMITS: &[u8] = &[
    0x20, 0x1b,                   // CONNACK, remaining 27
    0x00, 0x00,                   // no session, success
    0x18,                         // properties: 24 bytes
    0x21, 0x00, 0x02,             //   receive maximum 2
    0x24, 0x01,                   //   maximum QoS 1
    0x25, 0x00,                   //   retain not available
    0x27, 0x00, 0x00, 0x00, 0x20, //   maximum packet size 32
    0x12, 0x00, 0x03, b'i', b'd', b'1', // assigned client id "id1"
    0x13, 0x00, 0x05,             //   server keep alive 5 s
    0x22, 0x00, 0x04,             //   topic alias maximum 4
];

#[test]
fn connack_limits_are_kept() {
    let mut mem = [0u8; 128];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    s.set_version(Version::V5);
    s.connect(T0, &connect_packet(), &mut tx).unwrap();
    take(&mut tx);
    let Some(Event::Connected5 { props, .. }) = feed(&mut s, CONNACK_LIMITS, &mut tx).unwrap()
    else {
        panic!("not connected");
    };
    assert_eq!(
        props.get(PropertyId::AssignedClientIdentifier),
        Some(Property::AssignedClientIdentifier("id1"))
    );
    assert_eq!(s.server_keep_alive(), Some(5));
    assert_eq!(
        s.poll_at(),
        Some(T0 + 2_500),
        "ping at half the server's 5 s"
    );
    assert_eq!(s.server_topic_alias_maximum(), 4);
    assert_eq!(s.server_receive_maximum(), 2);
    assert_eq!(s.server_maximum_qos(), QoS::AtLeastOnce);

    // Above the broker's limits: refused before anything is queued.
    assert_eq!(
        s.publish(T0, "t", b"p", QoS::ExactlyOnce, false, &mut tx),
        Err(Error::QosNotSupported {
            max: QoS::AtLeastOnce
        })
    );
    assert_eq!(
        s.publish(T0, "t", b"p", QoS::AtMostOnce, true, &mut tx),
        Err(Error::RetainNotSupported)
    );
    assert_eq!(
        s.publish(T0, "t", &[0; 30], QoS::AtMostOnce, false, &mut tx),
        Err(Error::TooLarge { size: 36 })
    );
    assert!(tx.is_empty());

    // The receive maximum caps the window (16 by default).
    #[rustfmt::skip]
    const PUBLISH_QOS1_ID1: &[u8] = &[
        0x32, 0x07,                   // PUBLISH QoS 1, remaining 7
        0x00, 0x01, b't',             // topic "t"
        0x00, 0x01,                   // packet id 1
        0x00,                         // no properties
        b'p',                         // payload "p"
    ];
    assert_eq!(
        s.publish(T0, "t", b"p", QoS::AtLeastOnce, false, &mut tx),
        Ok(1)
    );
    assert_eq!(take(&mut tx), PUBLISH_QOS1_ID1);
    assert_eq!(
        s.publish(T0, "t", b"p", QoS::AtLeastOnce, false, &mut tx),
        Ok(2)
    );
    assert_eq!(
        s.publish(T0, "t", b"p", QoS::AtLeastOnce, false, &mut tx),
        Err(Error::InflightFull)
    );

    // The next connection starts without the broker's limits.
    s.connect(T0, &connect_packet(), &mut tx).unwrap();
    assert_eq!(s.server_receive_maximum(), u16::MAX);
    assert_eq!(s.server_keep_alive(), None);
}

#[test]
fn connack_refused_carries_the_v5_code() {
    const CONNACK_NOT_AUTHORIZED: &[u8] = &[0x20, 0x03, 0x00, 0x87, 0x00]; // refused, 0x87
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    s.set_version(Version::V5);
    s.connect(T0, &connect_packet(), &mut tx).unwrap();
    let err = feed(&mut s, CONNACK_NOT_AUTHORIZED, &mut tx).unwrap_err();
    assert_eq!(err, Error::Refused5(ReasonCode::NotAuthorized));
    assert!(err.is_fatal());
    assert!(!s.is_connected());

    // A 3.1.1 session keeps the 3.1.1 error through handle_v5.
    let mut s = Session::new();
    s.connect(T0, &connect_packet(), &mut tx).unwrap();
    assert_eq!(
        feed(&mut s, &[0x20, 0x02, 0x00, 0x05], &mut tx).unwrap_err(), // CONNACK refused (5)
        Error::Refused(ConnectReturnCode::NotAuthorized)
    );
}

#[test]
fn puback_failure_reaches_the_application() {
    const PUBACK_1_NOT_AUTHORIZED: &[u8] = &[0x40, 0x03, 0x00, 0x01, 0x87]; // id 1, 0x87
    const PUBACK_2_NO_SUBSCRIBERS: &[u8] = &[0x40, 0x03, 0x00, 0x02, 0x10]; // id 2, 0x10
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    for pid in [1, 2] {
        assert_eq!(
            s.publish(T0, "t", b"p", QoS::AtLeastOnce, false, &mut tx),
            Ok(pid)
        );
    }
    take(&mut tx);
    assert!(matches!(
        feed(&mut s, PUBACK_1_NOT_AUTHORIZED, &mut tx),
        Ok(Some(Event::PublishFailed {
            pid: 1,
            reason: ReasonCode::NotAuthorized
        }))
    ));
    // Below 0x80 is a success.
    assert!(matches!(
        feed(&mut s, PUBACK_2_NO_SUBSCRIBERS, &mut tx),
        Ok(Some(Event::Published { pid: 2 }))
    ));
    assert_eq!(s.inflight_len(), 0);
    assert!(tx.is_empty());
    // A failure for an id not in flight is a protocol error, as in 3.1.1.
    assert_eq!(
        feed(&mut s, PUBACK_1_NOT_AUTHORIZED, &mut tx).unwrap_err(),
        Error::Protocol(ProtocolError::UnknownPacketId(1))
    );
}

#[test]
fn pubrec_failure_ends_the_flow_without_pubrel() {
    const PUBREC_1_QUOTA: &[u8] = &[0x50, 0x03, 0x00, 0x01, 0x97]; // id 1, quota exceeded
    const PUBREC_2: &[u8] = &[0x50, 0x02, 0x00, 0x02]; // id 2, success (short form)
    const PUBREL_2: &[u8] = &[0x62, 0x02, 0x00, 0x02]; // our PUBREL id 2, short form
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    for pid in [1, 2] {
        assert_eq!(
            s.publish(T0, "t", b"p", QoS::ExactlyOnce, false, &mut tx),
            Ok(pid)
        );
    }
    take(&mut tx);
    assert!(matches!(
        feed(&mut s, PUBREC_1_QUOTA, &mut tx),
        Ok(Some(Event::PublishFailed {
            pid: 1,
            reason: ReasonCode::QuotaExceeded
        }))
    ));
    assert!(
        tx.is_empty(),
        "no PUBREL after a failed PUBREC (MQTT 5, 4.3.3)"
    );
    assert!(!s.is_inflight(1));
    assert!(matches!(feed(&mut s, PUBREC_2, &mut tx), Ok(None)));
    assert_eq!(take(&mut tx), PUBREL_2);
}

#[test]
fn subscribe_and_suback_codes() {
    #[rustfmt::skip]
    const SUBSCRIBE: &[u8] = &[
        0x82, 0x0d,                   // SUBSCRIBE, remaining 13
        0x00, 0x01,                   // packet id 1
        0x00,                         // no properties
        0x00, 0x03, b'a', b'/', b'b', 0x01, // "a/b" QoS 1
        0x00, 0x01, b'c', 0x02,       // "c" QoS 2
    ];
    #[rustfmt::skip]
    const SUBACK: &[u8] = &[
        0x90, 0x05,                   // SUBACK, remaining 5
        0x00, 0x01,                   // packet id 1
        0x00,                         // no properties
        0x01, 0x87,                   // granted QoS 1; not authorized
    ];
    #[rustfmt::skip]
    const UNSUBSCRIBE: &[u8] = &[
        0xa2, 0x06,                   // UNSUBSCRIBE, remaining 6
        0x00, 0x02,                   // packet id 2
        0x00,                         // no properties
        0x00, 0x01, b'c',             // "c"
    ];
    const UNSUBACK: &[u8] = &[0xb0, 0x04, 0x00, 0x02, 0x00, 0x11]; // id 2, no subscription existed
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let topics = [("a/b", QoS::AtLeastOnce), ("c", QoS::ExactlyOnce)];
    assert_eq!(s.subscribe(T0, &topics, &mut tx), Ok(1));
    assert_eq!(take(&mut tx), SUBSCRIBE);
    let Ok(Some(Event::Subscribed { pid, return_codes })) = feed(&mut s, SUBACK, &mut tx) else {
        panic!()
    };
    assert_eq!((pid, return_codes), (1, &[0x01, 0x87][..]));
    assert_eq!(s.unsubscribe(T0, &["c"], &mut tx), Ok(2));
    assert_eq!(take(&mut tx), UNSUBSCRIBE);
    let Ok(Some(Event::Unsubscribed5 { pid, reason_codes })) = feed(&mut s, UNSUBACK, &mut tx)
    else {
        panic!()
    };
    assert_eq!((pid, reason_codes), (2, &[0x11][..]));
}

#[test]
fn subscription_identifier_sent_and_refused_when_unsupported() {
    #[rustfmt::skip]
    const SUBSCRIBE_ID: &[u8] = &[
        0x82, 0x0a,                   // SUBSCRIBE, remaining 10
        0x00, 0x01,                   // packet id 1
        0x03,                         // properties: 3 bytes
        0x0b, 0xc8, 0x01,             //   subscription identifier 200 (2-byte VBI)
        0x00, 0x01, b'x', 0x01,       // "x" QoS 1
    ];
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    assert_eq!(s.server_subscriptions_available(), (true, true, true));
    let id = [Property::SubscriptionIdentifier(200)];
    let x = [("x", v5::SubscriptionOptions::new(QoS::AtLeastOnce))];
    assert_eq!(s.subscribe_with_options(T0, &x, &id, &mut tx), Ok(1));
    assert_eq!(take(&mut tx), SUBSCRIBE_ID);
    // Not allowed in SUBSCRIBE: refused by the encoder, nothing queued.
    let bad = [Property::ContentType("t")];
    assert!(s.subscribe_with_options(T0, &x, &bad, &mut tx).is_err());
    assert_eq!(take(&mut tx), &[] as &[u8]);

    // A broker without wildcards, subscription identifiers and shared
    // subscriptions: each refused before anything is sent.
    #[rustfmt::skip]
    const CONNACK_NONE: &[u8] = &[
        0x20, 0x09, 0x00, 0x00,       // CONNACK accepted
        0x06,                         // properties: 6 bytes
        0x28, 0x00,                   //   wildcard subscription available 0
        0x29, 0x00,                   //   subscription identifier available 0
        0x2a, 0x00,                   //   shared subscription available 0
    ];
    let mut s = Session::new();
    s.set_version(Version::V5);
    s.connect(T0, &connect_packet(), &mut tx).unwrap();
    take(&mut tx);
    feed(&mut s, CONNACK_NONE, &mut tx).unwrap();
    assert_eq!(s.server_subscriptions_available(), (false, false, false));
    let opts = v5::SubscriptionOptions::new(QoS::AtMostOnce);
    for (filter, props, code) in [
        (
            "a/+",
            &[][..],
            ReasonCode::WildcardSubscriptionsNotSupported,
        ),
        (
            "a/#",
            &[][..],
            ReasonCode::WildcardSubscriptionsNotSupported,
        ),
        (
            "$share/g/a",
            &[][..],
            ReasonCode::SharedSubscriptionsNotSupported,
        ),
        (
            "a",
            &id[..],
            ReasonCode::SubscriptionIdentifiersNotSupported,
        ),
    ] {
        assert_eq!(
            s.subscribe_with_options(T0, &[(filter, opts)], props, &mut tx),
            Err(Error::SubscribeNotSupported(code)),
            "{filter}"
        );
        assert_eq!(take(&mut tx), &[] as &[u8]);
    }
    assert_eq!(
        s.subscribe_with_options(T0, &[("a", opts)], &[], &mut tx),
        Ok(1)
    );
    // A new connection starts from the protocol's defaults.
    s.connection_lost();
    s.connect(T0, &connect_packet(), &mut tx).unwrap();
    feed(&mut s, CONNACK_V5_OK, &mut tx).unwrap();
    assert_eq!(s.server_subscriptions_available(), (true, true, true));
}

#[test]
fn server_disconnect_is_an_error_with_its_code() {
    const DISCONNECT_SHUTTING_DOWN: &[u8] = &[0xe0, 0x01, 0x8b]; // server shutting down
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let err = feed(&mut s, DISCONNECT_SHUTTING_DOWN, &mut tx).unwrap_err();
    assert_eq!(err, Error::ServerDisconnect(ReasonCode::ServerShuttingDown));
    assert!(err.is_fatal());
    assert!(!s.is_connected());

    // In 3.1.1 a broker may not send DISCONNECT at all.
    let mut s = Session::new();
    s.connect(T0, &connect_packet(), &mut tx).unwrap();
    feed(&mut s, &[0x20, 0x02, 0x00, 0x00], &mut tx).unwrap(); // CONNACK accepted
    assert_eq!(
        feed(&mut s, &[0xe0, 0x00], &mut tx).unwrap_err(), // DISCONNECT
        Error::Protocol(ProtocolError::UnexpectedPacket(PacketType::Disconnect))
    );
}

#[test]
fn incoming_publish_properties_are_lent() {
    #[rustfmt::skip]
    const PUBLISH: &[u8] = &[
        0x32, 0x16,                   // PUBLISH QoS 1, remaining 22
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x00, 0x0a,                   // packet id 10
        0x0c,                         // properties: 12 bytes
        0x02, 0x00, 0x00, 0x00, 0x3c, //   message expiry 60 s
        0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property k=v
        b'h', b'i',                   // payload "hi"
    ];
    const PUBACK_10: &[u8] = &[0x40, 0x02, 0x00, 0x0a]; // our PUBACK id 10, short form
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let Ok(Some(Event::Message5 { publish, props })) = feed(&mut s, PUBLISH, &mut tx) else {
        panic!()
    };
    assert_eq!(
        (publish.topic, publish.payload, publish.pid),
        ("a/b", &b"hi"[..], 10)
    );
    assert_eq!(props.as_bytes(), Some(&PUBLISH[10..22]));
    assert_eq!(
        props.user_properties().collect::<std::vec::Vec<_>>(),
        [("k", "v")]
    );
    assert!(tx.is_empty(), "acknowledged by the application only");
    s.ack(T0, 10, &mut tx).unwrap();
    assert_eq!(take(&mut tx), PUBACK_10);
}

#[test]
fn topic_alias_is_a_protocol_error() {
    #[rustfmt::skip]
    const PUBLISH_ALIAS: &[u8] = &[
        0x30, 0x0a,                   // PUBLISH QoS 0, remaining 10
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x03,                         // properties: 3 bytes
        0x23, 0x00, 0x01,             //   topic alias 1
        b'x',                         // payload "x"
    ];
    #[rustfmt::skip]
    const PUBLISH_NO_TOPIC: &[u8] = &[
        0x30, 0x04,                   // PUBLISH QoS 0, remaining 4
        0x00, 0x00,                   // empty topic
        0x00,                         // no properties (no alias)
        b'x',                         // payload "x"
    ];
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    // We announced no Topic Alias Maximum: any alias is over it.
    assert_eq!(
        feed(&mut s, PUBLISH_ALIAS, &mut tx).unwrap_err(),
        Error::Protocol(ProtocolError::TopicAlias(1))
    );
    // Neither topic nor alias: the wire layer refuses it already.
    assert!(v5::Packet::parse(PUBLISH_NO_TOPIC).is_err());
}

/// The empty property view compares equal to a received empty section.
#[test]
fn connected_without_properties() {
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    s.set_version(Version::V5);
    s.connect(T0, &connect_packet(), &mut tx).unwrap();
    let Ok(Some(Event::Connected5 { props, .. })) = feed(&mut s, CONNACK_V5_OK, &mut tx) else {
        panic!()
    };
    assert_eq!(props, Properties::EMPTY);
    assert_eq!(s.server_receive_maximum(), u16::MAX);
    assert_eq!(s.poll_at(), Some(T0 + 5_000), "our keepalive");
}

/// Messages in flight are stored in the session's version: a v5 session
/// saves them flagged as v5, only a v5 session restores them, resends them
/// with DUP, and a resuming connect in the other version is refused.
#[test]
fn stored_messages_keep_their_version() {
    #[rustfmt::skip]
    const PUBLISH_QOS1_ID1_DUP: &[u8] = &[
        0x3a, 0x07,                   // PUBLISH QoS 1 DUP, remaining 7
        0x00, 0x01, b't',             // topic "t"
        0x00, 0x01,                   // packet id 1
        0x00,                         // no properties
        b'p',                         // payload "p"
    ];
    const CONNACK_V5_PRESENT: &[u8] = &[0x20, 0x03, 0x01, 0x00, 0x00]; // session present
    let (mut mem, mut store) = ([0u8; 128], [0u8; 64]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = connected(&mut tx);
    assert_eq!(
        s.publish(T0, "t", b"p", QoS::AtLeastOnce, false, &mut tx),
        Ok(1)
    );
    take(&mut tx);
    s.connection_lost();
    let mut saved = [0u8; 64];
    let n = s.save(&mut tx, b"", &mut saved).unwrap();
    assert_eq!(saved[5], 0x01, "flags: v5 packets");

    // A 3.1.1 session does not take them.
    let (mut mem2, mut store2) = ([0u8; 128], [0u8; 64]);
    let mut tx2 = TxBuf::with_store(&mut mem2, 0, Store::new(&mut store2, 0));
    let mut s311 = Session::new();
    assert_eq!(
        s311.restore(&saved[..n], &mut tx2),
        Err(Error::Restore(RestoreError::Foreign))
    );
    // A v5 one does, and resends them in v5.
    let mut s5 = Session::new();
    s5.set_version(Version::V5);
    s5.restore(&saved[..n], &mut tx2).unwrap();
    let resume = Connect {
        clean_session: false,
        ..connect_packet()
    };
    s5.connect(T0, &resume, &mut tx2).unwrap();
    take(&mut tx2);
    feed(&mut s5, CONNACK_V5_PRESENT, &mut tx2).unwrap();
    assert_eq!(take(&mut tx2), PUBLISH_QOS1_ID1_DUP);

    // Resuming those in 3.1.1 cannot be done; a clean connect can.
    s5.connection_lost();
    s5.set_version(Version::V311);
    assert_eq!(
        s5.connect(T0, &resume, &mut tx2),
        Err(Error::VersionMismatch)
    );
    assert!(tx2.is_empty());
    s5.connect(T0, &connect_packet(), &mut tx2).unwrap();
    assert_eq!(s5.inflight_len(), 0);
}

#[test]
fn publish_with_properties() {
    #[rustfmt::skip]
    const PUBLISH: &[u8] = &[
        0x32, 0x12,                   // PUBLISH QoS 1, remaining 18
        0x00, 0x01, b't',             // topic "t"
        0x00, 0x01,                   // packet id 1
        0x0b,                         // properties: 11 bytes
        0x01, 0x01,                   //   payload format: UTF-8
        0x08, 0x00, 0x01, b'r',       //   response topic "r"
        0x09, 0x00, 0x02, 0xab, 0xcd, //   correlation data ab cd
        b'p',                         // payload "p"
    ];
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    let props = [
        Property::PayloadFormatIndicator(1),
        Property::ResponseTopic("r"),
        Property::CorrelationData(&[0xab, 0xcd]),
    ];
    assert_eq!(
        s.publish_with(T0, "t", b"p", QoS::AtLeastOnce, false, &props, &mut tx),
        Ok(1)
    );
    assert_eq!(take(&mut tx), PUBLISH);

    // What a client may not send, or PUBLISH may not carry: nothing queued.
    for bad in [
        Property::SubscriptionIdentifier(1),
        Property::TopicAlias(1),
        Property::ReceiveMaximum(1),
    ] {
        assert!(matches!(
            s.publish_with(T0, "t", b"p", QoS::AtMostOnce, false, &[bad], &mut tx),
            Err(Error::Encode(EncodeError::Property(_)))
        ));
    }
    assert!(tx.is_empty());
    assert_eq!(s.inflight_len(), 1);

    // 3.1.1 cannot carry them.
    let mut s311 = Session::new();
    s311.connect(T0, &connect_packet(), &mut tx).unwrap();
    feed(&mut s311, &[0x20, 0x02, 0x00, 0x00], &mut tx).unwrap(); // CONNACK accepted
    take(&mut tx);
    assert_eq!(
        s311.publish_with(T0, "t", b"p", QoS::AtMostOnce, false, &props, &mut tx),
        Err(Error::Encode(EncodeError::NotInVersion))
    );
    assert!(tx.is_empty());
}

#[test]
fn disconnect_with_reason() {
    #[rustfmt::skip]
    const DISCONNECT: &[u8] = &[
        0xe0, 0x08,                   // DISCONNECT, remaining 8
        0x04,                         // disconnect with will message
        0x06,                         // properties: 6 bytes
        0x1f, 0x00, 0x03, b'b', b'y', b'e', // reason string "bye"
    ];
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = connected(&mut tx);
    // CONNECT said session expiry 0: DISCONNECT may not raise it.
    assert!(matches!(
        s.disconnect_with(
            ReasonCode::Success,
            &[Property::SessionExpiryInterval(60)],
            &mut tx
        ),
        Err(Error::Encode(EncodeError::Property(_)))
    ));
    assert!(tx.is_empty() && s.is_connected());
    s.disconnect_with(
        ReasonCode::DisconnectWithWillMessage,
        &[Property::ReasonString("bye")],
        &mut tx,
    )
    .unwrap();
    assert_eq!(take(&mut tx), DISCONNECT);
    assert!(!s.is_connected());
    // The plain form is the same bytes in both versions.
    let mut s = connected(&mut tx);
    s.disconnect(&mut tx).unwrap();
    assert_eq!(take(&mut tx), [0xe0, 0x00]); // DISCONNECT, normal
}

#[test]
fn incoming_topic_aliases() {
    #[rustfmt::skip]
    const CONNECT_ALIASES: &[u8] = &[
        0x10, 0x14,                   // CONNECT, remaining 20
        0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // protocol name, level 5
        0x02,                         // flags: clean start
        0x00, 0x0a,                   // keepalive 10 s
        0x06,                         // properties: 6 bytes
        0x21, 0x00, 0x20,             //   receive maximum 32
        0x22, 0x00, 0x02,             //   topic alias maximum 2
        0x00, 0x01, b'c',             // client id "c"
    ];
    #[rustfmt::skip]
    const SET_1: &[u8] = &[
        0x30, 0x0a,                   // PUBLISH QoS 0, remaining 10
        0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
        0x03, 0x23, 0x00, 0x01,       // properties: topic alias 1
        b'x',                         // payload "x"
    ];
    #[rustfmt::skip]
    const USE_1: &[u8] = &[
        0x30, 0x07,                   // PUBLISH QoS 0, remaining 7
        0x00, 0x00,                   // no topic
        0x03, 0x23, 0x00, 0x01,       // properties: topic alias 1
        b'y',                         // payload "y"
    ];
    const USE_2: &[u8] = &[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x02, b'y']; // alias 2, not set
    const USE_3: &[u8] = &[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x03, b'y']; // alias 3 > 2
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut table = [0u8; 16];
    let mut s = Session::new();
    s.set_version(Version::V5);
    let opts = ConnectOptions {
        topic_alias_maximum: 2,
        ..ConnectOptions::DEFAULT
    };
    s.connect_with(T0, &connect_packet(), &opts, &mut tx)
        .unwrap();
    assert_eq!(take(&mut tx), CONNECT_ALIASES);
    feed(&mut s, CONNACK_V5_OK, &mut tx).unwrap();

    fn handle(
        s: &mut Session,
        bytes: &[u8],
        table: &mut [u8],
        tx: &mut TxBuf<'_>,
    ) -> Result<String, Error> {
        let (packet, _) = v5::Packet::parse(bytes).unwrap().unwrap();
        let mut aliases = TopicAliases::new(table);
        match s.handle_v5_aliased(T0, packet, &mut aliases, tx)? {
            Some(Event::Message5 { publish, .. }) => Ok(publish.topic.into()),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        handle(&mut s, SET_1, &mut table, &mut tx).as_deref(),
        Ok("a/b")
    );
    assert_eq!(
        handle(&mut s, USE_1, &mut table, &mut tx).as_deref(),
        Ok("a/b")
    );
    for (bytes, alias) in [(USE_2, 2), (USE_3, 3)] {
        assert_eq!(
            handle(&mut s, bytes, &mut table, &mut tx),
            Err(Error::Protocol(ProtocolError::TopicAlias(alias)))
        );
    }
    // A topic the map cannot hold: exact or refuse.
    let mut small = [0u8; 8];
    let err = handle(&mut s, SET_1, &mut small, &mut tx).unwrap_err();
    assert_eq!(err, Error::AliasTableFull { needed: 9 });
    assert!(err.is_fatal());

    // Aliases last one connection.
    s.connection_lost();
    s.connect_with(T0, &connect_packet(), &opts, &mut tx)
        .unwrap();
    feed(&mut s, CONNACK_V5_OK, &mut tx).unwrap();
    assert_eq!(
        handle(&mut s, USE_1, &mut table, &mut tx),
        Err(Error::Protocol(ProtocolError::TopicAlias(1)))
    );
    // Without a map every alias is refused.
    assert_eq!(
        feed(&mut s, SET_1, &mut tx).unwrap_err(),
        Error::Protocol(ProtocolError::TopicAlias(1))
    );
}

/// A payload the caller writes itself follows a v5 header (with its
/// property length); the store keeps the whole packet for a resend.
#[test]
fn publish_header_in_v5() {
    #[rustfmt::skip]
    const HEADER: &[u8] = &[
        0x32, 0x09,                   // PUBLISH QoS 1, remaining 9
        0x00, 0x01, b't',             // topic "t"
        0x00, 0x01,                   // packet id 1
        0x00,                         // no properties
    ]; // (payload "abc" written by the caller)
    let (mut mem, mut store) = ([0u8; 64], [0u8; 64]);
    let mut tx = TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0));
    let mut s = connected(&mut tx);
    assert_eq!(
        s.publish_header(T0, "t", b"abc", QoS::AtLeastOnce, false, &mut tx),
        Ok(1)
    );
    assert_eq!(take(&mut tx), HEADER);
    let mut whole = HEADER.to_vec();
    whole.extend_from_slice(b"abc");
    assert_eq!(tx.store().get(0, whole.len()), &whole[..]);
}

/// Our Receive Maximum bounds the broker's unacknowledged QoS 1/2
/// messages on this connection: a PUBACK (QoS 1) or PUBCOMP (QoS 2) frees
/// a place, a PUBREC does not.
#[test]
fn receive_maximum_is_enforced() {
    #[rustfmt::skip]
    const fn publish(qos_flags: u8, pid: u8) -> [u8; 9] {
        [
            qos_flags, 0x07,          // PUBLISH QoS 1 (0x32) or 2 (0x34), remaining 7
            0x00, 0x01, b't',         // topic "t"
            0x00, pid,                // packet id
            0x00,                     // no properties
            b'x',                     // payload "x"
        ]
    }
    const PUBREL_2: &[u8] = &[0x62, 0x02, 0x00, 0x02]; // PUBREL id 2
    let (p1, p2, p3, p4, p5) = (
        publish(0x32, 1),
        publish(0x34, 2),
        publish(0x32, 3),
        publish(0x32, 4),
        publish(0x32, 5),
    );
    let mut mem = [0u8; 64];
    let mut tx = TxBuf::new(&mut mem, 0);
    let mut s = Session::new();
    s.set_version(Version::V5);
    let opts = ConnectOptions {
        receive_maximum: 2,
        ..ConnectOptions::DEFAULT
    };
    s.connect_with(T0, &connect_packet(), &opts, &mut tx)
        .unwrap();
    assert_eq!(
        take(&mut tx)[13..16],
        [0x21, 0x00, 0x02],
        "receive maximum 2"
    );
    feed(&mut s, CONNACK_V5_OK, &mut tx).unwrap();
    feed(&mut s, &p1, &mut tx).unwrap();
    feed(&mut s, &p2, &mut tx).unwrap();
    assert_eq!(
        feed(&mut s, &p3, &mut tx).unwrap_err(),
        Error::Protocol(ProtocolError::ReceiveMaximumExceeded)
    );
    s.ack(T0, 1, &mut tx).unwrap(); // PUBACK 1: a place is free
    feed(&mut s, &p3, &mut tx).unwrap(); // 2 and 3 outstanding
    assert!(feed(&mut s, &p4, &mut tx).unwrap_err().is_fatal());
    // PUBREC 2: a place is free (as mosquitto counts; what follows is a
    // held id, see V5State::quota_used).
    s.ack(T0, 2, &mut tx).unwrap();
    feed(&mut s, &p4, &mut tx).unwrap(); // 3 and 4 outstanding
    feed(&mut s, PUBREL_2, &mut tx).unwrap(); // PUBCOMP 2: no place more
    assert!(feed(&mut s, &p5, &mut tx).unwrap_err().is_fatal());
    s.ack(T0, 3, &mut tx).unwrap();
    feed(&mut s, &p5, &mut tx).unwrap();
}
