//! A thin blocking MQTT client: a [`Session`] driven over an
//! [`embedded_io`] transport.
//!
//! The client owns no memory: the caller lends it a receive buffer (`rx`,
//! which must hold the largest packet the broker will send) and a transmit
//! buffer (`tx`, which must hold the largest packet the application sends;
//! bigger PUBLISH payloads are written straight from the caller's slice).
//! It never reads a clock: every call takes `now_ms`, a monotonic
//! millisecond count, and [`Client::poll_at`] tells when keepalive needs the
//! next call to [`Client::poll`].

use core::fmt;

use embedded_io::{Read, Write};

use crate::session::{Error, Event, Session, TxBuf};
use crate::wire::{parse_fixed_header, Connect, Packet, QoS};

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
    /// The broker sent a packet of `needed` bytes, more than the receive
    /// buffer holds.  The connection must be dropped.
    PacketTooLarge {
        /// Size of the packet.
        needed: usize,
    },
}

impl<E> ClientError<E> {
    /// True when the connection must be dropped (and reconnected with
    /// [`Client::connect`] on a new transport).
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
            Self::PacketTooLarge { needed } => {
                write!(
                    f,
                    "received packet of {needed} bytes exceeds the receive buffer"
                )
            }
        }
    }
}

/// A blocking MQTT client over transport `T`.
#[derive(Debug)]
pub struct Client<'b, T: Read + Write> {
    transport: T,
    session: Session,
    rx: &'b mut [u8],
    /// Bytes received into `rx`.
    rx_len: usize,
    /// Length of the packet at the front of `rx` whose event was returned
    /// by the last [`poll`](Client::poll); dropped by the next call.
    rx_delivered: usize,
    tx: &'b mut [u8],
    /// Bytes queued in `tx`.
    tx_len: usize,
}

impl<'b, T: Read + Write> Client<'b, T> {
    /// A client over an open `transport` with the given buffers.
    pub fn new(transport: T, rx: &'b mut [u8], tx: &'b mut [u8]) -> Self {
        Self {
            transport,
            session: Session::new(),
            rx,
            rx_len: 0,
            rx_delivered: 0,
            tx,
            tx_len: 0,
        }
    }

    /// The session state machine.
    pub fn session(&self) -> &Session {
        &self.session
    }

    /// The session, e.g. to set the connect timeout.
    pub fn session_mut(&mut self) -> &mut Session {
        &mut self.session
    }

    /// The transport.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// Replaces the transport (after a connection loss) and drops every
    /// buffered byte of the old one; the session's durable state is kept.
    /// Call [`connect`](Self::connect) next.
    pub fn set_transport(&mut self, transport: T) -> T {
        self.session.connection_lost();
        self.rx_len = 0;
        self.rx_delivered = 0;
        self.tx_len = 0;
        core::mem::replace(&mut self.transport, transport)
    }

    /// Gives back the transport.
    pub fn into_transport(self) -> T {
        self.transport
    }

    /// True when the broker accepted the connection and it was not lost.
    pub fn is_connected(&self) -> bool {
        self.session.is_connected()
    }

    /// When [`poll`](Self::poll) must next be called to keep the connection
    /// alive (absolute ms), `None` if no timer runs.
    pub fn poll_at(&self) -> Option<u64> {
        self.session.poll_at()
    }

    /// Sends CONNECT and blocks until the CONNACK; returns the broker's
    /// session-present flag.  Since `now_ms` does not advance while it
    /// blocks, a broker that never answers is detected by the transport's
    /// read timeout, not by the session's connect timeout.
    ///
    /// # Errors
    /// [`ClientError::Session`] with [`Error::Refused`] when the broker
    /// refuses, transport errors, [`ClientError::Closed`].
    pub fn connect(
        &mut self,
        now_ms: u64,
        connect: &Connect<'_>,
    ) -> Result<bool, ClientError<T::Error>> {
        self.rx_len = 0;
        self.rx_delivered = 0;
        self.tx_len = 0;
        self.queue(|session, tx| session.connect(now_ms, connect, tx))?;
        self.flush()?;
        loop {
            if let Some(Event::Connected { session_present }) = self.poll(now_ms)? {
                return Ok(session_present);
            }
        }
    }

