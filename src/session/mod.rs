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
#[cfg(feature = "mqtt5")]
mod alias_out;
#[cfg(feature = "mqtt5")]
mod auth;
mod delivery;
mod error;
mod event;
mod held;
mod incoming;
mod persist;
mod publish;
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
#[cfg(feature = "mqtt5")]
pub use alias_out::OutgoingAliases;
pub use delivery::MAX_UNACKED;
pub use error::{Error, ProtocolError};
pub use event::Event;
pub use held::{HELD_BITMAP_BYTES, INLINE_HELD};
pub use persist::{crc32, RestoreError};
pub use rxbuf::{Chunk, Frame, FrameOf, RxBuf, RxParts};
pub use state::OutgoingFlow;
pub use store::Store;
pub use txbuf::TxBuf;
#[cfg(feature = "mqtt5")]
pub use v5::{ConnectOptions, MAX_CONNECT_PROPERTIES, MAX_SUBSCRIBE_FILTERS};

use crate::wire::{validate_topic_filter, Connect, EncodeError, QoS, Version};
#[cfg(not(feature = "mqtt5"))]
use crate::wire::{Packet, Subscribe, SubscribeTopics, Unsubscribe, UnsubscribeTopics};
use delivery::Deliveries;
#[cfg(feature = "mqtt5")]
use incoming::wrong_ack;
#[cfg(feature = "mqtt5")]
use publish::Body;
use state::Durable;
use txbuf::{out, Out};

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
        // One CONNECT encoder for both versions in an MQTT 5 build.
        #[cfg(feature = "mqtt5")]
        return self.connect_with(now_ms, connect, &ConnectOptions::DEFAULT, tx);
        #[cfg(not(feature = "mqtt5"))]
        {
            let packet = Packet::Connect(*connect);
            self.check_size(&packet)?;
            tx.push_out(&packet, Version::V311)?;
            self.start_connection(now_ms, connect, tx);
            Ok(())
        }
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
        // One SUBSCRIBE encoder for both versions in an MQTT 5 build.
        #[cfg(feature = "mqtt5")]
        return self.subscribe_v5_qos(now_ms, topics, tx);
        #[cfg(not(feature = "mqtt5"))]
        {
            let pid = self.start_request()?;
            let packet = Packet::Subscribe(Subscribe {
                pid,
                topics: SubscribeTopics::List(topics),
            });
            self.finish_request(now_ms, pid, AckKind::Suback, &packet, tx)
        }
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
        return self.unsubscribe_v5(now_ms, topics, tx);
        #[cfg(not(feature = "mqtt5"))]
        {
            let pid = self.start_request()?;
            let packet = Packet::Unsubscribe(Unsubscribe {
                pid,
                topics: UnsubscribeTopics::List(topics),
            });
            self.finish_request(now_ms, pid, AckKind::Unsuback, &packet, tx)
        }
    }

    fn start_request(&self) -> Result<u16, Error> {
        if self.conn.pending.is_full() {
            return Err(Error::InflightFull);
        }
        self.peek_pid()
    }

    #[cfg(not(feature = "mqtt5"))]
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
        self.send(now_ms, &out::PINGREQ, tx)?;
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
        tx.push_out(&out::DISCONNECT, self.out_version())?;
        self.connection_lost();
        Ok(())
    }

    /// The transport closed or failed: the per-connection state is reset,
    /// the durable state kept.
    pub fn connection_lost(&mut self) {
        self.conn = Connection::new();
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
                    self.send(now_ms, &out::PINGREQ, tx)?;
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
    #[cfg(not(feature = "mqtt5"))]
    fn check_size(&self, packet: &Packet<'_>) -> Result<(), Error> {
        self.check_len(packet.encoded_len_from_client().map_err(Error::Encode)?)
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

    /// The version the session's packets are encoded in.
    fn out_version(&self) -> Version {
        #[cfg(feature = "mqtt5")]
        return self.v5.version;
        #[cfg(not(feature = "mqtt5"))]
        Version::V311
    }

    /// Queues `packet` and notes the time.
    fn send(&mut self, now_ms: u64, packet: &Out<'_>, tx: &mut TxBuf<'_>) -> Result<(), Error> {
        tx.push_out(packet, self.out_version())?;
        self.conn.last_tx_ms = now_ms;
        Ok(())
    }
}

#[cfg(test)]
mod tests;
#[cfg(all(test, feature = "mqtt5"))]
mod tests_v5;
