//! [`Store`]: sent QoS 1/2 PUBLISH packets kept until acknowledged.
//!
//! MQTT requires a client reconnecting with `clean_session = false` to resend
//! every unacknowledged PUBLISH with its original packet id and DUP set
//! [MQTT-4.4.0-1].  The store keeps the encoded packets for that, in a
//! caller-owned buffer like [`TxBuf`](super::TxBuf): `buf[..used]` holds the
//! packets back to back, in the order they were sent, and the session's
//! durable state records where each one lies.  A packet leaves the store when
//! its PUBACK (QoS 1) or PUBREC (QoS 2) arrives; the bytes after it move down.
//!
//! Sizing: the store bounds the bytes in flight.  A publish whose packet does
//! not fit the free space waits for acknowledgements; one larger than the
//! whole store needs a larger buffer.  An empty store (capacity 0) disables
//! resending: messages still in flight when a connection drops are lost.

/// Encoded PUBLISH packets awaiting acknowledgement: `buf[..used]`.
#[derive(Debug)]
pub struct Store<'a> {
    buf: &'a mut [u8],
    used: usize,
}

impl Store<'static> {
    /// A store of capacity 0: nothing is kept for a resend.
    #[must_use]
    pub fn none() -> Self {
        Store {
            buf: &mut [],
            used: 0,
        }
    }
}

impl<'a> Store<'a> {
    /// Wraps `buf` whose first `used` bytes hold stored packets (`used` is
    /// clamped to `buf.len()`).
    pub fn new(buf: &'a mut [u8], used: usize) -> Self {
        let used = used.min(buf.len());
        Self { buf, used }
    }

    /// Bytes holding stored packets.
    #[must_use]
    pub fn used(&self) -> usize {
        self.used
    }

    /// Size of the underlying buffer; 0 disables resending.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Bytes still free.
    #[must_use]
    pub fn free(&self) -> usize {
        self.buf.len().saturating_sub(self.used)
    }

    /// The stored bytes at `off..off + len` (empty if out of range).
    #[must_use]
    pub fn get(&self, off: usize, len: usize) -> &[u8] {
        off.checked_add(len)
            .filter(|&end| end <= self.used)
            .and_then(|end| self.buf.get(off..end))
            .unwrap_or_default()
    }

    /// The free space, to encode a packet of `len` bytes into; `None` if it
    /// does not fit.  [`commit`](Self::commit) keeps what was written.
    pub(crate) fn reserve(&mut self, len: usize) -> Option<&mut [u8]> {
        let end = self.used.checked_add(len)?;
        self.buf.get_mut(self.used..end)
    }

    /// Keeps `len` bytes written after [`reserve`](Self::reserve); returns
    /// their offset.
    pub(crate) fn commit(&mut self, len: usize) -> usize {
        let off = self.used;
        self.used = self.used.saturating_add(len).min(self.buf.len());
        off
    }

    /// Drops `off..off + len`; the bytes after it move down by `len`.
    pub(crate) fn remove(&mut self, off: usize, len: usize) {
        let Some(end) = off.checked_add(len).filter(|&e| e <= self.used) else {
            return;
        };
        self.buf.copy_within(end..self.used, off);
        self.used -= len;
    }

    /// Forgets every packet.
    pub(crate) fn clear(&mut self) {
        self.used = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_get_remove() {
        let mut buf = [0u8; 8];
        let mut s = Store::new(&mut buf, 0);
        s.reserve(3).unwrap().copy_from_slice(b"abc");
        assert_eq!(s.commit(3), 0);
        s.reserve(2).unwrap().copy_from_slice(b"de");
        assert_eq!(s.commit(2), 3);
        assert!(s.reserve(4).is_none(), "only 3 bytes free");
        assert_eq!(s.get(3, 2), b"de");
        s.remove(0, 3);
        assert_eq!((s.used(), s.get(0, 2)), (2, &b"de"[..]));
        assert_eq!(s.get(1, 5), b"", "out of range reads nothing");
        s.remove(1, 9);
        assert_eq!(s.used(), 2, "out of range removes nothing");
        s.clear();
        assert_eq!(s.free(), 8);
        assert_eq!(Store::none().capacity(), 0);
    }
}
