//! Host integration test: the blocking [`Client`] against a real broker.
//!
//! Starts a private `mosquitto` (Debian package, `/usr/sbin/mosquitto`) on a
//! free loopback port with a temporary config, talks to it over
//! `std::net::TcpStream` through a small embedded-io adapter, and kills it at
//! the end.  The system mosquitto service is never touched.  Fails when no
//! mosquitto binary is installed (`make deps` installs it).

use std::io::{ErrorKind, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use umqtt_rs::client::{Client, ClientError};
use umqtt_rs::session::Event;
use umqtt_rs::wire::{Connect, QoS};

/// `TcpStream` as an embedded-io transport.
struct Tcp(TcpStream);

#[derive(Debug)]
struct IoError(#[allow(dead_code)] std::io::Error);

impl embedded_io::Error for IoError {
    fn kind(&self) -> embedded_io::ErrorKind {
        embedded_io::ErrorKind::Other
    }
}

impl embedded_io::ErrorType for Tcp {
    type Error = IoError;
}

impl embedded_io::Read for Tcp {
    fn read(&mut self, buf: &mut [u8]) -> Result<usize, IoError> {
        loop {
            match self.0.read(buf) {
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                other => return other.map_err(IoError),
            }
        }
    }
}

impl embedded_io::Write for Tcp {
    fn write(&mut self, buf: &[u8]) -> Result<usize, IoError> {
        self.0.write(buf).map_err(IoError)
    }

    fn flush(&mut self) -> Result<(), IoError> {
        self.0.flush().map_err(IoError)
    }
}

/// A private broker process, killed on drop.
struct Broker {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Broker {
    fn start() -> Broker {
        let exe = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        let exe = exe.expect("mosquitto not installed: `make deps` installs it");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir =
            std::env::temp_dir().join(format!("umqtt_rs-broker-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!("listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"),
        )
        .expect("write config");
        let child = Command::new(exe)
            .arg("-c")
            .arg(&conf)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start mosquitto");
        let broker = Broker { child, dir, port };
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "mosquitto did not start listening"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        broker
    }

    fn connect(&self) -> Tcp {
        let stream = TcpStream::connect(("127.0.0.1", self.port)).expect("connect to broker");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("read timeout");
        stream.set_nodelay(true).expect("nodelay");
        Tcp(stream)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn connect_packet(client_id: &str) -> Connect<'_> {
    Connect {
        client_id,
        keepalive: 30,
        clean_session: true,
        will: None,
        username: None,
        password: None,
    }
}

#[derive(Debug, PartialEq)]
struct Received {
    topic: String,
    payload: Vec<u8>,
    qos: QoS,
}

#[test]
fn publish_to_self_qos_0_1_2() {
    let broker = Broker::start();
    let start = Instant::now();
    let now = || u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);

    let mut rx = [0u8; 4096];
    let mut tx = [0u8; 256];
    let mut client = Client::new(broker.connect(), &mut rx, &mut tx);
    let session_present = client
        .connect(now(), &connect_packet("umqtt_rs-test"))
        .expect("CONNACK");
    assert!(!session_present);
    assert!(client.is_connected());

    let sub = client
        .subscribe(now(), &[("umqtt_rs/test/#", QoS::ExactlyOnce)])
        .expect("subscribe");
    loop {
        match client.poll(now()).expect("SUBACK") {
            Some(Event::Subscribed { pid, return_codes }) => {
                assert_eq!(pid, sub);
                assert_eq!(return_codes, &[2]);
                break;
            }
            None => {}
            Some(other) => panic!("unexpected {other:?}"),
        }
    }

    // Bigger than the transmit buffer: streamed from the caller's slice.
    let big: Vec<u8> = (0..3000u32).map(|i| (i % 251) as u8).collect();
    let sent = [
        ("umqtt_rs/test/0", &b"zero"[..], QoS::AtMostOnce),
        ("umqtt_rs/test/1", &b"one"[..], QoS::AtLeastOnce),
        ("umqtt_rs/test/2", &b"two"[..], QoS::ExactlyOnce),
        ("umqtt_rs/test/big", &big[..], QoS::AtLeastOnce),
    ];
    let mut awaiting = Vec::new();
    for (topic, payload, qos) in sent {
        let pid = client
            .publish(now(), topic, payload, qos, false)
            .expect("publish");
        assert_eq!(pid == 0, qos == QoS::AtMostOnce);
        if pid != 0 {
            awaiting.push(pid);
        }
    }

    let mut received = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while received.len() < sent.len() || !awaiting.is_empty() {
        assert!(
            Instant::now() < deadline,
            "timed out: {received:?} {awaiting:?}"
        );
        let delivered = match client.poll(now()).expect("poll") {
            Some(Event::Message(p)) => {
                received.push(Received {
                    topic: p.topic.to_string(),
                    payload: p.payload.to_vec(),
                    qos: p.qos,
                });
                Some(p.pid)
            }
            Some(Event::Published { pid }) => {
                assert!(awaiting.contains(&pid), "unexpected ack {pid}");
                awaiting.retain(|&p| p != pid);
                None
            }
            None => None,
            Some(other) => panic!("unexpected {other:?}"),
        };
        // The application has the message (copied above): acknowledge it.
        if let Some(pid) = delivered {
            client.ack(now(), pid).expect("ack");
        }
    }
    assert_eq!(client.session().unacked_len(), 0);
    assert_eq!(client.session().inflight_len(), 0);
    received.sort_by(|a, b| a.topic.cmp(&b.topic));
    let mut expected: Vec<Received> = sent
        .iter()
        .map(|&(topic, payload, qos)| Received {
            topic: topic.to_string(),
            payload: payload.to_vec(),
            qos,
        })
        .collect();
    expected.sort_by(|a, b| a.topic.cmp(&b.topic));
    assert_eq!(received, expected);

    // Keepalive: pretend half the keepalive interval went by.
    let later = now() + 15_000;
    assert!(client.poll_at().is_some_and(|at| at <= later));
    loop {
        match client.poll(later).expect("PINGRESP") {
            Some(Event::Pong) => break,
            None => {}
            Some(other) => panic!("unexpected {other:?}"),
        }
    }

    client.disconnect().expect("disconnect");
    assert!(!client.is_connected());
    // The broker closes the connection after DISCONNECT.
    let mut t = client.into_transport();
    let mut byte = [0u8; 1];
    assert_eq!(t.0.read(&mut byte).expect("EOF"), 0);
}

#[test]
fn wait_published_and_unsubscribe() {
    let broker = Broker::start();
    let mut rx = [0u8; 512];
    let mut tx = [0u8; 512];
    let mut client = Client::new(broker.connect(), &mut rx, &mut tx);
    client
        .connect(0, &connect_packet("umqtt_rs-wait"))
        .expect("CONNACK");
    client
        .subscribe(0, &[("umqtt_rs/wait", QoS::AtLeastOnce)])
        .expect("subscribe");
    let pid = client
        .publish(0, "umqtt_rs/wait", b"hello", QoS::ExactlyOnce, true)
        .expect("publish");
    let mut others = Vec::new();
    client
        .wait_published(0, pid, |ev| others.push(format!("{ev:?}")))
        .expect("wait");
    assert!(!client.session().is_inflight(pid));
    assert!(others[0].starts_with("Subscribed"), "{others:?}");

    let unsub = client
        .unsubscribe(0, &["umqtt_rs/wait"])
        .expect("unsubscribe");
    // wait_published acknowledged what it handed to the closure.
    assert_eq!(client.session().unacked_len(), 0);
    let mut got_message = others.iter().any(|e| e.starts_with("Message"));
    loop {
        let delivered = match client.poll(0).expect("poll") {
            Some(Event::Unsubscribed { pid }) => {
                assert_eq!(pid, unsub);
                break;
            }
            Some(Event::Message(p)) => {
                // Delivered at the subscription's QoS 1, the lower of the two.
                assert_eq!(
                    (p.topic, p.payload, p.qos),
                    ("umqtt_rs/wait", &b"hello"[..], QoS::AtLeastOnce)
                );
                got_message = true;
                p.pid
            }
            None => continue,
            Some(other) => panic!("unexpected {other:?}"),
        };
        client.ack(0, delivered).expect("ack");
    }
    assert!(got_message);

    // A packet larger than the receive buffer is refused, not overrun.
    let mut small_rx = [0u8; 64];
    let mut small_tx = [0u8; 64];
    let mut small = Client::new(broker.connect(), &mut small_rx, &mut small_tx);
    small
        .connect(0, &connect_packet("umqtt_rs-small"))
        .expect("CONNACK");
    small
        .subscribe(0, &[("umqtt_rs/wait", QoS::AtMostOnce)])
        .expect("subscribe");
    while !matches!(
        small.poll(0).expect("SUBACK"),
        Some(Event::Subscribed { .. })
    ) {}
    // The retained message (payload "hello") fits; a new big one does not.
    client
        .publish(0, "umqtt_rs/wait", &[0x55; 200], QoS::AtMostOnce, false)
        .expect("publish");
    let err = loop {
        match small.poll(0) {
            Ok(_) => {}
            Err(e) => break e,
        }
    };
    assert!(
        matches!(err, ClientError::PacketTooLarge { needed, limit: 64 } if needed > 200),
        "{err:?}"
    );
    assert!(err.is_fatal());
    assert!(!small.is_connected());
}

/// A QoS 1 message received on a persistent session but not acknowledged
/// is delivered again after a reconnect (with DUP); once acknowledged it
/// does not come back.
#[test]
fn unacked_message_comes_again_after_reconnect() {
    const TOPIC: &str = "umqtt_rs/persist";
    let broker = Broker::start();
    let persistent = Connect {
        clean_session: false,
        ..connect_packet("umqtt_rs-persist")
    };

    let (mut rx, mut tx) = ([0u8; 512], [0u8; 512]);
    let mut sub = Client::new(broker.connect(), &mut rx, &mut tx);
    sub.connect(0, &persistent).expect("CONNACK");
    sub.subscribe(0, &[(TOPIC, QoS::AtLeastOnce)])
        .expect("subscribe");
    while !matches!(sub.poll(0).expect("SUBACK"), Some(Event::Subscribed { .. })) {}

    let (mut prx, mut ptx) = ([0u8; 512], [0u8; 512]);
    let mut publisher = Client::new(broker.connect(), &mut prx, &mut ptx);
    publisher
        .connect(0, &connect_packet("umqtt_rs-persist-pub"))
        .expect("CONNACK");
    let publish = |publisher: &mut Client<'_, Tcp>, payload: &[u8]| {
        let pid = publisher
            .publish(0, TOPIC, payload, QoS::AtLeastOnce, false)
            .expect("publish");
        publisher.wait_published(0, pid, |_| {}).expect("PUBACK");
    };
    // The next message on `sub`: (payload, dup), not acknowledged.
    let next = |sub: &mut Client<'_, Tcp>| loop {
        if let Some(Event::Message(p)) = sub.poll(0).expect("message") {
            assert_eq!(p.qos, QoS::AtLeastOnce);
            return (p.payload.to_vec(), p.dup, p.pid);
        }
    };

    publish(&mut publisher, b"first");
    let (payload, dup, _) = next(&mut sub);
    assert_eq!((payload.as_slice(), dup), (&b"first"[..], false));
    // Not acknowledged: the connection drops (the old socket is closed).
    drop(sub.set_transport(broker.connect()));
    assert!(
        sub.connect(0, &persistent).expect("CONNACK"),
        "session kept"
    );
    let (payload, dup, pid) = next(&mut sub);
    assert_eq!((payload.as_slice(), dup), (&b"first"[..], true), "again");
    sub.ack(0, pid).expect("ack");

    // Acknowledged: after another reconnect only new messages come.
    drop(sub.set_transport(broker.connect()));
    assert!(sub.connect(0, &persistent).expect("CONNACK"));
    publish(&mut publisher, b"second");
    let (payload, dup, pid) = next(&mut sub);
    assert_eq!((payload.as_slice(), dup), (&b"second"[..], false));
    sub.ack(0, pid).expect("ack");
}
