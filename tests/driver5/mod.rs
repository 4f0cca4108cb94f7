//! A driver of an MQTT 5 [`Session`] in safe Rust (the C ABI speaks 3.1.1
//! only so far): the broker's bytes, cut anywhere, read with
//! `v5::Packet::parse_for` and handed to `Session::handle_v5`, interleaved
//! with the application's calls (publish, subscribe, unsubscribe, ack,
//! abandon, ping, reconnect, disconnect with a reason, enhanced
//! authentication: challenges answered, re-authentication) and time passing.  Shared by the
//! fuzz target `session5` (through `#[path]`) and `tests/session5_props.rs`.
//!
//! On every step it checks what must hold whatever the broker sends: no
//! panic, every byte the client queues parses as an MQTT 5 client packet,
//! a message event's topic is a valid topic name and its properties
//! iterate, the outgoing messages in flight never exceed the window nor the
//! broker's Receive Maximum, and an outgoing topic alias is within the
//! broker's maximum and sent alone only after this connection set it.

use std::collections::BTreeMap;

use umqtt_rs::session::{
    ConnectOptions, Event, OutgoingAliases, RxBuf, Session, Store, TopicAliases, TxBuf,
};
use umqtt_rs::wire::v5::{Packet, RetainHandling, SubscriptionOptions};
use umqtt_rs::wire::{
    validate_topic_name, Connect, PacketType, Property, QoS, ReasonCode, Version,
};

const TOPICS: [&str; 4] = ["a/b", "t", "\u{e9}/x", "a/+"];
const FILTERS: [&str; 4] = ["a/#", "+/b", "t", "$share/g/t"];
const AUTH_METHOD: Property<'static> = Property::AuthenticationMethod("M");

/// The fuzzer's bytes, read as operations.
pub struct Input<'a>(pub &'a [u8]);

impl<'a> Input<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }
}

/// One operation as bytes: broker bytes (`op` 0).  (For the property
/// test; the fuzz target takes its bytes as they come.)
#[allow(dead_code)]
pub fn broker_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in bytes.chunks(255) {
        out.push(0);
        out.push(chunk.len() as u8);
        out.extend_from_slice(chunk);
    }
}

/// What a run saw, for tests that the driver gets somewhere.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub connected: usize,
    pub messages: usize,
    pub published: usize,
    pub failed: usize,
    /// PUBLISH packets sent with a topic alias alone.
    pub aliased: usize,
    /// AUTH challenges from the broker, answered.
    pub challenges: usize,
}

/// What the broker knows of the client's outgoing topic aliases on this
/// connection, from the bytes the client wrote.
#[derive(Default)]
struct WireView {
    aliases: BTreeMap<u16, String>,
    alias_only: usize,
}

struct Client<'a> {
    seen: Seen,
    session: Session,
    /// Broker bytes, framed by the one framer the C ABI uses too.
    rx: RxBuf<'a>,
    /// The topic alias map (bit 3 of the flags: none, aliases refused).
    aliases: Option<Vec<u8>>,
    /// The outgoing topic alias map (`publish_aliased`).
    out_aliases: Vec<u8>,
    wire: WireView,
    /// Messages with the application awaiting ack: (pid, ack rather than
    /// abandon).
    unacked: Vec<(u16, bool)>,
}

