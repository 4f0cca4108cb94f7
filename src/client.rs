//! A thin blocking MQTT client: a [`Session`] driven over an
//! [`embedded_io`] transport.
//!
//! # Memory
//! The client owns no memory; the caller lends it:
//! - `rx`, framed in place by an [`RxBuf`]: it must hold the largest packet
//!   the broker will send.  A packet larger than `rx`, or than the maximum
//!   packet size ([`Session::set_max_packet_size`], through
//!   [`Client::session_mut`]), is refused from its fixed header with the
//!   fatal [`ClientError::PacketTooLarge`] before its body is read.
//! - `tx`: it must hold the largest packet the application sends plus a few
//!   acks.  A bigger PUBLISH is written straight from the caller's payload,
//!   except a QoS 1/2 one when there is a store (see below).
//! - optionally a message store ([`Client::with_store`]): the sent QoS 1/2
//!   packets, kept until acknowledged and resent after a reconnect with
//!   `clean_session = false` (see [`Store`] for its sizing).  Without one,
//!   QoS 1/2 messages in flight when a connection drops are not resent.  A
//!   resend goes through `tx`, so with a store `tx` must hold every QoS 1/2
//!   packet: a larger one is refused with [`Error::TxFull`].
//! - optionally the held-id bitmap ([`Client::with_held_bitmap`],
//!   [`HELD_BITMAP_BYTES`]): needed only when a broker keeps more than
//!   [`INLINE_HELD`](crate::session::INLINE_HELD) incoming QoS 2 messages
//!   unreleased.  Without it such a message is refused with
//!   [`Error::HeldFull`] (not delivered, not acknowledged, handled again by
//!   the next [`Client::poll`]).
//!
//! The client never reads a clock: every call takes `now_ms`, a monotonic
//! millisecond count, and [`Client::poll_at`] tells when keepalive needs the
//! next call to [`Client::poll`].
//!
//! # Received, then acknowledged
//! "Received" and "acknowledged" are two steps, as in rumqttc's manual-ack
//! mode.  [`Client::poll`] returns an [`Event::Message`] with nothing
//! acknowledged; once the application has the message (stored it, acted
//! on it: whatever "have" means to it) it calls [`Client::ack`] with the
//! message's `pid`, which writes the PUBACK (QoS 1) or PUBREC (QoS 2).  If
//! it cannot take the message it calls [`Client::abandon`]: nothing is
//! acknowledged and the broker sends the message again after the next
//! reconnect with `clean_session = false`.  QoS 0 messages need no ack
//! (acking one does nothing).
//!
//! - An ack is recorded even when writing it fails: after a reconnect, the
//!   broker's resend of an acknowledged QoS 2 message is answered, not
//!   delivered again.  (A QoS 1 message may come again: at least once.)
//! - A message neither acknowledged nor abandoned when [`Client::connect`]
//!   starts the next connection is abandoned then, so the broker's resend
//!   on that connection is delivered again.  Acknowledge before
//!   reconnecting what the application has.
//! - [`Client::wait_published`] hands the events it meets to its
//!   `on_event` and acknowledges each message when `on_event` returns.
//!
//! So a QoS 2 message is acknowledged exactly once: its id is held from
//! the ack to the PUBREL, across reconnects, and a resend of a held id is
//! answered without being delivered.
//!
//! # Errors and reconnecting
//! After a fatal error ([`ClientError::is_fatal`]) the client is not
//! connected: open a new transport, give it to [`Client::set_transport`]
//! and call [`Client::connect`].  With `clean_session = false` and a store,
//! every QoS 1/2 message still in flight is resent before `connect`
//! returns, in its original order, with its original id (PUBLISH with DUP,
//! PUBREL for those whose PUBREC had come); a broker that lost the session
//! takes them as new messages.

use core::fmt;

use embedded_io::{Read, Write};

use crate::session::{Error, Event, RxBuf, Session, Store, TxBuf, HELD_BITMAP_BYTES};
use crate::wire::{Connect, QoS};

