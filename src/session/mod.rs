//! The MQTT 3.1.1 client session: a sans-IO state machine.  With the
//! `mqtt5` feature it speaks MQTT 5 too (module `v5`: the version is set
//! before connecting; CONNECT properties, the CONNACK's limits, reason
//! codes, PUBLISH properties), through the same state machine.
//!
//! [`Session`] holds no buffers, reads no clock and does no I/O.  The caller
//! passes the time (`now_ms`, any monotonic millisecond count) and a
//! [`TxBuf`] to every operation; the session appends the packets it wants
//! sent to the `TxBuf` and returns [`Event`]s for the application.  Received
//! bytes are framed and parsed by the caller ([`Packet::parse`]) and handed to
//! [`Session::handle`]; the events it returns borrow the receive buffer.
//!
//! State is split in two, as the protocol does:
//! - durable state (module `state`): the packet-id counter, outgoing QoS 1/2
//!   messages with their [`OutgoingFlow`], incoming QoS 2 ids (module
//!   `held`: exact, never forgotten while their PUBREL is due).  It survives
//!   [`Session::connection_lost`] and a `clean_session = false` reconnect.
//! - per-connection state: awaiting CONNACK / connected, keepalive timers,
//!   pending SUBSCRIBE/UNSUBSCRIBE ids.  It is reset by every connect.
//!
//! Acknowledging is the application's step (module `delivery`): a QoS 1/2
//! [`Event::Message`] queues nothing; [`Session::ack`] queues its
//! PUBACK/PUBREC once the application has the message, [`Session::abandon`]
//! drops it unacknowledged (the broker resends it after a reconnect).
//!
//! A typical driver loop:
//! 1. [`Session::connect`], flush the `TxBuf`;
//! 2. read bytes, frame them, [`Session::handle`] each packet, act on the
//!    event ([`Session::ack`] a message once the application has it);
//! 3. [`Session::poll`] at [`Session::poll_at`] for keepalive pings;
//! 4. flush the `TxBuf` whenever it is not empty.
//!
//! Resending: QoS 1/2 PUBLISH packets are kept in the [`Store`] carried by
//! the `TxBuf` until acknowledged.  After a CONNACK with
//! `clean_session = false`, every message in flight is resent in its
//! original order, with its original id, DUP set on PUBLISH and PUBREL for
//! those whose PUBREC had come [MQTT-4.4.0-1]; nothing is retransmitted
//! within a live connection.

#[cfg(feature = "mqtt5")]
mod alias;
mod delivery;
mod error;
mod event;
mod held;
mod persist;
mod rxbuf;
mod state;
mod store;
mod txbuf;
#[cfg(feature = "mqtt5")]
mod v5;

#[cfg(test)]
mod scripted;

use heapless::Vec;

#[cfg(feature = "mqtt5")]
pub use alias::TopicAliases;
pub use delivery::MAX_UNACKED;
pub use error::{Error, ProtocolError};
pub use event::Event;
pub use held::{HELD_BITMAP_BYTES, INLINE_HELD};
pub use persist::{crc32, RestoreError};
pub use rxbuf::{Chunk, Frame, RxBuf, RxParts};
pub use state::OutgoingFlow;
pub use store::Store;
pub use txbuf::TxBuf;
#[cfg(feature = "mqtt5")]
pub use v5::{ConnectOptions, MAX_CONNECT_PROPERTIES, MAX_SUBSCRIBE_FILTERS};

use crate::wire::{
    validate_topic_filter, validate_topic_name, Connect, ConnectReturnCode, EncodeError, Packet,
    PacketType, Publish, QoS, Subscribe, SubscribeTopics, Unsubscribe, UnsubscribeTopics,
};
use delivery::Deliveries;
use state::Durable;
use txbuf::{OutProps, OutPublish};

/// Outgoing QoS 1/2 messages that may await acknowledgement at once (the
/// largest window).
pub const MAX_INFLIGHT: usize = 32;
/// The default window: outgoing QoS 1/2 messages in flight at once.
pub const DEFAULT_WINDOW: usize = 16;
/// The largest packet MQTT can frame (remaining length 268,435,455 plus a
/// 5-byte fixed header): the maximum packet size when none is set.
pub const PROTOCOL_MAX_PACKET_SIZE: usize = 268_435_460;
/// SUBSCRIBE/UNSUBSCRIBE requests that may await SUBACK/UNSUBACK at once.
pub const MAX_PENDING_ACKS: usize = 8;
/// Default time allowed for the CONNACK after CONNECT.
pub const DEFAULT_CONNECT_TIMEOUT_MS: u64 = 10_000;
/// Shortest time allowed for a PINGRESP.
pub const MIN_PING_TIMEOUT_MS: u64 = 1_000;

/// Where the current connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    /// No connection, or one that was lost, refused or closed.
    Closed,
    /// CONNECT queued at `since_ms`, no CONNACK yet.
    AwaitConnack { since_ms: u64 },
    /// CONNACK accepted.
    Open,
}

