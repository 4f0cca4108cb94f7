//! [`RxBuf`]: received bytes framed into packets in place.
//!
//! The one receive framer, used by the C ABI, the blocking [`Client`] and
//! the test harness: bytes are read straight into [`RxBuf::window`],
//! reported with [`RxBuf::commit`], and [`RxBuf::next_packet`] parses the
//! next whole packet where it lies.  A packet is *lent* to the caller (the
//! events the session returns borrow it) until the next call on the
//! `RxBuf`, which drops it; [`RxBuf::keep`] undoes the lending when the
//! packet could not be handled yet (the transmit buffer was full).
//!
//! The fixed header is checked before anything else: a packet over the
//! session's maximum packet size is refused as soon as its header is in
//! ([`Error::IncomingTooLarge`]), and one larger than the buffer asks for a
//! larger buffer ([`Error::RxTooSmall`]) before its body is read.
//!
//! Like [`TxBuf`](super::TxBuf), an `RxBuf` can be taken apart
//! ([`RxBuf::parts`]) and rebuilt ([`RxBuf::from_parts`]) around the same
//! memory, for a caller that keeps the buffer between calls.
//!
//! [`Client`]: crate::client::Client

use crate::wire::{parse_fixed_header, FixedHeader, Packet};

use super::Error;

/// Where an [`RxBuf`]'s bytes stand: `buf[start..end]` is unconsumed, of
/// which the first `lent` bytes are the packet lent by the last
/// [`RxBuf::next_packet`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RxParts {
    /// First unconsumed byte.
    pub start: usize,
    /// End of the received bytes.
    pub end: usize,
    /// Length of the lent packet at `start` (0: none).
    pub lent: usize,
}

/// Received bytes in a caller-owned buffer, framed in place.
#[derive(Debug)]
pub struct RxBuf<'a> {
    buf: &'a mut [u8],
    at: RxParts,
}