/// Why a [`Client`] operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientError<E> {
    /// The transport failed.
    Transport(E),
    /// The session refused the operation or the broker broke the protocol;
    /// see [`Error::is_fatal`].
    Session(Error),
    /// The transport was closed: a read returned 0 bytes or a write
    /// accepted none.
    Closed,
    /// The broker sent a packet of `needed` bytes, more than `limit`: the
    /// receive buffer or the maximum packet size, whichever is smaller.
    /// Refused from its fixed header; the connection must be dropped.
    PacketTooLarge {
        /// Size of the packet (fixed header included).
        needed: usize,
        /// The largest packet the client accepts.
        limit: usize,
    },
}

impl<E> ClientError<E> {
    /// True when the connection must be dropped: the client is no longer
    /// connected; reconnect with [`Client::set_transport`] and
    /// [`Client::connect`].
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::Session(e) => e.is_fatal(),
            Self::Transport(_) | Self::Closed | Self::PacketTooLarge { .. } => true,
        }
    }
}

impl<E> From<Error> for ClientError<E> {
    fn from(e: Error) -> Self {
        Self::Session(e)
    }
}

impl<E: fmt::Debug> fmt::Display for ClientError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Transport(e) => write!(f, "transport error: {e:?}"),
            Self::Session(e) => write!(f, "{e}"),
            Self::Closed => f.write_str("connection closed"),
            Self::PacketTooLarge { needed, limit } => write!(
                f,
                "broker sent a packet of {needed} bytes, over the client's limit of \
                 {limit} (receive buffer or maximum packet size)"
            ),
        }
    }
}

/// The memory the session writes to on every call: the transmit queue,
/// the message store and the held-id bitmap, with the fill levels kept
/// between calls.
#[derive(Debug)]
struct Outbound<'b> {
    tx: &'b mut [u8],
    /// Bytes queued in `tx`.
    tx_len: usize,
    store: &'b mut [u8],
    /// Bytes of `store` holding packets.
    store_used: usize,
    /// The held-id bitmap; empty until the caller lends one.
    held: &'b mut [u8],
}

impl Outbound<'_> {
    /// Runs `f` with the session and a [`TxBuf`] carrying the store and
    /// the bitmap, then records their fill levels.
    fn with<R>(
        &mut self,
        session: &mut Session,
        f: impl FnOnce(&mut Session, &mut TxBuf<'_>) -> R,
    ) -> R {
        let store = Store::new(self.store, self.store_used);
        let mut tx = TxBuf::with_store(self.tx, self.tx_len, store).with_held_bitmap(self.held);
        let r = f(session, &mut tx);
        self.tx_len = tx.len();
        self.store_used = tx.store().used();
        r
    }

    /// Writes every queued byte and flushes the transport.  On error the
    /// bytes not written stay queued.
    fn flush<T: Write>(&mut self, transport: &mut T) -> Result<(), ClientError<T::Error>> {
        if self.tx_len == 0 {
            return Ok(());
        }
        let mut tx = TxBuf::new(self.tx, self.tx_len);
        let result = write_all(transport, tx.pending());
        let written = match result {
            Ok(()) => tx.len(),
            Err((_, written)) => written,
        };
        tx.consume(written);
        self.tx_len = tx.len();
        result.map_err(|(e, _)| e)?;
        transport.flush().map_err(ClientError::Transport)
    }
}

/// A blocking MQTT client over transport `T`; see the
/// [module documentation](self).
#[derive(Debug)]
pub struct Client<'b, T: Read + Write> {
    transport: T,
    session: Session,
    rx: RxBuf<'b>,
    /// The packet lent by the last [`poll`](Client::poll) was refused for
    /// now (the session changed nothing): the next call handles it again.
    rx_retry: bool,
    out: Outbound<'b>,
}

/// Marks the session's connection lost when `e` is fatal, so that the
/// client is not connected after a fatal error.
fn lost<E>(session: &mut Session, e: ClientError<E>) -> ClientError<E> {
    if e.is_fatal() {
        session.connection_lost();
    }
    e
}