    /// Publishes a message and returns its packet id (0 for QoS 0).  Does
    /// not wait for the acknowledgement: [`poll`](Self::poll) reports
    /// [`Event::Published`], or use [`wait_published`](Self::wait_published).
    /// A payload bigger than the transmit buffer is written straight from
    /// `payload`.
    ///
    /// # Errors
    /// [`ClientError::Session`] ([`Error::InflightFull`],
    /// [`Error::Encode`], [`Error::NotConnected`]), transport errors.
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
            Err(ClientError::Session(Error::TxFull { needed })) if needed > self.tx.len() => {
                let pid = self.queue(|session, tx| {
                    session.publish_header(now_ms, topic, payload, qos, retain, tx)
                })?;
                self.flush()?;
                write_all(&mut self.transport, payload).map_err(|(e, _)| e)?;
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

    /// Runs the keepalive timers, then returns the next event.  Reads once
    /// (blocking) when no complete packet is buffered; `Ok(None)` when that
    /// read did not complete a packet, or the packet needs no attention
    /// (an ack the session handled).  The event borrows the receive buffer
    /// until the next call.
    ///
    /// # Errors
    /// Fatal ([`ClientError::is_fatal`]): transport errors,
    /// [`ClientError::Closed`], [`ClientError::PacketTooLarge`], and session
    /// errors such as [`Error::KeepaliveTimeout`] or [`Error::Protocol`].
    pub fn poll(&mut self, now_ms: u64) -> Result<Option<Event<'_>>, ClientError<T::Error>> {
        self.drop_delivered();
        self.queue(|session, tx| session.poll(now_ms, tx))?;
        self.flush()?;
        let len = match self.buffered_packet()? {
            Some(len) => len,
            None => {
                self.read_once()?;
                match self.buffered_packet()? {
                    Some(len) => len,
                    None => return Ok(None),
                }
            }
        };
        let rx: &[u8] = self.rx.get(..len).unwrap_or_default();
        loop {
            let packet = match Packet::parse(rx) {
                Ok(Some((packet, _))) => packet,
                Ok(None) => return Err(ClientError::PacketTooLarge { needed: len }),
                Err(e) => return Err(ClientError::Session(Error::Decode(e))),
            };
            let mut tx = TxBuf::new(self.tx, self.tx_len);
            let mut handled = self.session.handle(now_ms, packet, &mut tx);
            if let Ok(Some(Event::Message(p))) = &handled {
                // Stopgap until the driver returns acks to its caller: the
                // ack is queued as soon as the event exists.
                if let Err(e) = self.session.ack(now_ms, p.pid, &mut tx) {
                    handled = Err(e);
                }
            }
            self.tx_len = tx.len();
            match handled {
                Ok(event) => {
                    flush(&mut self.transport, self.tx, &mut self.tx_len)?;
                    self.rx_delivered = len;
                    return Ok(event);
                }
                Err(Error::TxFull { needed }) if needed <= self.tx.len() && self.tx_len > 0 => {
                    // Make room for the ack and handle the packet again.
                    flush(&mut self.transport, self.tx, &mut self.tx_len)?;
                }
                Err(e) => return Err(ClientError::Session(e)),
            }
        }
    }

