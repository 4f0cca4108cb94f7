//! The MQTT 5 session driven by random operations and broker bytes built
//! from valid v5 packets, noise and cuts (`tests/driver5`): whatever the
//! broker sends, nothing panics and the client only queues valid MQTT 5
//! client packets.  The fuzz target `session5` runs the same driver on
//! arbitrary bytes.
#![cfg(feature = "mqtt5")]

mod driver5;

use proptest::prelude::*;

/// Broker packets a v5 session meets, for packet ids 1 to 3.
#[rustfmt::skip]
const PACKETS: &[&[u8]] = &[
    &[0x20, 0x03, 0x00, 0x00, 0x00],                   // CONNACK success
    &[0x20, 0x03, 0x01, 0x00, 0x00],                   // CONNACK session present
    &[0x20, 0x03, 0x00, 0x87, 0x00],                   // CONNACK not authorized
    &[0x20, 0x0d, 0x00, 0x00, 0x0a,                    // CONNACK with properties:
        0x21, 0x00, 0x01,                              //   receive maximum 1
        0x24, 0x00,                                    //   maximum QoS 0
        0x25, 0x00,                                    //   retain not available
        0x13, 0x00, 0x02],                             //   server keep alive 2 s
    &[0x40, 0x02, 0x00, 0x01],                         // PUBACK 1
    &[0x40, 0x03, 0x00, 0x02, 0x87],                   // PUBACK 2 not authorized
    &[0x50, 0x02, 0x00, 0x01],                         // PUBREC 1
    &[0x50, 0x03, 0x00, 0x02, 0x97],                   // PUBREC 2 quota exceeded
    &[0x62, 0x02, 0x00, 0x03],                         // PUBREL 3
    &[0x70, 0x02, 0x00, 0x01],                         // PUBCOMP 1
    &[0x90, 0x04, 0x00, 0x01, 0x00, 0x01],             // SUBACK 1: QoS 1
    &[0x90, 0x04, 0x00, 0x02, 0x00, 0x87],             // SUBACK 2: not authorized
    &[0xb0, 0x04, 0x00, 0x03, 0x00, 0x00],             // UNSUBACK 3
    &[0xd0, 0x00],                                     // PINGRESP
    &[0xe0, 0x01, 0x8b],                               // DISCONNECT server shutting down
    &[0x34, 0x07, 0x00, 0x01, b't', 0x00, 0x03, 0x00, b'x'], // PUBLISH QoS 2 id 3
    &[0x32, 0x0e, 0x00, 0x01, b't', 0x00, 0x02,        // PUBLISH QoS 1 id 2,
        0x07, 0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', //   user property k=v
        b'x'],
    &[0x30, 0x08, 0x00, 0x01, b't', 0x03, 0x23, 0x00, 0x01, b'x'], // PUBLISH "t" sets alias 1
    &[0x30, 0x07, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01, b'y'],       // PUBLISH alias 1 alone
    &[0x20, 0x06, 0x00, 0x00, 0x03, 0x22, 0x00, 0x02],             // CONNACK: 2 topic aliases
    &[0xf0, 0x09, 0x18, 0x07, 0x15, 0x00, 0x01, b'M', 0x16, 0x00, 0x00], // AUTH continue, method "M"
    &[0xf0, 0x06, 0x00, 0x04, 0x15, 0x00, 0x01, b'M'],             // AUTH success
];