impl<'a> RxBuf<'a> {
    /// An empty receive buffer over `buf`.
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self::from_parts(buf, RxParts::default())
    }

    /// Rebuilds an `RxBuf` over the same memory (the first `parts.end`
    /// bytes as they were); out-of-range parts are clamped.
    pub fn from_parts(buf: &'a mut [u8], parts: RxParts) -> Self {
        let end = parts.end.min(buf.len());
        let start = parts.start.min(end);
        let lent = parts.lent.min(end.saturating_sub(start));
        Self {
            buf,
            at: RxParts { start, end, lent },
        }
    }

    /// What [`from_parts`](Self::from_parts) needs to rebuild this.
    #[must_use]
    pub fn parts(&self) -> RxParts {
        self.at
    }

    /// Size of the buffer.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Unconsumed bytes, the lent packet excluded.
    #[must_use]
    pub fn len(&self) -> usize {
        self.at
            .end
            .saturating_sub(self.at.start)
            .saturating_sub(self.at.lent)
    }

    /// True when no byte waits to be framed.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Drops every byte (a new connection).
    pub fn clear(&mut self) {
        self.at = RxParts::default();
    }

    /// Drops the lent packet: the caller is done with its events.
    pub fn release(&mut self) {
        self.at.start = self.at.start.saturating_add(self.at.lent);
        self.at.lent = 0;
        if self.at.start == self.at.end {
            self.at.start = 0;
            self.at.end = 0;
        }
    }

    /// The free space to read into (after releasing the lent packet and
    /// moving the unconsumed bytes to the front); empty when the buffer is
    /// full, which [`next_packet`](Self::next_packet) reports first.
    pub fn window(&mut self) -> &mut [u8] {
        self.release();
        let RxParts { start, end, .. } = self.at;
        if start > 0 {
            self.buf.copy_within(start..end, 0);
            self.at.end = end.saturating_sub(start);
            self.at.start = 0;
        }
        self.buf.get_mut(self.at.end..).unwrap_or_default()
    }

    /// Records `n` bytes read into the [`window`](Self::window).
    pub fn commit(&mut self, n: usize) {
        self.at.end = self.at.end.saturating_add(n).min(self.buf.len());
    }

    /// The fixed header of the whole packet at the front, `None` if its
    /// bytes are not all in.
    ///
    /// # Errors
    /// As [`next_packet`](Self::next_packet), without parsing the body.
    fn framed(&self, max_packet_size: usize) -> Result<Option<FixedHeader>, Error> {
        let from = self.at.start.saturating_add(self.at.lent);
        let bytes = self.buf.get(from..self.at.end).unwrap_or_default();
        let Some(header) = parse_fixed_header(bytes)? else {
            return Ok(None);
        };
        let total = header.packet_len();
        if total > max_packet_size {
            return Err(Error::IncomingTooLarge { size: total });
        }
        if total > self.buf.len() {
            return Err(Error::RxTooSmall { needed: total });
        }
        Ok((total <= bytes.len()).then_some(header))
    }

    /// Whether [`next_packet`](Self::next_packet) has something to say
    /// without more bytes: a whole packet, or an error.
    #[must_use]
    pub fn ready(&self, max_packet_size: usize) -> bool {
        !matches!(self.framed(max_packet_size), Ok(None))
    }

    /// Releases the lent packet and lends the next whole one, parsed in
    /// place; `Ok(None)` when its bytes are not all in (read more).
    ///
    /// # Errors
    /// Fatal: [`Error::Decode`] (malformed bytes),
    /// [`Error::IncomingTooLarge`] (over `max_packet_size`, refused from its
    /// header).  [`Error::RxTooSmall`] when the packet is larger than the
    /// buffer: rebuild it over a larger copy and call again.  Nothing is
    /// lent on error.
    pub fn next_packet(&mut self, max_packet_size: usize) -> Result<Option<Packet<'_>>, Error> {
        self.release();
        let Some(header) = self.framed(max_packet_size)? else {
            return Ok(None);
        };
        let start = self.at.start;
        let total = header.packet_len();
        // `framed` saw the whole packet.
        let body = self
            .buf
            .get(start.saturating_add(header.header_len)..start.saturating_add(total))
            .unwrap_or_default();
        let packet = Packet::parse_body(&header, body)?;
        self.at.lent = total;
        Ok(Some(packet))
    }

    /// The lent packet was not handled: the next
    /// [`next_packet`](Self::next_packet) returns it again.
    pub fn keep(&mut self) {
        self.at.lent = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::DecodeError;

    const MAX: usize = 1000;
    const PINGRESP: &[u8] = &[0xd0, 0x00]; // PINGRESP
    const PUBACK_7: &[u8] = &[0x40, 0x02, 0x00, 0x07]; // PUBACK id 7

    fn read(rx: &mut RxBuf<'_>, bytes: &[u8]) {
        let win = rx.window();
        win[..bytes.len()].copy_from_slice(bytes);
        rx.commit(bytes.len());
    }

    #[test]
    fn frames_split_packets_in_place() {
        let mut mem = [0u8; 8];
        let mut rx = RxBuf::new(&mut mem);
        read(&mut rx, &PUBACK_7[..3]);
        assert!(!rx.ready(MAX));
        assert_eq!(rx.next_packet(MAX), Ok(None));
        read(&mut rx, &[PUBACK_7[3], PINGRESP[0]]);
        assert_eq!(rx.next_packet(MAX), Ok(Some(Packet::Puback(7))));
        assert_eq!(rx.len(), 1, "the lent packet is not counted");
        assert_eq!(rx.next_packet(MAX), Ok(None), "PUBACK released");
        read(&mut rx, &PINGRESP[1..]);
        assert_eq!(rx.parts().start, 0, "compacted before reading");
        assert!(rx.ready(MAX));
        assert_eq!(rx.next_packet(MAX), Ok(Some(Packet::Pingresp)));
        rx.keep();
        assert_eq!(rx.next_packet(MAX), Ok(Some(Packet::Pingresp)), "kept");
        rx.release();
        assert!(rx.is_empty());
        assert_eq!(rx.parts(), RxParts::default());
    }

    #[test]
    fn refuses_from_the_header() {
        let mut mem = [0u8; 8];
        let mut rx = RxBuf::new(&mut mem);
        // PUBLISH announcing 200 bytes: too large for the buffer, not for max.
        read(&mut rx, &[0x30, 0xc8, 0x01]);
        assert!(rx.ready(MAX));
        assert_eq!(rx.next_packet(MAX), Err(Error::RxTooSmall { needed: 203 }));
        assert_eq!(
            rx.next_packet(100),
            Err(Error::IncomingTooLarge { size: 203 })
        );
        let mut mem = [0u8; 8];
        let mut rx = RxBuf::new(&mut mem);
        read(&mut rx, &[0x00, 0x00]); // packet type 0
        assert_eq!(
            rx.next_packet(MAX),
            Err(Error::Decode(DecodeError::UnknownPacketType(0)))
        );
    }

    #[test]
    fn rebuilt_from_parts() {
        let mut mem = [0u8; 8];
        let parts = {
            let mut rx = RxBuf::new(&mut mem);
            read(&mut rx, &[0xd0, 0x00, 0xd0]);
            assert!(rx.next_packet(MAX).unwrap().is_some());
            rx.parts()
        };
        assert_eq!(
            parts,
            RxParts {
                start: 0,
                end: 3,
                lent: 2
            }
        );
        // A larger copy of the same bytes, as after a realloc.
        let mut bigger = [0u8; 16];
        bigger[..8].copy_from_slice(&mem);
        let mut rx = RxBuf::from_parts(&mut bigger, parts);
        read(&mut rx, &[0x00]);
        assert_eq!(rx.next_packet(MAX), Ok(Some(Packet::Pingresp)));
        let rx = RxBuf::from_parts(
            &mut mem,
            RxParts {
                start: 9,
                end: 99,
                lent: 5,
            },
        );
        assert_eq!(
            rx.parts(),
            RxParts {
                start: 8,
                end: 8,
                lent: 0
            },
            "clamped"
        );
    }
}