/// Which acknowledgement a SUBSCRIBE/UNSUBSCRIBE id awaits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum AckKind {
    Suback,
    Unsuback,
}

/// The per-connection part of the session; reset by every connect.
#[derive(Debug)]
struct Connection {
    link: Link,
    /// Keepalive interval from CONNECT, in ms; 0 disables pings.
    keepalive_ms: u64,
    /// When a packet was last queued.
    last_tx_ms: u64,
    /// When the outstanding PINGREQ was queued.
    ping_sent_at: Option<u64>,
    /// SUBSCRIBE/UNSUBSCRIBE ids awaiting their ack.
    pending: Vec<(u16, AckKind), MAX_PENDING_ACKS>,
}

impl Connection {
    const fn new() -> Self {
        Self {
            link: Link::Closed,
            keepalive_ms: 0,
            last_tx_ms: 0,
            ping_sent_at: None,
            pending: Vec::new(),
        }
    }

    fn is_pending(&self, pid: u16) -> bool {
        self.pending.iter().any(|&(p, _)| p == pid)
    }

    /// Removes `pid` if it awaits `kind`.
    fn take_pending(&mut self, pid: u16, kind: AckKind) -> Result<(), Error> {
        let pos = self
            .pending
            .iter()
            .position(|&entry| entry == (pid, kind))
            .ok_or(Error::Protocol(ProtocolError::UnknownPacketId(pid)))?;
        self.pending.swap_remove(pos);
        Ok(())
    }
}

/// An MQTT 3.1.1 client session.  Fixed size, no buffers; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct Session {
    durable: Durable,
    conn: Connection,
    /// Messages with the application awaiting its ack.
    deliveries: Deliveries,
    connect_timeout_ms: u64,
    window: usize,
    max_packet_size: usize,
    /// The protocol version and what MQTT 5 adds per connection.
    #[cfg(feature = "mqtt5")]
    v5: v5::V5State,
}

impl Default for Session {
    fn default() -> Self {
        Self::new()
    }
}