/// Runs the operations in `data`.
pub fn run(data: &[u8]) -> Seen {
    let mut i = Input(data);
    let (Some(sizes), Some(flags)) = (i.u8(), i.u8()) else {
        return Seen::default();
    };
    let mut tx_mem = vec![0u8; 32 + usize::from(sizes & 0x0f) * 16];
    let mut store_mem = vec![0u8; usize::from(sizes >> 4) * 32];
    let mut tx = TxBuf::with_store(&mut tx_mem, 0, Store::new(&mut store_mem, 0));
    let mut rx_mem = vec![0u8; 64 + usize::from(sizes) * 4];
    let mut c = Client {
        seen: Seen::default(),
        session: Session::new(),
        rx: RxBuf::new(&mut rx_mem),
        aliases: (flags & 0x08 != 0).then(|| vec![0; usize::from(sizes & 0x0f) * 8]),
        out_aliases: vec![0; 2 + usize::from(sizes >> 4) * 4],
        wire: WireView::default(),
        unacked: Vec::new(),
    };
    c.session.set_version(Version::V5);
    c.session.set_window(usize::from(flags >> 4) + 1);
    c.session.set_max_packet_size(usize::from(sizes) * 8);
    let mut now: u64 = 1_000;
    c.reconnect(now, true, flags, &mut tx);
    while let Some(op) = i.u8() {
        let arg = i.u8().unwrap_or(0);
        match op % 16 {
            0..=5 => {
                let chunk = i.take(usize::from(arg));
                c.receive(now, chunk, flags, &mut tx);
            }
            6 => {
                now = now.saturating_add(u64::from(arg) * 97);
                if c.session.poll(now, &mut tx).is_err_and(|e| e.is_fatal()) {
                    c.lose();
                }
            }
            7 | 8 => {
                let topic = TOPICS[usize::from(arg) % TOPICS.len()];
                let payload = vec![0x5a; usize::from(i.u8().unwrap_or(0))];
                let qos = QoS::from_u8((arg >> 4) % 3).unwrap_or(QoS::AtMostOnce);
                let retain = arg & 0x80 != 0;
                let sent = if op % 16 == 7 {
                    c.session
                        .publish(now, topic, &payload, qos, retain, &mut tx)
                } else {
                    let mut map = OutgoingAliases::new(&mut c.out_aliases);
                    c.session.publish_aliased(
                        now,
                        topic,
                        &payload,
                        qos,
                        retain,
                        &[],
                        &mut map,
                        &mut tx,
                    )
                };
                if sent.is_ok_and(|pid| pid != 0) {
                    // New publishes keep to the window and the broker's
                    // Receive Maximum (resends of an earlier connection
                    // may be more).
                    let quota = usize::from(c.session.server_receive_maximum());
                    assert!(c.session.inflight_len() <= c.session.window().min(quota));
                }
            }
            9 => {
                let mut options = SubscriptionOptions::new(QoS::AtLeastOnce);
                options.no_local = arg & 0x10 != 0 && arg % 4 != 3; // not on $share
                options.retain_as_published = arg & 0x20 != 0;
                options.retain_handling = match (arg >> 6) % 3 {
                    0 => RetainHandling::SendAtSubscribe,
                    1 => RetainHandling::SendIfNew,
                    _ => RetainHandling::DoNotSend,
                };
                let filter = FILTERS[usize::from(arg) % FILTERS.len()];
                // A Subscription Identifier, refused when the broker has none.
                let id = [Property::SubscriptionIdentifier(u32::from(arg) + 1)];
                let props: &[Property<'_>] = if arg & 0x08 != 0 { &id } else { &[] };
                let _ = c
                    .session
                    .subscribe_with_options(now, &[(filter, options)], props, &mut tx);
            }
            10 => {
                let filter = FILTERS[usize::from(arg) % FILTERS.len()];
                let _ = c.session.unsubscribe(now, &[filter], &mut tx);
            }
            11 if arg & 0x80 != 0 => {
                // Re-authenticate (refused without a method in CONNECT, before
                // the CONNACK or while one is under way).
                let props = [AUTH_METHOD, Property::AuthenticationData(b"r")];
                let _ = c
                    .session
                    .auth(now, ReasonCode::ReAuthenticate, &props, &mut tx);
            }
            11 => {
                let _ = c.session.ping(now, &mut tx);
            }
            12 => {
                c.lose();
                c.reconnect(now, arg & 1 == 0, arg, &mut tx);
            }
            13 => {
                let _ = match arg % 3 {
                    0 => c.session.disconnect(&mut tx),
                    1 => c.session.disconnect_with(
                        ReasonCode::DisconnectWithWillMessage,
                        &[Property::ReasonString("bye")],
                        &mut tx,
                    ),
                    _ => c.session.disconnect_with(
                        ReasonCode::Success,
                        &[Property::SessionExpiryInterval(u32::from(arg))],
                        &mut tx,
                    ),
                };
                c.lose();
            }
            _ => c.deliver(now, &mut tx),
        }
        c.flush(&mut tx);
    }
    c.seen.aliased = c.wire.alias_only;
    c.seen
}

impl Client<'_> {
    fn reconnect(&mut self, now: u64, clean: bool, flags: u8, tx: &mut TxBuf<'_>) {
        let connect = Connect {
            client_id: if clean { "" } else { "c5" },
            keepalive: u16::from(flags % 8),
            clean_session: clean,
            will: None,
            username: None,
            password: None,
        };
        // Bit 2 of the flags: enhanced authentication.
        let with_auth = [Property::UserProperty(("k", "v")), AUTH_METHOD];
        let props = if flags & 0x04 != 0 {
            &with_auth[..]
        } else {
            &with_auth[..1]
        };
        let opts = ConnectOptions {
            session_expiry: u32::from(flags & 0x40 != 0) * 60,
            receive_maximum: u16::from(flags % 5),
            topic_alias_maximum: if self.aliases.is_some() { 3 } else { 0 },
            props,
            ..ConnectOptions::DEFAULT
        };
        self.flush(tx);
        let _ = self.session.connect_with(now, &connect, &opts, tx);
    }

    fn lose(&mut self) {
        self.session.connection_lost();
        self.rx.clear();
        self.unacked.clear();
        self.session.abandon_all();
    }

    /// Frames and handles every whole packet in `rx`.
    /// Reads `bytes` into the receive buffer as a socket would, handling
    /// every whole packet.
    fn receive(&mut self, now: u64, mut bytes: &[u8], flags: u8, tx: &mut TxBuf<'_>) {
        while !bytes.is_empty() {
            let window = self.rx.window();
            let n = window.len().min(bytes.len());
            window[..n].copy_from_slice(&bytes[..n]);
            self.rx.commit(n);
            bytes = &bytes[n..];
            if !self.handle_all(now, flags, tx) || (n == 0 && !bytes.is_empty()) {
                // The connection went (with the rest of the bytes), or
                // the buffer is full without a whole packet.
                self.lose();
                return;
            }
        }
    }

    /// Handles the whole packets in the receive buffer; false when the
    /// connection must go.
    fn handle_all(&mut self, now: u64, flags: u8, tx: &mut TxBuf<'_>) -> bool {
        loop {
            let max = self.session.max_packet_size();
            let packet = match self.rx.next_packet_v5(max, Version::V5) {
                Ok(Some(p)) => p,
                Ok(None) => return true,
                // Malformed, over the maximum, larger than the buffer.
                Err(_) => return false,
            };
            // Room for the replies (TxFull then means they can never fit:
            // the connection goes, as for any error below).
            flush(
                tx,
                &mut self.wire,
                self.session.server_topic_alias_maximum(),
            );
            let mut table = self.aliases.as_deref_mut().map(TopicAliases::new);
            let result = match table.as_mut() {
                Some(t) => self.session.handle_v5_aliased(now, packet, t, tx),
                None => self.session.handle_v5(now, packet, tx),
            };
            match result {
                Ok(Some(ev)) => {
                    check_event(&ev);
                    if let Event::Auth {
                        reason: ReasonCode::ContinueAuthentication,
                        ..
                    } = ev
                    {
                        // A challenge the session passed on can be answered.
                        let props = [AUTH_METHOD, Property::AuthenticationData(b"a")];
                        let cont = ReasonCode::ContinueAuthentication;
                        match self.session.auth(now, cont, &props, tx) {
                            Ok(()) | Err(umqtt_rs::session::Error::TxFull { .. }) => {}
                            Err(e) => panic!("a challenge cannot be answered: {e:?}"),
                        }
                        self.seen.challenges += 1;
                    }
                    match ev {
                        Event::Connected5 { .. } => self.seen.connected += 1,
                        Event::Message5 { .. } => self.seen.messages += 1,
                        Event::Published { .. } => self.seen.published += 1,
                        Event::PublishFailed { .. } => self.seen.failed += 1,
                        _ => {}
                    }
                    if let Some((pid, qos)) = message_of(&ev) {
                        if qos != QoS::AtMostOnce {
                            self.unacked.push((pid, flags & 1 == 0 || pid % 2 == 0));
                        }
                    }
                }
                Ok(None) => {}
                // Fatal, or not connected, more unacked than fit, held
                // set full, tx too small: the connection goes.
                Err(_) => return false,
            }
        }
    }

    /// The application is done with its messages: acks or abandons them.
    fn deliver(&mut self, now: u64, tx: &mut TxBuf<'_>) {
        for (pid, ack) in std::mem::take(&mut self.unacked) {
            if ack {
                let _ = self.session.ack(now, pid, tx);
            } else {
                self.session.abandon(pid);
            }
        }
    }

    fn flush(&mut self, tx: &mut TxBuf<'_>) {
        flush(
            tx,
            &mut self.wire,
            self.session.server_topic_alias_maximum(),
        );
    }
}