impl<'b, T: Read + Write> Client<'b, T> {
    /// A client over an open `transport` with the given buffers and no
    /// message store: QoS 1/2 messages in flight when a connection drops
    /// are not resent.
    pub fn new(transport: T, rx: &'b mut [u8], tx: &'b mut [u8]) -> Self {
        Self::with_store(transport, rx, tx, &mut [])
    }

    /// A client with a message store: QoS 1/2 messages are kept in `store`
    /// until acknowledged and resent after a reconnect with
    /// `clean_session = false`.  A publish whose packet does not fit the
    /// free part of the store fails with [`Error::StoreFull`]; with a
    /// store, `tx` must hold every QoS 1/2 packet (see the
    /// [module documentation](self)).
    pub fn with_store(
        transport: T,
        rx: &'b mut [u8],
        tx: &'b mut [u8],
        store: &'b mut [u8],
    ) -> Self {
        Self {
            transport,
            session: Session::new(),
            rx: RxBuf::new(rx),
            rx_retry: false,
            out: Outbound {
                tx,
                tx_len: 0,
                store,
                store_used: 0,
                held: &mut [],
            },
        }
    }

    /// Lends the held-id bitmap ([`HELD_BITMAP_BYTES`] bytes, any content),
    /// used once a broker keeps more than
    /// [`INLINE_HELD`](crate::session::INLINE_HELD) incoming QoS 2 messages
    /// unreleased.  May be given after [`Error::HeldFull`]: the next
    /// [`poll`](Self::poll) handles the refused message again.  If a bitmap
    /// is already in use its ids are copied into `bits`; a `bits` too small
    /// for that is ignored.
    #[must_use]
    pub fn with_held_bitmap(mut self, bits: &'b mut [u8]) -> Self {
        if self.session.held_bitmap_in_use() {
            let (Some(dst), Some(src)) = (
                bits.get_mut(..HELD_BITMAP_BYTES),
                self.out.held.get(..HELD_BITMAP_BYTES),
            ) else {
                return self;
            };
            dst.copy_from_slice(src);
        }
        self.out.held = bits;
        self
    }

    /// The session state machine.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, e.g. to set the connect timeout, the window or the
    /// maximum packet size.
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The transport.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Bytes of the message store holding unacknowledged packets.
    pub fn store_used(&self) -> usize {
        self.out.store_used
    }

    /// Replaces the transport (after a connection loss) and drops every
    /// buffered byte of the old one; the session's durable state and the
    /// message store are kept.  Call [`connect`](Self::connect) next.
    pub fn set_transport(&mut self, transport: T) -> T {
        self.session.connection_lost();
        self.reset_io();
        core::mem::replace(&mut self.transport, transport)
    }

    /// Gives back the transport.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// True when the broker accepted the connection and it was not lost
    /// (no fatal error since).
    pub fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    /// When [`poll`](Self::poll) must next be called to keep the connection
    /// alive (absolute ms), `None` if no timer runs.
    pub fn poll_at(&self) -> Option<u64> {
        self.session.poll_at()
    }

    /// Sends CONNECT and blocks until the CONNACK; returns the broker's
    /// session-present flag.  Messages of the previous connection not
    /// acknowledged yet are abandoned (see the [module documentation](self)).
    /// With `clean_session = false` and a store, the messages in flight are
    /// resent before this returns.  No message can come before the CONNACK;
    /// those right after it wait in `rx` for [`poll`](Self::poll).
    ///
    /// Since `now_ms` does not advance while it blocks, a broker that never
    /// answers is detected by the transport's read timeout, not by the
    /// session's connect timeout.
    ///
    /// # Errors
    /// [`ClientError::Session`] with [`Error::Refused`] when the broker
    /// refuses, transport errors, [`ClientError::Closed`].
    pub fn connect(
        &mut self,
        now_ms: u64,
        connect: &Connect<'_>,
    ) -> Result<bool, ClientError<T::Error>> {
        self.session.abandon_all();
        self.reset_io();
        self.queue(|session, tx| session.connect(now_ms, connect, tx))?;
        self.flush()?;
        loop {
            let present = match self.poll(now_ms)? {
                Some(Event::Connected { session_present }) => Some(session_present),
                _ => None,
            };
            if let Some(present) = present {
                // The resends that did not fit beside the CONNACK's turn.
                self.pump(now_ms)?;
                return Ok(present);
            }
        }
    }

