//! [`TxBuf`]: a caller-owned queue of encoded packets waiting to be written.
//!
//! The session never owns memory.  Every operation that emits bytes takes a
//! `TxBuf` borrowed from the caller, appends whole packets to it, and the
//! caller writes [`TxBuf::pending`] to the transport and reports progress with
//! [`TxBuf::consume`].  Because the FFI layer keeps the buffer and its fill
//! level between calls, a `TxBuf` is re-created from `(buf, len)` each time.
//!
//! Sizing: the buffer must hold the largest packet the application sends
//! (use [`Session::publish_header`](super::Session::publish_header) for bigger
//! payloads) plus the acks queued while it is not flushed (4 bytes each).
//!
//! A `TxBuf` also carries the rest of the memory the caller lends the
//! session: the outbound [`Store`] (the sent QoS 1/2 packets kept for a
//! resend after a reconnect) and, once a broker keeps more than
//! [`INLINE_HELD`](super::INLINE_HELD) incoming QoS 2 messages unreleased,
//! the held-id bitmap ([`HELD_BITMAP_BYTES`](super::HELD_BITMAP_BYTES);
//! [`with_held_bitmap`](TxBuf::with_held_bitmap)).

use crate::wire::{EncodeError, Packet, Publish, Version};

use super::{Error, Store};

/// A packet as the session encodes it.  In an MQTT 5 build the
/// version-generic [`v5::Packet`](crate::wire::v5::Packet) for both
/// versions (with [`Version::V311`] it writes the bytes
/// [`Packet`] does), so the firmware carries one codec; otherwise the
/// 3.1.1 [`Packet`].  Only a client's packets are encoded
/// ([`TxBuf::push_out`]).
#[cfg(feature = "mqtt5")]
pub(crate) type Out<'a> = crate::wire::v5::Packet<'a>;
#[cfg(not(feature = "mqtt5"))]
pub(crate) type Out<'a> = Packet<'a>;

/// The session's own small packets as [`Out`] values: the acks, PINGREQ
/// and the plain DISCONNECT, the same bytes in both versions.
pub(crate) mod out {
    use super::Out;
    #[cfg(feature = "mqtt5")]
    use crate::wire::v5::{Ack, Packet as P, ReasonOnly};
    #[cfg(not(feature = "mqtt5"))]
    use crate::wire::Packet as P;

    #[cfg(feature = "mqtt5")]
    const fn ack(pid: u16) -> Ack<'static> {
        Ack::success(pid)
    }
    #[cfg(not(feature = "mqtt5"))]
    const fn ack(pid: u16) -> u16 {
        pid
    }

    pub(crate) const fn puback(pid: u16) -> Out<'static> {
        P::Puback(ack(pid))
    }
    pub(crate) const fn pubrec(pid: u16) -> Out<'static> {
        P::Pubrec(ack(pid))
    }
    pub(crate) const fn pubrel(pid: u16) -> Out<'static> {
        P::Pubrel(ack(pid))
    }
    pub(crate) const fn pubcomp(pid: u16) -> Out<'static> {
        P::Pubcomp(ack(pid))
    }
    pub(crate) const PINGREQ: Out<'static> = P::Pingreq;
    #[cfg(feature = "mqtt5")]
    pub(crate) const DISCONNECT: Out<'static> = P::Disconnect(ReasonOnly::SUCCESS);
    #[cfg(not(feature = "mqtt5"))]
    pub(crate) const DISCONNECT: Out<'static> = P::Disconnect;
}

/// Outbound bytes waiting to be written: `buf[..len]`, oldest first; and the
/// store of unacknowledged packets.
#[derive(Debug)]
pub struct TxBuf<'a> {
    buf: &'a mut [u8],
    len: usize,
    store: Store<'a>,
    /// The held-id bitmap, empty until the caller lends one.
    held: &'a mut [u8],
    /// Payload bytes the caller writes after the queued ones (a streamed
    /// message's, see `Session::publish_streamed`): nothing may be queued
    /// while there are.  `tail_pid`: the message whose resend asked for
    /// them (0: the caller's own publish).
    tail: usize,
    tail_pid: u16,
}

impl<'a> TxBuf<'a> {
    /// Wraps `buf` whose first `len` bytes are already queued.  `len` is
    /// clamped to `buf.len()`.  No store: messages in flight when a
    /// connection drops are not resent.
    pub fn new(buf: &'a mut [u8], len: usize) -> Self {
        Self::with_store(buf, len, Store::none())
    }

    /// Like [`new`](Self::new), with a store for resending.
    pub fn with_store(buf: &'a mut [u8], len: usize, store: Store<'a>) -> Self {
        let len = len.min(buf.len());
        Self {
            buf,
            len,
            store,
            held: &mut [],
            tail: 0,
            tail_pid: 0,
        }
    }