/// Writes what is queued: every packet must be a client's MQTT 5 one, and
/// its topic aliases what the broker (`wire`, allowing `max`) can resolve.
fn flush(tx: &mut TxBuf<'_>, wire: &mut WireView, max: u16) {
    {
        let mut bytes = tx.pending();
        while !bytes.is_empty() {
            let Ok(Some((packet, used))) = Packet::parse_for(bytes, Version::V5) else {
                panic!("client queued bytes that are no MQTT 5 packet: {bytes:02x?}");
            };
            let ty = packet.packet_type();
            assert!(
                !matches!(
                    ty,
                    PacketType::Connack
                        | PacketType::Suback
                        | PacketType::Unsuback
                        | PacketType::Pingresp
                ),
                "client sent {ty:?}"
            );
            match packet {
                Packet::Connect(..) => wire.aliases.clear(),
                Packet::Publish(p) => {
                    assert!(p.props.subscription_identifiers().next().is_none());
                    let topic = p.publish.topic;
                    if let Some(a) = p.props.topic_alias() {
                        assert!(a >= 1 && a <= max, "alias {a} over the broker's {max}");
                        if topic.is_empty() {
                            let known = wire.aliases.contains_key(&a);
                            assert!(known, "alias {a} used before it was set");
                            wire.alias_only += 1;
                        } else {
                            wire.aliases.insert(a, topic.into());
                        }
                    }
                }
                _ => {}
            }
            bytes = &bytes[used..];
        }
        let n = tx.len();
        tx.consume(n);
    }
}

fn message_of(ev: &Event<'_>) -> Option<(u16, QoS)> {
    match ev {
        Event::Message(p) => Some((p.pid, p.qos)),
        Event::Message5 { publish, .. } => Some((publish.pid, publish.qos)),
        _ => None,
    }
}

fn check_event(ev: &Event<'_>) {
    match ev {
        Event::Message5 { publish, props } => {
            validate_topic_name(publish.topic).expect("a delivered topic is valid");
            assert!(!publish.topic.is_empty(), "an alias is resolved");
            let _ = props.topic_alias();
            assert_eq!(props.iter().count() > 0, !props.is_empty());
        }
        Event::Connected5 { props, .. } => {
            let _ = props.iter().count();
        }
        Event::PublishFailed { reason, .. } => assert!(reason.is_error()),
        Event::Message(_) => panic!("a v5 session gives Message5"),
        _ => {}
    }
}