    /// Publishes a message and returns its packet id (0 for QoS 0).  Does
    /// not wait for the acknowledgement: [`poll`](Self::poll) reports
    /// [`Event::Published`], or use [`wait_published`](Self::wait_published).
    /// A payload bigger than the transmit buffer is written straight from
    /// `payload` (not at QoS 1/2 with a store).
    ///
    /// # Errors
    /// [`ClientError::Session`] ([`Error::InflightFull`],
    /// [`Error::StoreFull`], [`Error::TooLarge`], [`Error::Encode`],
    /// [`Error::NotConnected`], [`Error::TxFull`] for a QoS 1/2 packet
    /// larger than the transmit buffer with a store), transport errors.
    pub fn publish(
        &mut self,
        now_ms: u64,
        topic: &str,
        payload: &[u8],
        qos: QoS,
        retain: bool,
    ) -> Result<u16, ClientError<T::Error>> {
        let queued =
            self.queue(|session, tx| session.publish(now_ms, topic, payload, qos, retain, tx));
        let pid = match queued {
            Err(ClientError::Session(Error::TxFull { needed })) if needed > self.out.tx.len() => {
                if qos != QoS::AtMostOnce && !self.out.store.is_empty() {
                    // A stored message is resent through tx: it must fit.
                    return Err(ClientError::Session(Error::TxFull { needed }));
                }
                let pid = self.queue(|session, tx| {
                    session.publish_header(now_ms, topic, payload, qos, retain, tx)
                })?;
                self.flush()?;
                write_all(&mut self.transport, payload)
                    .map_err(|(e, _)| lost(&mut self.session, e))?;
                pid
            }
            other => other?,
        };
        self.flush()?;
        Ok(pid)
    }

    /// Subscribes to `topics` (filter, maximum QoS) and returns the packet
    /// id; [`poll`](Self::poll) reports [`Event::Subscribed`].
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub fn subscribe(
        &mut self,
        now_ms: u64,
        topics: &[(&str, QoS)],
    ) -> Result<u16, ClientError<T::Error>> {
        let pid = self.queue(|session, tx| session.subscribe(now_ms, topics, tx))?;
        self.flush()?;
        Ok(pid)
    }

    /// Unsubscribes from `topics` and returns the packet id;
    /// [`poll`](Self::poll) reports [`Event::Unsubscribed`].
    ///
    /// # Errors
    /// As [`publish`](Self::publish).
    pub fn unsubscribe(
        &mut self,
        now_ms: u64,
        topics: &[&str],
    ) -> Result<u16, ClientError<T::Error>> {
        let pid = self.queue(|session, tx| session.unsubscribe(now_ms, topics, tx))?;
        self.flush()?;
        Ok(pid)
    }

    /// Sends DISCONNECT.  The caller closes the transport afterwards.
    ///
    /// # Errors
    /// Transport errors, [`Error::NotConnected`].
    pub fn disconnect(&mut self) -> Result<(), ClientError<T::Error>> {
        self.queue(|session, tx| session.disconnect(tx))?;
        self.flush()
    }