    /// The tail (payload bytes the caller writes after the queued ones;
    /// nothing can be queued until they are) and, when a resend of a
    /// streamed message asked for it, that message's id (else 0): the
    /// caller writes that many bytes of that message's payload, from its
    /// start, after the queued bytes.
    #[must_use]
    pub fn tail(&self) -> (usize, u16) {
        (self.tail, self.tail_pid)
    }

    pub(crate) fn set_tail(&mut self, len: usize, pid: u16) {
        self.tail = len;
        self.tail_pid = pid;
    }

    /// Lends the held-id bitmap ([`HELD_BITMAP_BYTES`](super::HELD_BITMAP_BYTES)
    /// bytes, any content the first time; afterwards the same memory with
    /// what the session wrote to it).  The session asks for it with
    /// [`Error::HeldFull`].
    #[must_use]
    pub fn with_held_bitmap(mut self, bits: &'a mut [u8]) -> Self {
        self.held = bits;
        self
    }

    /// The held-id bitmap lent with [`with_held_bitmap`](Self::with_held_bitmap).
    pub(crate) fn held_bits(&mut self) -> &mut [u8] {
        self.held
    }

    /// The store and the held-id bitmap together.
    pub(crate) fn store_and_held(&mut self) -> (&mut Store<'a>, &mut [u8]) {
        (&mut self.store, self.held)
    }

    /// The store of sent, unacknowledged QoS 1/2 packets.
    #[must_use]
    pub fn store(&self) -> &Store<'a> {
        &self.store
    }

    pub(crate) fn store_mut(&mut self) -> &mut Store<'a> {
        &mut self.store
    }

    /// Queues stored packet bytes again, with DUP set on a PUBLISH.
    ///
    /// # Errors
    /// [`Error::TxFull`] when they do not fit; nothing is written then.
    pub(crate) fn push_stored(&mut self, off: usize, len: usize) -> Result<(), Error> {
        let full = Error::TxFull { needed: len };
        if len > self.free() {
            return Err(full);
        }
        let src = self.store.get(off, len);
        let end = self.len.saturating_add(len);
        let Some(dst) = self.buf.get_mut(self.len..end).filter(|_| src.len() == len) else {
            return Err(full);
        };
        dst.copy_from_slice(src);
        if let Some(first) = dst.first_mut() {
            if *first >> 4 == 3 {
                *first |= 0x08; // DUP on a resent PUBLISH [MQTT-3.3.1-1]
            }
        }
        self.len = end;
        Ok(())
    }

    /// Number of queued bytes.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing waits to be written.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Size of the underlying buffer.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Bytes still free at the end.
    #[must_use]
    pub fn free(&self) -> usize {
        if self.tail > 0 {
            return 0; // nothing goes behind a tail
        }
        self.buf.len().saturating_sub(self.len)
    }

    /// The bytes to write, oldest first.
    #[must_use]
    pub fn pending(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }

    /// Records that the first `n` pending bytes were written (`n` is clamped
    /// to [`len`](Self::len)); the rest moves to the front.
    pub fn consume(&mut self, n: usize) {
        let n = n.min(self.len);
        self.buf.copy_within(n..self.len, 0);
        self.len -= n;
    }

    /// Encodes `packet` after the pending bytes.
    ///
    /// # Errors
    /// [`Error::TxFull`] when the packet does not fit in the free space,
    /// [`Error::Encode`] when it cannot be encoded; nothing is written then.
    pub fn push(&mut self, packet: &Packet<'_>) -> Result<(), Error> {
        let needed = packet.encoded_len().map_err(Error::Encode)?;
        self.push_sized(packet, needed)
    }

    /// [`push`](Self::push) for a packet whose `encoded_len` the caller
    /// already has.
    pub(crate) fn push_sized(&mut self, packet: &Packet<'_>, needed: usize) -> Result<(), Error> {
        self.push_with(needed, |dst| packet.encode(dst))
    }

    /// Encodes the session's `packet` in protocol `v` after the pending
    /// bytes (see [`Out`]); returns its size.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub(crate) fn push_out(&mut self, packet: &Out<'_>, v: Version) -> Result<(), Error> {
        #[cfg(feature = "mqtt5")]
        {
            let needed = packet.encoded_len_from_client(v).map_err(Error::Encode)?;
            self.push_with(needed, |dst| packet.encode_from_client(dst, v))
        }
        #[cfg(not(feature = "mqtt5"))]
        {
            let _ = v;
            let needed = packet.encoded_len_from_client().map_err(Error::Encode)?;
            self.push_with(needed, |dst| packet.encode_from_client(dst))
        }
    }

    /// Appends the `needed` bytes `encode` writes into the free space (a
    /// packet in either protocol version, or only its header).
    pub(crate) fn push_with(
        &mut self,
        needed: usize,
        encode: impl FnOnce(&mut [u8]) -> Result<usize, EncodeError>,
    ) -> Result<(), Error> {
        let dst = self.reserve(needed)?;
        let n = encode(dst).map_err(|e| map_encode(e, needed))?;
        self.len = self.len.saturating_add(n);
        Ok(())
    }

    /// Encodes the bytes of `publish` that precede a payload of
    /// `payload_len` bytes (fixed header, topic, packet id) after the pending
    /// bytes; `publish.payload` is ignored.  The caller writes the payload to
    /// the transport right after these bytes.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_publish_header(
        &mut self,
        publish: &Publish<'_>,
        payload_len: usize,
    ) -> Result<(), Error> {
        let needed = publish.header_len_for(payload_len).map_err(Error::Encode)?;
        self.push_with(needed, |dst| publish.encode_header_for(payload_len, dst))
    }

    /// The free space, if at least `needed` bytes.
    fn reserve(&mut self, needed: usize) -> Result<&mut [u8], Error> {
        if needed > self.free() {
            return Err(Error::TxFull { needed });
        }
        self.buf.get_mut(self.len..).ok_or(Error::TxFull { needed })
    }
}