#[derive(Debug, Clone)]
enum Step {
    Packet(usize),
    /// The first `n` bytes of a packet (a cut, the rest may never come).
    Cut(usize, usize),
    Noise(Vec<u8>),
    /// An application operation: its op byte and argument.
    App(u8, u8),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        8 => (0..PACKETS.len()).prop_map(Step::Packet),
        1 => (0..PACKETS.len(), 0..8usize).prop_map(|(k, n)| Step::Cut(k, n)),
        1 => proptest::collection::vec(any::<u8>(), 0..6).prop_map(Step::Noise),
        6 => (6..16u8, any::<u8>()).prop_map(|(op, arg)| Step::App(op, arg)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn v5_session_survives_any_broker(
        sizes in any::<u8>(),
        flags in any::<u8>(),
        steps in proptest::collection::vec(step(), 0..40),
    ) {
        let mut data = vec![sizes, flags];
        for s in steps {
            match s {
                Step::Packet(k) => driver5::broker_bytes(&mut data, PACKETS[k]),
                Step::Cut(k, n) => {
                    let p = PACKETS[k];
                    driver5::broker_bytes(&mut data, &p[..n.min(p.len())]);
                }
                Step::Noise(bytes) => driver5::broker_bytes(&mut data, &bytes),
                Step::App(op, arg) => {
                    data.push(op);
                    data.push(arg);
                    if op % 16 == 7 || op % 16 == 8 {
                        data.push(arg); // payload length
                    }
                }
            }
        }
        driver5::run(&data);
    }
}

/// The driver gets somewhere: a connection, a message, an accepted and a
/// refused publish.
#[test]
fn driver_reaches_the_events() {
    let mut data = vec![0xff, 0x00]; // large buffers and store, window 1
    driver5::broker_bytes(&mut data, PACKETS[0]); // CONNACK
    data.extend_from_slice(&[7, 0x10, 1]); // publish QoS 1 "a/b"
    driver5::broker_bytes(&mut data, PACKETS[4]); // PUBACK 1
    data.extend_from_slice(&[7, 0x10, 1]); // publish QoS 1: id 2
    driver5::broker_bytes(&mut data, PACKETS[5]); // PUBACK 2 not authorized
    driver5::broker_bytes(&mut data, PACKETS[16]); // PUBLISH with a user property
    data.extend_from_slice(&[14, 0]); // the application acks
    let seen = driver5::run(&data);
    assert_eq!(
        seen,
        driver5::Seen {
            connected: 1,
            messages: 1,
            published: 1,
            failed: 1,
            aliased: 0,
            challenges: 0,
        }
    );
}

/// With an Authentication Method in CONNECT (flags bit 2) a challenge at
/// connect and one after a re-authentication are answered; without one a
/// challenge is a protocol error.
#[test]
fn driver_answers_challenges() {
    let mut data = vec![0xff, 0x04];
    for k in [20, 0] {
        driver5::broker_bytes(&mut data, PACKETS[k]); // challenge, CONNACK
    }
    data.extend_from_slice(&[11, 0x80]); // re-authenticate
    for k in [20, 21] {
        driver5::broker_bytes(&mut data, PACKETS[k]); // challenge, success
    }
    let seen = driver5::run(&data);
    assert_eq!((seen.challenges, seen.connected), (2, 1));
    data[1] = 0x00;
    assert_eq!(driver5::run(&data).connected, 0);
}

/// A broker that allows topic aliases gets a topic with its alias once,
/// then the alias alone (`publish_aliased`, op 8); after a reconnect the
/// topic is set again before the alias is used alone.
#[test]
fn driver_sends_aliases() {
    let mut data = vec![0xff, 0x00];
    driver5::broker_bytes(&mut data, PACKETS[19]); // CONNACK, 2 aliases
    data.extend_from_slice(&[8, 0x00, 1, 8, 0x00, 1, 8, 0x01, 1, 8, 0x00, 1]); // a/b a/b t a/b
    data.extend_from_slice(&[12, 1]); // reconnect, resuming
    driver5::broker_bytes(&mut data, PACKETS[19]);
    data.extend_from_slice(&[8, 0x00, 1, 8, 0x00, 1]); // a/b a/b
    assert_eq!(driver5::run(&data).aliased, 3);
}

/// The fuzz target's committed seeds run (and get somewhere).
#[test]
fn fuzz_seeds_run() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus/session5");
    let mut connected = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let data = std::fs::read(entry.unwrap().path()).unwrap();
        connected += driver5::run(&data).connected;
    }
    assert!(connected >= 5, "every seed connects");
}

/// With an alias map (flags bit 3) an alias set by one PUBLISH gives the
/// next its topic.
#[test]
fn driver_resolves_aliases() {
    let mut data = vec![0xff, 0x08];
    for k in [0, 17, 18] {
        driver5::broker_bytes(&mut data, PACKETS[k]); // CONNACK, set alias 1, use it
    }
    assert_eq!(driver5::run(&data).messages, 2);
    data[1] = 0x00; // no map: the first alias is a protocol error
    assert_eq!(driver5::run(&data).messages, 0);
}
