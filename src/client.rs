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
mod tests {
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
    fn until_closed(
        client: &mut Client<'_, Mock>,
        ack: bool,
    ) -> (Vec<Seen>, ClientError<MockError>) {
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
}