/// An outgoing PUBLISH's properties: MQTT 5's, nothing without the feature.
#[cfg(feature = "mqtt5")]
pub(crate) type OutProps<'p> = crate::wire::Properties<'p>;
#[cfg(not(feature = "mqtt5"))]
pub(crate) type OutProps<'p> = core::marker::PhantomData<&'p ()>;

/// An outgoing PUBLISH encoded in the session's protocol version: in an
/// MQTT 5 build through the one version-generic encoder (see [`Out`]).
#[derive(Clone, Copy)]
pub(crate) enum OutPublish<'p> {
    #[cfg(not(feature = "mqtt5"))]
    V311(Publish<'p>),
    #[cfg(feature = "mqtt5")]
    In(crate::wire::v5::Publish<'p>, Version),
}

impl OutPublish<'_> {
    pub(crate) fn encoded_len(&self) -> Result<usize, EncodeError> {
        match self {
            #[cfg(not(feature = "mqtt5"))]
            Self::V311(p) => Packet::Publish(*p).encoded_len_from_client(),
            #[cfg(feature = "mqtt5")]
            Self::In(p, v) => Out::Publish(*p).encoded_len_from_client(*v),
        }
    }

    pub(crate) fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        match self {
            #[cfg(not(feature = "mqtt5"))]
            Self::V311(p) => Packet::Publish(*p).encode_from_client(out),
            #[cfg(feature = "mqtt5")]
            Self::In(p, v) => Out::Publish(*p).encode_from_client(out, *v),
        }
    }

    pub(crate) fn header_len_for(&self, payload_len: usize) -> Result<usize, EncodeError> {
        match self {
            #[cfg(not(feature = "mqtt5"))]
            Self::V311(p) => p.header_len_for(payload_len),
            #[cfg(feature = "mqtt5")]
            Self::In(p, v) => p.header_len_in(payload_len, *v),
        }
    }

    pub(crate) fn encode_header_for(
        &self,
        payload_len: usize,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        match self {
            #[cfg(not(feature = "mqtt5"))]
            Self::V311(p) => p.encode_header_for(payload_len, out),
            #[cfg(feature = "mqtt5")]
            Self::In(p, v) => p.encode_header_in(payload_len, *v, out),
        }
    }
}

/// The encoder only reports a short buffer if `encoded_len` lied; keep the
/// caller-facing error the same either way.
fn map_encode(e: EncodeError, needed: usize) -> Error {
    match e {
        EncodeError::BufferTooSmall { .. } => Error::TxFull { needed },
        other => Error::Encode(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_consume() {
        let mut mem = [0u8; 6];
        let mut tx = TxBuf::new(&mut mem, 0);
        assert!(tx.is_empty());
        assert_eq!((tx.capacity(), tx.free()), (6, 6));
        tx.push(&Packet::Puback(10)).unwrap();
        assert_eq!(tx.pending(), &[0x40, 0x02, 0x00, 0x0a]); // PUBACK id 10
        assert_eq!(
            tx.push(&Packet::Pubrec(11)),
            Err(Error::TxFull { needed: 4 })
        );
        assert_eq!(tx.len(), 4, "a refused push writes nothing");
        tx.push(&Packet::Pingreq).unwrap();
        assert_eq!(tx.pending(), &[0x40, 0x02, 0x00, 0x0a, 0xc0, 0x00]);
        tx.consume(3);
        assert_eq!(tx.pending(), &[0x0a, 0xc0, 0x00]);
        tx.consume(100);
        assert!(tx.is_empty());
    }

    #[test]
    fn recreate_from_parts() {
        let mut mem = [0u8; 8];
        let len = {
            let mut tx = TxBuf::new(&mut mem, 0);
            tx.push(&Packet::Pingreq).unwrap();
            tx.len()
        };
        let tx = TxBuf::new(&mut mem, len);
        assert_eq!(tx.pending(), &[0xc0, 0x00]); // PINGREQ
        let tx = TxBuf::new(&mut mem, 99);
        assert_eq!(tx.len(), 8, "len is clamped");
    }
}