    /// Blocks until outgoing message `pid` is acknowledged.  Every other
    /// event that arrives meanwhile goes to `on_event`.
    ///
    /// # Errors
    /// As [`poll`](Self::poll).
    pub fn wait_published(
        &mut self,
        now_ms: u64,
        pid: u16,
        mut on_event: impl FnMut(Event<'_>),
    ) -> Result<(), ClientError<T::Error>> {
        while self.session.is_inflight(pid) {
            match self.poll(now_ms)? {
                Some(Event::Published { pid: done }) if done == pid => {}
                Some(event) => on_event(event),
                None => {}
            }
        }
        Ok(())
    }

    /// Runs a session operation against the transmit buffer, flushing and
    /// retrying once when it reports [`Error::TxFull`] and a flush can help.
    fn queue<R>(
        &mut self,
        mut op: impl FnMut(&mut Session, &mut TxBuf<'_>) -> Result<R, Error>,
    ) -> Result<R, ClientError<T::Error>> {
        let result = self.queue_once(&mut op);
        match result {
            Err(Error::TxFull { needed }) if needed <= self.tx.len() && self.tx_len > 0 => {
                self.flush()?;
                Ok(self.queue_once(&mut op)?)
            }
            other => Ok(other?),
        }
    }

    fn queue_once<R>(
        &mut self,
        op: &mut impl FnMut(&mut Session, &mut TxBuf<'_>) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let mut tx = TxBuf::new(self.tx, self.tx_len);
        let result = op(&mut self.session, &mut tx);
        self.tx_len = tx.len();
        result
    }

    fn flush(&mut self) -> Result<(), ClientError<T::Error>> {
        flush(&mut self.transport, self.tx, &mut self.tx_len)
    }

    /// Drops the packet returned by the previous [`poll`](Self::poll).
    fn drop_delivered(&mut self) {
        let n = self.rx_delivered.min(self.rx_len);
        self.rx.copy_within(n..self.rx_len, 0);
        self.rx_len -= n;
        self.rx_delivered = 0;
    }

    /// The length of the complete packet at the front of `rx`, if there is
    /// one; refuses a packet `rx` cannot hold as soon as its header is in.
    fn buffered_packet(&self) -> Result<Option<usize>, ClientError<T::Error>> {
        let received = self.rx.get(..self.rx_len).unwrap_or_default();
        match parse_fixed_header(received) {
            Ok(None) => Ok(None),
            Ok(Some(header)) => {
                let needed = header.packet_len();
                if needed > self.rx.len() {
                    Err(ClientError::PacketTooLarge { needed })
                } else if needed <= self.rx_len {
                    Ok(Some(needed))
                } else {
                    Ok(None)
                }
            }
            Err(e) => Err(ClientError::Session(Error::Decode(e))),
        }
    }

    /// One blocking read into the free part of `rx`.
    fn read_once(&mut self) -> Result<(), ClientError<T::Error>> {
        let free = match self.rx.get_mut(self.rx_len..) {
            Some(free) if !free.is_empty() => free,
            // Full without a complete header: only a buffer under 5 bytes.
            _ => {
                return Err(ClientError::PacketTooLarge {
                    needed: self.rx.len().saturating_add(1),
                })
            }
        };
        let n = self.transport.read(free).map_err(ClientError::Transport)?;
        if n == 0 {
            return Err(ClientError::Closed);
        }
        self.rx_len = self.rx_len.saturating_add(n).min(self.rx.len());
        Ok(())
    }
}

/// Writes the queued bytes of `tx[..*tx_len]` and flushes the transport.
fn flush<T: Write>(
    transport: &mut T,
    tx: &mut [u8],
    tx_len: &mut usize,
) -> Result<(), ClientError<T::Error>> {
    if *tx_len == 0 {
        return Ok(());
    }
    let mut buf = TxBuf::new(tx, *tx_len);
    let result = write_all(transport, buf.pending());
    // On error, keep what was not written so a caller could retry.
    let written = match result {
        Ok(()) => buf.len(),
        Err((_, written)) => written,
    };
    buf.consume(written);
    *tx_len = buf.len();
    result.map_err(|(e, _)| e)?;
    transport.flush().map_err(ClientError::Transport)
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
    use std::collections::VecDeque;
    use std::vec::Vec;

    /// A scripted transport: reads return the queued chunks in order (at
    /// most `read_max` bytes at a time, 0 when the script is exhausted);
    /// writes accept at most `write_max` bytes, and 0 once `write_budget`
    /// bytes were written.
    struct Mock {
        reads: VecDeque<Vec<u8>>,
        read_max: usize,
        written: Vec<u8>,
        write_max: usize,
        write_budget: usize,
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
            let n = buf
                .len()
                .min(self.write_max)
                .min(self.write_budget - self.written.len());
            self.written.extend_from_slice(&buf[..n]);
            Ok(n)
        }

        fn flush(&mut self) -> Result<(), MockError> {
            Ok(())
        }
    }

    /// A broker sending `chunks` (an empty chunk is a read error).
    fn mock(chunks: &[&[u8]]) -> Mock {
        Mock {
            reads: chunks.iter().map(|c| c.to_vec()).collect(),
            read_max: usize::MAX,
            written: Vec::new(),
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

    const CONNACK_OK: &[u8] = &[0x20, 0x02, 0x00, 0x00]; // CONNACK accepted
    #[rustfmt::skip]
    const CONNECT_C: &[u8] = &[
        0x10, 0x0d, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, 0x02, 0x00, 0x0a,
        0x00, 0x01, b'c',             // CONNECT "c", clean, keepalive 10
    ];

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
        let (mut rx, mut tx) = ([0u8; 32], [0u8; 32]);
        let mut client = Client::new(t, &mut rx, &mut tx);
        assert_eq!(client.connect(0, &connect_packet()), Ok(false));
        assert_eq!(client.publish(0, "t", b"y", QoS::AtLeastOnce, false), Ok(1));
        let mut events = Vec::new();
        while client.session().is_inflight(1) {
            if let Some(ev) = client.poll(0).unwrap() {
                events.push(std::format!("{ev:?}"));
            }
        }
        assert_eq!(events.len(), 2);
        assert!(events[0].starts_with("Message"), "{events:?}");
        assert_eq!(events[1], "Published { pid: 1 }");
        let mut expected = CONNECT_C.to_vec();
        #[rustfmt::skip]
        expected.extend_from_slice(&[
            0x32, 0x06, 0x00, 0x01, b't', 0x00, 0x01, b'y', // PUBLISH QoS 1 id 1 "t" "y"
            0x40, 0x02, 0x00, 0x05,                         // PUBACK id 5
        ]);
        assert_eq!(client.into_transport().written, expected);
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
        let written = client.into_transport().written;
        let (packet, used) = Packet::parse(&written[CONNECT_C.len()..]).unwrap().unwrap();
        assert_eq!(used, written.len() - CONNECT_C.len());
        match packet {
            Packet::Publish(p) => assert_eq!((p.topic, p.payload), ("big", &payload[..])),
            other => panic!("{other:?}"),
        }
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
        assert_eq!(
            client.poll(0).unwrap_err(),
            ClientError::PacketTooLarge { needed: 131 }
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
        let written = client.into_transport().written;
        assert_eq!(&written[CONNECT_C.len()..], [0xc0, 0x00]); // PINGREQ
    }
}