impl Session {
    /// A session with no state and no connection.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            durable: Durable::new(),
            conn: Connection::new(),
            deliveries: Deliveries::new(),
            connect_timeout_ms: DEFAULT_CONNECT_TIMEOUT_MS,
            window: DEFAULT_WINDOW,
            max_packet_size: PROTOCOL_MAX_PACKET_SIZE,
            #[cfg(feature = "mqtt5")]
            v5: v5::V5State::new(),
        }
    }

    /// Sets the largest packet (fixed header included) the client sends or
    /// accepts; 0 (or more than MQTT can frame) means
    /// [`PROTOCOL_MAX_PACKET_SIZE`].  A larger outgoing packet is refused
    /// with [`Error::TooLarge`]; a larger incoming one is refused by
    /// [`check_incoming_size`](Self::check_incoming_size) before it is read.
    pub fn set_max_packet_size(&mut self, size: usize) {
        self.max_packet_size = match size {
            0 => PROTOCOL_MAX_PACKET_SIZE,
            n => n.min(PROTOCOL_MAX_PACKET_SIZE),
        };
    }

    /// See [`set_max_packet_size`](Self::set_max_packet_size).
    #[must_use]
    pub fn max_packet_size(&self) -> usize {
        self.max_packet_size
    }

    /// Checks the size of an incoming packet from its fixed header (call it
    /// as soon as the header is in, before making room for the body).
    ///
    /// # Errors
    /// [`Error::IncomingTooLarge`] (fatal) when `size` exceeds the maximum
    /// packet size.
    pub fn check_incoming_size(&self, size: usize) -> Result<(), Error> {
        if size > self.max_packet_size {
            return Err(Error::IncomingTooLarge { size });
        }
        Ok(())
    }

    /// Messages delivered to the application and not yet acknowledged by
    /// it (or whose ack waits for room in the transmit buffer).
    #[must_use]
    pub fn unacked_len(&self) -> usize {
        self.deliveries.len()
    }

    /// Incoming QoS 2 ids held until their PUBREL.
    #[must_use]
    pub fn held_len(&self) -> usize {
        self.durable.incoming().len()
    }

    /// A number that changes whenever the durable state does (what
    /// [`save`](Self::save) writes): save again when it differs from the
    /// one of the last save.
    #[must_use]
    pub fn generation(&self) -> u32 {
        self.durable.generation()
    }

    /// True while the held incoming QoS 2 ids live in the bitmap lent with
    /// [`TxBuf::with_held_bitmap`]: it must be lent to every call (with its
    /// content) until this turns false.
    #[must_use]
    pub fn held_bitmap_in_use(&self) -> bool {
        self.durable.incoming().spilled()
    }

    /// Sets how many outgoing QoS 1/2 messages may be in flight at once
    /// (clamped to 1..=[`MAX_INFLIGHT`]); more gives [`Error::InflightFull`].
    pub fn set_window(&mut self, window: usize) {
        self.window = window.clamp(1, MAX_INFLIGHT);
    }

    /// See [`set_window`](Self::set_window).
    #[must_use]
    pub fn window(&self) -> usize {
        self.window
    }

    /// Sets how long [`poll`](Self::poll) waits for the CONNACK before
    /// [`Error::KeepaliveTimeout`]; 0 waits forever.  Also bounds the wait
    /// for a PINGRESP to a [`ping`](Self::ping) sent with keepalive 0.
    pub fn set_connect_timeout(&mut self, ms: u64) {
        self.connect_timeout_ms = ms;
    }

    /// See [`set_connect_timeout`](Self::set_connect_timeout).
    #[must_use]
    pub fn connect_timeout(&self) -> u64 {
        self.connect_timeout_ms
    }

    /// True when a CONNACK was accepted and the connection not lost since.
    #[must_use]
    pub fn is_connected(&self) -> bool {
        self.conn.link == Link::Open
    }

    /// Outgoing QoS 1/2 messages awaiting acknowledgement.
    #[must_use]
    pub fn inflight_len(&self) -> usize {
        self.durable.outgoing_len()
    }

    /// True while outgoing message `pid` awaits acknowledgement.
    #[must_use]
    pub fn is_inflight(&self, pid: u16) -> bool {
        self.durable.outgoing_flow(pid).is_some()
    }

    /// Where outgoing message `pid` stands, `None` if not in flight.
    #[must_use]
    pub fn outgoing_flow(&self, pid: u16) -> Option<OutgoingFlow> {
        self.durable.outgoing_flow(pid)
    }

    /// Starts a connection on a freshly opened transport: resets the
    /// per-connection state and queues CONNECT.  With `clean_session` the
    /// durable state is cleared too; otherwise it is kept.
    ///
    /// # Errors
    /// [`Error::TxFull`] or [`Error::Encode`]; the session is unchanged then.
    pub fn connect(
        &mut self,
        now_ms: u64,
        connect: &Connect<'_>,
        tx: &mut TxBuf<'_>,
    ) -> Result<(), Error> {
        #[cfg(feature = "mqtt5")]
        if self.v5.version.is_v5() {
            return self.connect_with(now_ms, connect, &ConnectOptions::DEFAULT, tx);
        }
        #[cfg(feature = "mqtt5")]
        self.v5
            .check_resume(connect.clean_session, self.durable.outgoing_len())?;
        let packet = Packet::Connect(*connect);
        self.check_size(&packet)?;
        tx.push(&packet)?;
        self.start_connection(now_ms, connect, tx);
        Ok(())
    }

    /// The state of a connection whose CONNECT was just queued.
    fn start_connection(&mut self, now_ms: u64, connect: &Connect<'_>, tx: &mut TxBuf<'_>) {
        self.conn = Connection::new();
        #[cfg(feature = "mqtt5")]
        self.v5.new_connection();
        self.conn.link = Link::AwaitConnack { since_ms: now_ms };
        self.conn.keepalive_ms = u64::from(connect.keepalive).saturating_mul(1000);
        self.conn.last_tx_ms = now_ms;
        if connect.clean_session {
            let (store, bits) = tx.store_and_held();
            self.durable.clear(store, bits);
            self.deliveries.clear();
        } else {
            // Messages sent without a store cannot be resent.
            self.durable.drop_unstored();
        }
    }

    /// Queues a PUBLISH and returns its packet id (0 for QoS 0).  QoS 1/2
    /// messages stay in flight until [`Event::Published`].
    ///
    /// # Errors
    /// [`Error::NotConnected`], [`Error::Encode`] (invalid topic, too long),
    /// [`Error::InflightFull`], [`Error::TxFull`]; nothing is queued then.
    pub fn publish(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let body = Body::Whole(payload);
        self.start_publish(now_ms, topic, body, qos, retain, OutProps::default(), tx)
    }

    /// Like [`publish`](Self::publish) but queues only the bytes before the
    /// payload.  The caller must flush the `TxBuf` and then write `payload`
    /// to the transport itself, before anything else is queued or written.
    /// For payloads bigger than the `TxBuf`.  (A QoS 1/2 packet is still
    /// stored whole for a resend.)
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub fn publish_header(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let body = Body::Separate(payload);
        self.start_publish(now_ms, topic, body, qos, retain, OutProps::default(), tx)
    }

    /// Like [`publish_header`](Self::publish_header) for a payload of
    /// `payload_len` bytes the caller streams from elsewhere (a file, a
    /// socket).  With `resendable` (the caller can read the payload again
    /// from its start: a seekable stream) a QoS 1/2 message's header is
    /// stored, and a resend after a reconnect queues it with DUP and asks
    /// for the payload again ([`TxBuf::tail`] names the message); without,
    /// nothing is stored and the message is forgotten at the next connect
    /// (the caller reports the lost connection instead).
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    #[allow(clippy::too_many_arguments)]
    pub fn publish_streamed(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload_len: usize,
        qos: QoS,
        retain: bool,
        resendable: bool,
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let body = Body::Streamed(payload_len, resendable);
        self.start_publish(now_ms, topic, body, qos, retain, OutProps::default(), tx)
    }

    /// The one publish path: `props` are MQTT 5's (nothing without the
    /// feature).
    #[allow(clippy::too_many_arguments)]
    fn start_publish(
        &mut self,
        now_ms: u64,
        topic: &str,
        body: Body<'_>,
        qos: QoS,
        retain: bool,
        props: OutProps<'_>,
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        let payload = match body {
            Body::Whole(p) | Body::Separate(p) => p,
            Body::Streamed(..) => &[],
        };
        self.require_open()?;
        validate_topic_name(topic).map_err(|e| Error::Encode(EncodeError::InvalidTopic(e)))?;
        #[cfg(feature = "mqtt5")]
        self.v5.check_publish(qos, retain)?;
        // Resent messages go out before new ones (order per topic).
        self.pump_owed(now_ms, tx)?;
        self.pump_resends(now_ms, tx)?;
        let flow = match qos {
            QoS::AtMostOnce => None,
            QoS::AtLeastOnce => Some(OutgoingFlow::AwaitPuback),
            QoS::ExactlyOnce => Some(OutgoingFlow::AwaitPubrec),
        };
        let pid = match flow {
            None => 0,
            Some(_) if self.durable.outgoing_len() >= self.send_window() => {
                return Err(Error::InflightFull)
            }
            Some(_) => self.peek_pid()?,
        };
        let publish = Publish {
            topic,
            qos,
            retain,
            dup: false,
            pid,
            payload,
        };
        #[cfg(feature = "mqtt5")]
        let packet = self.out_publish(publish, props)?;
        #[cfg(not(feature = "mqtt5"))]
        let packet = {
            let _ = props;
            OutPublish::V311(publish)
        };
        // A streamed payload's header alone (what a resend stores).
        let header = match body {
            Body::Streamed(n, _) => packet.header_len_for(n).map_err(Error::Encode)?,
            _ => 0,
        };
        let size = match body {
            Body::Streamed(n, _) => header.saturating_add(n),
            _ => packet.encoded_len().map_err(Error::Encode)?,
        };
        if size > self.send_limit() {
            return Err(Error::TooLarge { size });
        }
        let stored = match (flow, body) {
            (Some(_), _) if tx.store().capacity() == 0 => 0,
            (Some(_), Body::Streamed(_, true)) => header,
            (Some(_), Body::Streamed(_, false)) | (None, _) => 0,
            (Some(_), _) => size,
        };
        if stored > tx.store().free() {
            return Err(Error::StoreFull { needed: stored });
        }
        // What is queued: the whole packet, or the header alone.
        let (queued, header_for) = match body {
            Body::Whole(_) => (size, None),
            Body::Separate(p) => {
                let n = p.len();
                (packet.header_len_for(n).map_err(Error::Encode)?, Some(n))
            }
            Body::Streamed(n, _) => (header, Some(n)),
        };
        tx.push_with(queued, |dst| match header_for {
            None => packet.encode(dst),
            Some(n) => packet.encode_header_for(n, dst),
        })?;
        self.conn.last_tx_ms = now_ms;
        if let Some(flow) = flow {
            let mut off = 0;
            if let Some(dst) = tx.store_mut().reserve(stored).filter(|_| stored > 0) {
                // Cannot fail: the same packet (or header) was just encoded
                // into the TxBuf.
                let n = match body {
                    Body::Streamed(n, _) => packet.encode_header_for(n, dst).unwrap_or(0),
                    _ => packet.encode(dst).unwrap_or(0),
                };
                off = tx.store_mut().commit(n);
            }
            self.durable.commit_pid(pid);
            self.durable.add_outgoing(pid, flow, off, stored);
            if let (Body::Streamed(n, _), true) = (body, stored > 0) {
                self.durable.set_streamed(pid, n);
            }
        }
        Ok(pid)
    }

    /// Queues the resends still due on this connection, in order.
    ///
    /// # Errors
    /// [`Error::TxFull`] when the next one does not fit: flush and retry.
    fn pump_resends(&mut self, now_ms: u64, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        while let Some(m) = self.durable.next_resend() {
            if m.flow == OutgoingFlow::AwaitPubcomp {
                tx.push(&Packet::Pubrel(m.pid))?;
            } else {
                tx.push_stored(m.off as usize, m.len as usize)?;
                if m.streamed > 0 {
                    // The payload follows, written by the caller; nothing
                    // can be queued behind it (the next turn: TxFull).
                    tx.set_tail(m.streamed as usize, m.pid);
                }
            }
            self.durable.resent(m.pid);
            self.conn.last_tx_ms = now_ms;
        }
        Ok(())
    }

    /// Queues a SUBSCRIBE for `topics` (filter, maximum QoS) and returns its
    /// packet id; [`Event::Subscribed`] carries the SUBACK.
    ///
    /// # Errors
    /// [`Error::NotConnected`], [`Error::Encode`] (invalid filter, empty
    /// list), [`Error::InflightFull`], [`Error::TxFull`]; nothing is queued
    /// then.
    pub fn subscribe(
        &mut self,
        now_ms: u64,
        topics: &[(&str, QoS)],
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        self.require_open()?;
        for (filter, _) in topics {
            validate_topic_filter(filter)
                .map_err(|e| Error::Encode(EncodeError::InvalidTopic(e)))?;
        }
        #[cfg(feature = "mqtt5")]
        if self.v5.version.is_v5() {
            return self.subscribe_v5_qos(now_ms, topics, tx);
        }
        let pid = self.start_request()?;
        let packet = Packet::Subscribe(Subscribe {
            pid,
            topics: SubscribeTopics::List(topics),
        });
        self.finish_request(now_ms, pid, AckKind::Suback, &packet, tx)
    }

    /// Queues an UNSUBSCRIBE for `topics` and returns its packet id;
    /// [`Event::Unsubscribed`] reports the UNSUBACK.
    ///
    /// # Errors
    /// As [`subscribe`](Self::subscribe).
    pub fn unsubscribe(
        &mut self,
        now_ms: u64,
        topics: &[&str],
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        self.require_open()?;
        for filter in topics {
            validate_topic_filter(filter)
                .map_err(|e| Error::Encode(EncodeError::InvalidTopic(e)))?;
        }
        #[cfg(feature = "mqtt5")]
        if self.v5.version.is_v5() {
            return self.unsubscribe_v5(now_ms, topics, tx);
        }
        let pid = self.start_request()?;
        let packet = Packet::Unsubscribe(Unsubscribe {
            pid,
            topics: UnsubscribeTopics::List(topics),
        });
        self.finish_request(now_ms, pid, AckKind::Unsuback, &packet, tx)
    }

    fn start_request(&self) -> Result<u16, Error> {
        if self.conn.pending.is_full() {
            return Err(Error::InflightFull);
        }
        self.peek_pid()
    }

    fn finish_request(
        &mut self,
        now_ms: u64,
        pid: u16,
        kind: AckKind,
        packet: &Packet<'_>,
        tx: &mut TxBuf<'_>,
    ) -> Result<u16, Error> {
        self.check_size(packet)?;
        self.send(now_ms, packet, tx)?;
        self.file_request(pid, kind)
    }

    /// Files the queued request `pid` as awaiting its `kind` of ack.
    fn file_request(&mut self, pid: u16, kind: AckKind) -> Result<u16, Error> {
        self.durable.commit_pid(pid);
        self.conn
            .pending
            .push((pid, kind))
            .map_err(|_| Error::InflightFull)?;
        Ok(pid)
    }

    /// Queues a PINGREQ now; [`Event::Pong`] reports the answer.  Keepalive
    /// pings are sent by [`poll`](Self::poll) without this.
    ///
    /// # Errors
    /// [`Error::NotConnected`], [`Error::TxFull`].
    pub fn ping(&mut self, now_ms: u64, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        self.require_open()?;
        self.send(now_ms, &Packet::Pingreq, tx)?;
        if self.conn.ping_sent_at.is_none() {
            self.conn.ping_sent_at = Some(now_ms);
        }
        Ok(())
    }

    /// Queues DISCONNECT and marks the session not connected.  The caller
    /// flushes the `TxBuf` and closes the transport.
    ///
    /// # Errors
    /// [`Error::NotConnected`] if no connection was started,
    /// [`Error::TxFull`].
    pub fn disconnect(&mut self, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        if self.conn.link == Link::Closed {
            return Err(Error::NotConnected);
        }
        tx.push(&Packet::Disconnect)?;
        self.connection_lost();
        Ok(())
    }

    /// The transport closed or failed: the per-connection state is reset,
    /// the durable state kept.
    pub fn connection_lost(&mut self) {
        self.conn = Connection::new();
    }

    /// The application has message `pid` of an [`Event::Message`]: queues
    /// its PUBACK (QoS 1) or PUBREC (QoS 2, whose id is held from now on
    /// until the PUBREL, so that a resend is not delivered again).  An ack
    /// that does not fit the transmit buffer now, or is given while no
    /// connection is open, is queued by a later call on an open connection
    /// ([`handle`](Self::handle), [`poll`](Self::poll), a publish): this
    /// never fails for space.  A message of an earlier connection is acked
    /// on the current one (the broker's session still has it under that
    /// id).  An ack for a message the session no longer awaits (QoS 0,
    /// already acknowledged or abandoned, a session the broker has since
    /// dropped) does nothing.
    ///
    /// # Errors
    /// [`Error::Encode`] only if an ack could not be encoded (never).
    pub fn ack(&mut self, now_ms: u64, pid: u16, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        let Some(d) = self.deliveries.take(pid) else {
            return Ok(());
        };
        if d.qos == QoS::ExactlyOnce {
            // Cannot fail: room was checked before the message was delivered.
            self.durable.hold_incoming(pid, tx.held_bits());
        }
        if !self.is_connected() {
            self.deliveries.owe(d);
            return Ok(());
        }
        match self.send(now_ms, &d.ack_packet(), tx) {
            Err(Error::TxFull { .. }) => {
                self.deliveries.owe(d);
                Ok(())
            }
            other => {
                #[cfg(feature = "mqtt5")]
                if other.is_ok() {
                    self.v5.quota_released();
                }
                other
            }
        }
    }

    /// The application could not take message `pid` (its callback raised,
    /// memory ran out): nothing is acknowledged, a QoS 2 id is not held, so
    /// the broker delivers it again after the next reconnect.
    pub fn abandon(&mut self, pid: u16) {
        let _ = self.deliveries.take(pid);
    }

    /// [`abandon`](Self::abandon)s every message still with the
    /// application (acks already given, owed or not, are kept).  For a
    /// driver whose rule is "a message not acknowledged when the next
    /// connection starts is abandoned", so that the broker's resend on that
    /// connection is delivered again rather than waiting on a stale copy.
    pub fn abandon_all(&mut self) {
        self.deliveries.abandon_all();
    }

    /// Queues the acks owed since they did not fit.
    ///
    /// # Errors
    /// [`Error::TxFull`] when the next one still does not fit.
    #[inline]
    fn pump_owed(&mut self, now_ms: u64, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        if self.deliveries.first_owed().is_none() {
            return Ok(()); // the common case, inlined in every caller
        }
        self.pump_owed_acks(now_ms, tx)
    }

    #[inline(never)]
    fn pump_owed_acks(&mut self, now_ms: u64, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        while let Some(d) = self.deliveries.first_owed() {
            self.send(now_ms, &d.ack_packet(), tx)?;
            self.deliveries.paid(d);
            #[cfg(feature = "mqtt5")]
            self.v5.quota_released();
        }
        Ok(())
    }

    /// Handles one complete packet from the broker: updates the state,
    /// queues the replies the protocol requires (PUBREL, PUBCOMP, the PUBREC
    /// answering a resend of a held id; never the ack of a new message: see
    /// [`ack`](Self::ack)) and returns what the application should see.
    ///
    /// # Errors
    /// [`Error::TxFull`] when a required reply (or an owed ack) does not
    /// fit: nothing changed, flush and call again with the same packet.
    /// [`Error::HeldFull`] and [`Error::TooManyUnacked`]: nothing changed
    /// (see each).  [`Error::NotConnected`] when no connection was started.
    /// Fatal ([`Error::is_fatal`]): [`Error::Refused`], [`Error::Protocol`].
    pub fn handle<'p>(
        &mut self,
        now_ms: u64,
        packet: Packet<'p>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        match self.conn.link {
            Link::Closed => return Err(Error::NotConnected),
            Link::AwaitConnack { .. } => return self.handle_connack(now_ms, packet, tx),
            Link::Open => {}
        }
        self.pump_owed_before(now_ms, tx)?;
        match packet {
            Packet::Connack(_) => Err(Error::Protocol(ProtocolError::ConnackTwice)),
            Packet::Publish(publish) => self.handle_publish(now_ms, publish, tx),
            Packet::Puback(pid) => {
                self.complete(pid, PacketType::Puback, OutgoingFlow::AwaitPuback, tx)
            }
            Packet::Pubrec(pid) => match self.durable.outgoing_flow(pid) {
                Some(OutgoingFlow::AwaitPubrec) => {
                    self.send(now_ms, &Packet::Pubrel(pid), tx)?;
                    self.durable.pubrec_received(pid, tx.store_mut());
                    Ok(None)
                }
                Some(OutgoingFlow::AwaitPubcomp) => {
                    // A repeated PUBREC: answer again, the order is kept.
                    self.send(now_ms, &Packet::Pubrel(pid), tx)?;
                    Ok(None)
                }
                other => Err(wrong_ack(pid, PacketType::Pubrec, other)),
            },
            Packet::Pubrel(pid) => {
                // Answered even for an unknown id (MQTT-4.3.3-2 ff.): the
                // PUBCOMP may have been lost with the previous connection.
                self.send(now_ms, &Packet::Pubcomp(pid), tx)?;
                self.durable.release_incoming(pid, tx.held_bits());
                Ok(None)
            }
            Packet::Pubcomp(pid) => {
                self.complete(pid, PacketType::Pubcomp, OutgoingFlow::AwaitPubcomp, tx)
            }
            Packet::Suback(suback) => {
                self.conn.take_pending(suback.pid, AckKind::Suback)?;
                Ok(Some(Event::Subscribed {
                    pid: suback.pid,
                    return_codes: suback.return_codes,
                }))
            }
            Packet::Unsuback(pid) => {
                self.conn.take_pending(pid, AckKind::Unsuback)?;
                Ok(Some(Event::Unsubscribed { pid }))
            }
            Packet::Pingresp => {
                self.conn.ping_sent_at = None;
                Ok(Some(Event::Pong))
            }
            other => Err(unexpected(&other)),
        }
    }

    /// Owed acks first when there is room; if not, they wait and the
    /// packet is handled anyway (a new message's ack is owed behind them,
    /// in order).
    fn pump_owed_before(&mut self, now_ms: u64, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        match self.pump_owed(now_ms, tx) {
            Ok(()) | Err(Error::TxFull { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    fn handle_connack<'p>(
        &mut self,
        now_ms: u64,
        packet: Packet<'p>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        let Packet::Connack(connack) = packet else {
            return Err(unexpected(&packet));
        };
        if connack.code != ConnectReturnCode::Accepted {
            self.connection_lost();
            return Err(Error::Refused(connack.code));
        }
        self.accept_connack(now_ms, connack.session_present, tx)
    }

    /// The broker accepted the connection: resume or drop the session.
    fn accept_connack<'p>(
        &mut self,
        now_ms: u64,
        session_present: bool,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        self.conn.link = Link::Open;
        if !session_present {
            // The broker has no session: no PUBREL will come for held ids,
            // and messages still with the application need no ack.
            self.durable.clear_incoming(tx.held_bits());
            self.deliveries.clear();
        }
        // Everything still in flight goes again (a clean session has none).
        // What does not fit now is queued by later calls, before new
        // publishes.
        self.durable.mark_for_resend();
        match self.pump_resends(now_ms, tx) {
            Ok(()) | Err(Error::TxFull { .. }) => {}
            Err(e) => return Err(e),
        }
        Ok(Some(Event::Connected { session_present }))
    }

    fn handle_publish<'p>(
        &mut self,
        now_ms: u64,
        publish: Publish<'p>,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        let pid = publish.pid;
        if publish.qos == QoS::ExactlyOnce {
            if self.durable.incoming_held(pid, tx.held_bits()) {
                // A resend of a message the application has: ack only.
                self.send(now_ms, &Packet::Pubrec(pid), tx)?;
                return Ok(None);
            }
            if self.deliveries.delivering_qos2(pid) {
                // A resend while the first copy is still with the
                // application: its ack decides; the broker resends again
                // if that copy is abandoned.
                return Ok(None);
            }
        }
        if publish.qos != QoS::AtMostOnce {
            #[cfg(feature = "mqtt5")]
            self.v5.check_quota()?;
            if self.deliveries.is_full() {
                // Acks waiting for tx room: that is backpressure, the
                // message waits for them to go out.
                return Err(match self.deliveries.first_owed() {
                    Some(_) => Error::TxFull { needed: 4 },
                    None => Error::TooManyUnacked,
                });
            }
            if publish.qos == QoS::ExactlyOnce
                && !self
                    .durable
                    .incoming()
                    .has_room(self.deliveries.qos2_pending() + 1, tx.held_bits())
            {
                return Err(Error::HeldFull);
            }
            self.deliveries.start(pid, publish.qos);
            #[cfg(feature = "mqtt5")]
            self.v5.quota_taken();
        }
        Ok(Some(Event::Message(publish)))
    }

    /// Ends the flow of outgoing message `pid` if it awaits `flow` (`got`
    /// is the packet that says so).
    fn complete<'p>(
        &mut self,
        pid: u16,
        got: PacketType,
        flow: OutgoingFlow,
        tx: &mut TxBuf<'_>,
    ) -> Result<Option<Event<'p>>, Error> {
        match self.durable.outgoing_flow(pid) {
            Some(f) if f == flow => {}
            other => return Err(wrong_ack(pid, got, other)),
        }
        self.durable.remove_outgoing(pid, tx.store_mut());
        Ok(Some(Event::Published { pid }))
    }

    /// Runs the timers: queues a PINGREQ when nothing was queued for half
    /// the keepalive interval and no ping is outstanding.
    ///
    /// # Errors
    /// [`Error::KeepaliveTimeout`] when a PINGRESP (keepalive, at least
    /// [`MIN_PING_TIMEOUT_MS`]) or the CONNACK (the connect timeout) is
    /// overdue; [`Error::TxFull`] when the PINGREQ does not fit (flush and
    /// poll again).
    pub fn poll(&mut self, now_ms: u64, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        match self.conn.link {
            Link::Closed => Ok(()),
            Link::AwaitConnack { since_ms } => {
                if self.connect_timeout_ms > 0
                    && now_ms.saturating_sub(since_ms) >= self.connect_timeout_ms
                {
                    return Err(Error::KeepaliveTimeout);
                }
                Ok(())
            }
            Link::Open => {
                self.pump_owed(now_ms, tx)?;
                self.pump_resends(now_ms, tx)?;
                if let Some(sent) = self.conn.ping_sent_at {
                    if now_ms.saturating_sub(sent) >= self.ping_timeout_ms() {
                        return Err(Error::KeepaliveTimeout);
                    }
                    return Ok(());
                }
                if self.conn.keepalive_ms > 0
                    && now_ms.saturating_sub(self.conn.last_tx_ms) >= self.conn.keepalive_ms / 2
                {
                    self.send(now_ms, &Packet::Pingreq, tx)?;
                    self.conn.ping_sent_at = Some(now_ms);
                }
                Ok(())
            }
        }
    }

    /// When [`poll`](Self::poll) must next be called (absolute ms), `None`
    /// when no timer runs.
    #[must_use]
    pub fn poll_at(&self) -> Option<u64> {
        match self.conn.link {
            Link::Closed => None,
            Link::AwaitConnack { since_ms } => (self.connect_timeout_ms > 0)
                .then(|| since_ms.saturating_add(self.connect_timeout_ms)),
            Link::Open => match self.conn.ping_sent_at {
                Some(sent) => Some(sent.saturating_add(self.ping_timeout_ms())),
                None if self.conn.keepalive_ms > 0 => Some(
                    self.conn
                        .last_tx_ms
                        .saturating_add(self.conn.keepalive_ms / 2),
                ),
                None => None,
            },
        }
    }

    /// How long a PINGRESP may take.
    fn ping_timeout_ms(&self) -> u64 {
        if self.conn.keepalive_ms == 0 && self.connect_timeout_ms > 0 {
            self.connect_timeout_ms
        } else {
            self.conn.keepalive_ms.max(MIN_PING_TIMEOUT_MS)
        }
    }

    /// True once a connection was started and not lost since.
    fn conn_started(&self) -> bool {
        self.conn.link != Link::Closed
    }

    fn require_open(&self) -> Result<(), Error> {
        if self.is_connected() {
            Ok(())
        } else {
            Err(Error::NotConnected)
        }
    }

    /// A packet id not used by an outgoing message nor a pending request.
    fn peek_pid(&self) -> Result<u16, Error> {
        let durable = &self.durable;
        let conn = &self.conn;
        durable
            .peek_pid(|pid| durable.outgoing_flow(pid).is_some() || conn.is_pending(pid))
            .ok_or(Error::InflightFull)
    }

    /// Refuses an outgoing packet over the maximum packet size.
    fn check_size(&self, packet: &Packet<'_>) -> Result<(), Error> {
        self.check_len(packet.encoded_len().map_err(Error::Encode)?)
    }

    /// Refuses an outgoing packet of `size` bytes over the maximum packet
    /// size (ours, or the broker's when smaller).
    fn check_len(&self, size: usize) -> Result<(), Error> {
        if size > self.send_limit() {
            return Err(Error::TooLarge { size });
        }
        Ok(())
    }

    /// The largest packet that may be sent: ours, and in MQTT 5 the
    /// broker's Maximum Packet Size when smaller.
    fn send_limit(&self) -> usize {
        #[cfg(feature = "mqtt5")]
        return self.max_packet_size.min(self.v5.server_max_packet_size());
        #[cfg(not(feature = "mqtt5"))]
        self.max_packet_size
    }

    /// Outgoing QoS 1/2 messages allowed in flight: the window, and in
    /// MQTT 5 the broker's Receive Maximum when smaller.
    fn send_window(&self) -> usize {
        #[cfg(feature = "mqtt5")]
        return self.window.min(self.v5.server_receive_maximum());
        #[cfg(not(feature = "mqtt5"))]
        self.window
    }

    /// `publish` with `props` in the session's protocol version.
    ///
    /// # Errors
    /// [`EncodeError::NotInVersion`] for properties in 3.1.1.
    #[cfg(feature = "mqtt5")]
    fn out_publish<'p>(
        &self,
        publish: Publish<'p>,
        props: OutProps<'p>,
    ) -> Result<OutPublish<'p>, Error> {
        if self.v5.version.is_v5() {
            Ok(OutPublish::V5(crate::wire::v5::Publish { publish, props }))
        } else if props.is_empty() {
            Ok(OutPublish::V311(publish))
        } else {
            Err(Error::Encode(EncodeError::NotInVersion))
        }
    }

    /// Queues `packet` and notes the time.
    fn send(&mut self, now_ms: u64, packet: &Packet<'_>, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        tx.push(packet)?;
        self.conn.last_tx_ms = now_ms;
        Ok(())
    }
}

/// Where a publish's payload is.
#[derive(Clone, Copy)]
enum Body<'p> {
    /// Queued with the packet.
    Whole(&'p [u8]),
    /// Written by the caller after the queued header; stored for a resend.
    Separate(&'p [u8]),
    /// This many bytes written by the caller from elsewhere; the header
    /// stored for a resend when the caller can write them again.
    Streamed(usize, bool),
}

/// The protocol error for a packet the broker may not send here.
fn unexpected(packet: &Packet<'_>) -> Error {
    Error::Protocol(ProtocolError::UnexpectedPacket(packet.packet_type()))
}

/// The protocol error for an acknowledgement `got` of outgoing message
/// `pid`, which stands at `flow` (`None`: not in flight).
fn wrong_ack(pid: u16, got: PacketType, flow: Option<OutgoingFlow>) -> Error {
    Error::Protocol(match flow {
        Some(awaited) => ProtocolError::WrongAck { pid, got, awaited },
        None => ProtocolError::UnknownPacketId(pid),
    })
}

#[cfg(test)]
mod tests;
#[cfg(all(test, feature = "mqtt5"))]
mod tests_v5;