    /// Runs the keepalive timers and sends what the session owes (resends,
    /// acks that did not fit), then returns the next event.  Reads once
    /// (blocking) when no complete packet is buffered; `Ok(None)` when that
    /// read did not complete a packet, or the packet needs no attention
    /// (an ack the session handled).  The event borrows the receive buffer
    /// until the next call.
    ///
    /// An [`Event::Message`] is not acknowledged: call [`ack`](Self::ack)
    /// (or [`abandon`](Self::abandon)) with its `pid`; see the
    /// [module documentation](self).
    ///
    /// # Errors
    /// Fatal ([`ClientError::is_fatal`]): transport errors,
    /// [`ClientError::Closed`], [`ClientError::PacketTooLarge`], and session
    /// errors such as [`Error::KeepaliveTimeout`], [`Error::Decode`] or
    /// [`Error::Protocol`].  Not fatal, the packet is handled again by the
    /// next call: [`Error::HeldFull`] (lend a bitmap with
    /// [`with_held_bitmap`](Self::with_held_bitmap), or drop the
    /// connection: the message was neither delivered nor acknowledged),
    /// [`Error::TooManyUnacked`] (ack or abandon a message first),
    /// [`Error::TxFull`] (a reply the packet requires does not fit even in
    /// the empty transmit buffer: it is too small).
    pub fn poll(&mut self, now_ms: u64) -> Result<Option<Event<'_>>, ClientError<T::Error>> {
        if core::mem::take(&mut self.rx_retry) {
            self.rx.keep();
        }
        self.pump(now_ms)?;
        let max = self.session.max_packet_size();
        if !self.rx.ready(max, 0) {
            self.read_once()?;
            if !self.rx.ready(max, 0) {
                return Ok(None);
            }
        }
        let limit = self.rx.capacity().min(max);
        // From here on `self.rx` lends the packet the event may borrow:
        // only the other fields are touched.
        let packet = match self.rx.next_packet(max) {
            Ok(Some(packet)) => packet,
            Ok(None) => return Ok(None),
            Err(e) => return Err(lost(&mut self.session, rx_error(e, limit))),
        };
        let handled = self.out.with(&mut self.session, |session, tx| {
            session.handle(now_ms, packet, tx)
        });
        match handled {
            Ok(event) => {
                self.out
                    .flush(&mut self.transport)
                    .map_err(|e| lost(&mut self.session, e))?;
                Ok(event)
            }
            Err(Error::TxFull { .. }) if self.out.tx_len > 0 => {
                // Owed acks filled tx: send them, then the packet again.
                self.rx_retry = true;
                self.out
                    .flush(&mut self.transport)
                    .map_err(|e| lost(&mut self.session, e))?;
                Ok(None)
            }
            Err(e) => {
                // The session changed nothing: keep the packet for a retry.
                self.rx_retry = !e.is_fatal();
                Err(lost(&mut self.session, e.into()))
            }
        }
    }

    /// The application has message `pid` (of an [`Event::Message`]):
    /// writes its PUBACK (QoS 1) or PUBREC (QoS 2; the id is held until the
    /// PUBREL, so a resend is not delivered again).  The ack is recorded
    /// even if writing it fails or the connection was lost; it is not sent
    /// on a later connection (the broker resends the message there, and a
    /// QoS 2 resend is then answered without being delivered).  Acking a
    /// QoS 0 message, or one already acknowledged or abandoned, does
    /// nothing.
    ///
    /// # Errors
    /// Transport errors and [`ClientError::Closed`] while writing the ack.
    pub fn ack(&mut self, now_ms: u64, pid: u16) -> Result<(), ClientError<T::Error>> {
        // Never fails for space: an ack that does not fit is owed and sent
        // by the next poll.
        self.out.with(&mut self.session, |session, tx| {
            session.ack(now_ms, pid, tx)
        })?;
        self.flush()
    }

    /// The application could not take message `pid`: it is not
    /// acknowledged (a QoS 2 id is not held), and the broker sends it again
    /// after the next reconnect with `clean_session = false`.
    pub fn abandon(&mut self, pid: u16) {
        self.session.abandon(pid);
    }

    /// Blocks until outgoing message `pid` is acknowledged.  Every other
    /// event that arrives meanwhile goes to `on_event`; a message is
    /// acknowledged when `on_event` returns, so `on_event` must have taken
    /// it by then (to decide per message, loop on [`poll`](Self::poll)
    /// until `!self.session().is_inflight(pid)` and ack each one yourself).
    ///
    /// # Errors
    /// As [`poll`](Self::poll) and [`ack`](Self::ack).
    pub fn wait_published(
        &mut self,
        now_ms: u64,
        pid: u16,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<(), ClientError<T::Error>> {
        while self.session.is_inflight(pid) {
            let delivered = match self.poll(now_ms)? {
                Some(Event::Published { pid: done }) if done == pid => None,
                Some(event) => {
                    let delivered = match event {
                        Event::Message(p) if p.qos != QoS::AtMostOnce => Some(p.pid),
                        _ => None,
                    };
                    on_event(event);
                    delivered
                }
                None => None,
            };
            if let Some(message) = delivered {
                self.ack(now_ms, message)?;
            }
        }
        Ok(())
    }

    /// Drops every buffered byte: a new connection starts.
    fn reset_io(&mut self) {
        self.rx.clear();
        self.rx_retry = false;
        self.out.tx_len = 0;
    }

    /// Queues what the session owes (keepalive ping, resends, owed acks)
    /// and writes it.
    fn pump(&mut self, now_ms: u64) -> Result<(), ClientError<T::Error>> {
        self.queue(|session, tx| session.poll(now_ms, tx))?;
        self.flush()
    }

    /// Runs a session operation against the transmit buffer, flushing and
    /// retrying while it reports [`Error::TxFull`] and a flush can help.
    fn queue<R>(
        &mut self,
        mut op: impl FnMut(&mut Session, &mut TxBuf<'_>) -> Result<R, Error>,
    ) -> Result<R, ClientError<T::Error>> {
        loop {
            match self.out.with(&mut self.session, &mut op) {
                // Each turn writes a non-empty tx: the session progresses
                // (the bytes it queued before running out of room went).
                Err(Error::TxFull { needed })
                    if needed <= self.out.tx.len() && self.out.tx_len > 0 =>
                {
                    self.flush()?;
                }
                other => return other.map_err(|e| lost(&mut self.session, e.into())),
            }
        }
    }

    fn flush(&mut self) -> Result<(), ClientError<T::Error>> {
        self.out
            .flush(&mut self.transport)
            .map_err(|e| lost(&mut self.session, e))
    }

    /// One blocking read into the free part of `rx`.
    fn read_once(&mut self) -> Result<(), ClientError<T::Error>> {
        let window = self.rx.window();
        if window.is_empty() {
            // Full without a whole fixed header: only a buffer under 5 bytes.
            let needed = self.rx.capacity().saturating_add(1);
            let limit = self.rx.capacity();
            return Err(lost(
                &mut self.session,
                ClientError::PacketTooLarge { needed, limit },
            ));
        }
        let read = self.transport.read(window);
        let n = match read {
            Ok(0) => return Err(lost(&mut self.session, ClientError::Closed)),
            Ok(n) => n,
            Err(e) => return Err(lost(&mut self.session, ClientError::Transport(e))),
        };
        self.rx.commit(n);
        Ok(())
    }
}

/// A receive framing error as the client reports it.
fn rx_error<E>(e: Error, limit: usize) -> ClientError<E> {
    match e {
        Error::RxTooSmall { needed } | Error::IncomingTooLarge { size: needed } => {
            ClientError::PacketTooLarge { needed, limit }
        }
        other => ClientError::Session(other),
    }
}

/// Writes all of `bytes`; a write that accepts nothing is
/// [`ClientError::Closed`] (embedded-io's `write_all` would panic).  On
/// error, also reports how many bytes were written.
fn write_all<T: Write>(
    transport: &mut T,
    bytes: &[u8],
) -> Result<(), (ClientError<T::Error>, usize)> {
    let mut written = 0;
    while let Some(rest) = bytes.get(written..).filter(|rest| !rest.is_empty()) {
        match transport.write(rest) {
            Ok(0) => return Err((ClientError::Closed, written)),
            Ok(n) => written = written.saturating_add(n),
            Err(e) => return Err((ClientError::Transport(e), written)),
        }
    }
    Ok(())
}

#[cfg(test)]
#[path = "client_tests.rs"]
mod tests;
