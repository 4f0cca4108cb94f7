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
//! A PUBLISH whose payload is larger than a chunk size the caller chooses
//! is not held whole: [`RxBuf::next_frame`] keeps its fixed and variable
//! header (topic, packet id) at the front of the buffer and passes the
//! payload on in [`Chunk`]s of that size as it arrives, each dropped when
//! the next call comes, so the buffer never needs more than the header plus
//! one chunk ([`RxBuf::skip_stream`] drops the rest of one unread).  The
//! maximum packet size does not apply to such a PUBLISH: it is what lets a
//! message larger than memory through.
//!
//! Like [`TxBuf`](super::TxBuf), an `RxBuf` can be taken apart
//! ([`RxBuf::parts`]) and rebuilt ([`RxBuf::from_parts`]) around the same
//! memory, for a caller that keeps the buffer between calls.
//!
//! [`Client`]: crate::client::Client

use crate::wire::{
    parse_fixed_header, parse_fixed_header_for, FixedHeader, Packet, PacketType, Publish, Version,
};

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
    /// A PUBLISH passed through in chunks: the length of its fixed and
    /// variable header, kept at `start` (0: none).
    pub stream_head: usize,
    /// Its payload bytes not yet passed on (buffered or still to come).
    pub stream_left: usize,
    /// Its payload's length.
    pub stream_total: usize,
    /// The rest of its payload is dropped, not passed on.
    pub stream_skip: bool,
    /// Length of the chunk lent at `start + stream_head` (0: none).
    pub chunk_lent: usize,
}

/// A piece of a PUBLISH's payload ([`RxBuf::next_frame`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The PUBLISH, with `payload` this piece.  In MQTT 5 its topic is
    /// empty when it came as a Topic Alias alone.
    pub publish: Publish<'a>,
    /// MQTT 5: the PUBLISH's properties (every piece has them).
    #[cfg(feature = "mqtt5")]
    pub props: crate::wire::Properties<'a>,
    /// Where the piece starts in the payload.
    pub offset: usize,
    /// The payload's whole length.
    pub total: usize,
}

impl Chunk<'_> {
    /// The first piece of its message.
    #[must_use]
    pub fn is_first(&self) -> bool {
        self.offset == 0
    }

    /// The last piece of its message.
    #[must_use]
    pub fn is_last(&self) -> bool {
        self.offset.saturating_add(self.publish.payload.len()) >= self.total
    }
}

/// What [`RxBuf::next_frame`] lends: a whole packet or a payload piece.
pub type Frame<'a> = FrameOf<'a, Packet<'a>>;

/// A whole packet of representation `P` (the 3.1.1 [`Packet`] from
/// [`RxBuf::next_frame`], the version-generic MQTT 5 one from
/// `RxBuf::next_frame_v5`) or a payload piece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameOf<'a, P> {
    /// A whole packet.
    Packet(P),
    /// A piece of a PUBLISH too large for one chunk.
    Chunk(Chunk<'a>),
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
        let mut at = RxParts {
            start,
            end,
            lent,
            ..parts
        };
        let held = end.saturating_sub(start);
        if at.stream_head > held || lent > 0 {
            // Not a state this type makes: no stream.
            at.stream_head = 0;
        }
        if at.stream_head == 0 {
            at.stream_left = 0;
            at.stream_total = 0;
            at.stream_skip = false;
            at.chunk_lent = 0;
        }
        at.chunk_lent = at
            .chunk_lent
            .min(held.saturating_sub(at.stream_head))
            .min(at.stream_left);
        Self { buf, at }
    }

    /// [`from_parts`](Self::from_parts) for parts this type gave
    /// ([`parts`](Self::parts)) over the same memory: they are not checked
    /// again (every access stays bounds-checked: wrong parts give wrong
    /// framing, never undefined behaviour).
    pub(crate) fn resume(buf: &'a mut [u8], at: RxParts) -> Self {
        Self { buf, at }
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
            .saturating_sub(self.at.chunk_lent)
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

    /// Drops the lent packet or chunk: the caller is done with its events.
    pub fn release(&mut self) {
        if self.at.chunk_lent > 0 {
            self.drop_payload(self.at.chunk_lent);
            self.at.chunk_lent = 0;
        }
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
    #[inline(always)]
    fn framed(&self, max_packet_size: usize) -> Result<Option<FixedHeader>, Error> {
        self.framed_for(max_packet_size, Version::V311)
    }

    /// [`framed`](Self::framed) in protocol `version` (AUTH exists in v5).
    #[inline(always)]
    fn framed_for(
        &self,
        max_packet_size: usize,
        version: Version,
    ) -> Result<Option<FixedHeader>, Error> {
        let from = self.at.start.saturating_add(self.at.lent);
        let bytes = self.buf.get(from..self.at.end).unwrap_or_default();
        let Some(header) = parse_fixed_header_for(bytes, version)? else {
            return Ok(None);
        };
        if header.packet_type.client_only() {
            // A broker may not send it: refused from its first byte, as a
            // CONNACK twice is (the packet readers take none of these).
            return Err(Error::Protocol(super::ProtocolError::UnexpectedPacket(
                header.packet_type,
            )));
        }
        let total = header.packet_len();
        if total > max_packet_size {
            return Err(Error::IncomingTooLarge { size: total });
        }
        if total > self.buf.len() {
            return Err(Error::RxTooSmall { needed: total });
        }
        Ok((total <= bytes.len()).then_some(header))
    }

    /// Whether [`next_frame`](Self::next_frame) has something to say
    /// without more bytes: a whole packet, a chunk, an error.
    #[must_use]
    pub fn ready(&self, max_packet_size: usize, chunk: usize) -> bool {
        if self.streaming() {
            let from = self.at.start.saturating_add(self.at.stream_head);
            let buffered = self.at.end.saturating_sub(from);
            return if self.at.stream_skip {
                buffered > 0
            } else {
                buffered >= self.at.stream_left.min(chunk.max(1))
            };
        }
        let from = self.at.start.saturating_add(self.at.lent);
        let bytes = self.buf.get(from..self.at.end).unwrap_or_default();
        if chunk > 0 {
            if let Ok(Some(h)) = parse_fixed_header(bytes) {
                if h.packet_type == PacketType::Publish && h.remaining_len > chunk {
                    // A stream may start: its header (and a chunk) decide.
                    return bytes.len() >= h.header_len + 2 + chunk.min(h.remaining_len);
                }
            }
        }
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
    #[inline]
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
        let packet = Packet::parse_from_server(&header, body)?;
        self.at.lent = total;
        Ok(Some(packet))
    }

    /// [`next_packet`](Self::next_packet) read in protocol `version` into
    /// the MQTT 5 representation (for [`Session::handle_v5`](super::Session::handle_v5)).
    /// A PUBLISH too large for the buffer is not passed through in pieces
    /// yet in v5: it needs a buffer of its size.
    ///
    /// # Errors
    /// As [`next_packet`](Self::next_packet).
    #[cfg(feature = "mqtt5")]
    pub fn next_packet_v5(
        &mut self,
        max_packet_size: usize,
        version: Version,
    ) -> Result<Option<crate::wire::v5::Packet<'_>>, Error> {
        self.release();
        let Some(header) = self.framed_for(max_packet_size, version)? else {
            return Ok(None);
        };
        let start = self.at.start;
        let total = header.packet_len();
        // `framed_for` saw the whole packet.
        let body = self
            .buf
            .get(start.saturating_add(header.header_len)..start.saturating_add(total))
            .unwrap_or_default();
        let packet = crate::wire::v5::Packet::parse_from_server(&header, body, version)?;
        self.at.lent = total;
        Ok(Some(packet))
    }

    /// The lent packet (or chunk) was not handled: the next call returns
    /// it again.
    pub fn keep(&mut self) {
        self.at.lent = 0;
        self.at.chunk_lent = 0;
    }

    /// True while a PUBLISH is passed through in chunks.
    #[must_use]
    pub fn streaming(&self) -> bool {
        self.at.stream_head > 0
    }

    /// Drops the rest of the payload being passed through in chunks (the
    /// application gave up on it, or the session needs none of it): its
    /// bytes are read and discarded as they come.  Nothing when no stream.
    pub fn skip_stream(&mut self) {
        if self.streaming() {
            self.at.stream_skip = true;
        }
    }

    /// Drops `n` payload bytes at the front of the stream's payload; ends
    /// the stream when none is left.
    fn drop_payload(&mut self, n: usize) {
        let from = self.at.start.saturating_add(self.at.stream_head);
        let n = n
            .min(self.at.end.saturating_sub(from))
            .min(self.at.stream_left);
        let end = self.at.end;
        if let Some(rest) = from.checked_add(n).filter(|&r| r <= end) {
            self.buf.copy_within(rest..end, from);
        }
        self.at.end = end.saturating_sub(n);
        self.at.stream_left -= n;
        if self.at.stream_left == 0 {
            self.at.start = self.at.start.saturating_add(self.at.stream_head);
            self.at.stream_head = 0;
            self.at.stream_total = 0;
            self.at.stream_skip = false;
        }
    }

    /// Releases what was lent and lends the next whole packet or, for a
    /// PUBLISH whose payload is larger than `chunk` bytes (`chunk` > 0), the
    /// next piece of its payload: `chunk` bytes, or the rest.  `Ok(None)`
    /// when the bytes it needs are not all in.
    ///
    /// # Errors
    /// As [`next_packet`](Self::next_packet); a streamed PUBLISH asks for a
    /// buffer of its header plus `chunk` bytes ([`Error::RxTooSmall`]).
    pub fn next_frame(
        &mut self,
        max_packet_size: usize,
        chunk: usize,
    ) -> Result<Option<Frame<'_>>, Error> {
        self.frame_with(chunk, Version::V311, |rx| rx.next_packet(max_packet_size))
    }

    /// [`next_frame`](Self::next_frame) with whole packets read as
    /// [`next_packet_v5`](Self::next_packet_v5) reads them: one reader of
    /// both versions, pieces too (an MQTT 5 PUBLISH's header with its
    /// properties is kept, as 3.1.1's topic and packet id are).
    ///
    /// # Errors
    /// As [`next_frame`](Self::next_frame).
    #[cfg(feature = "mqtt5")]
    pub fn next_frame_v5(
        &mut self,
        max_packet_size: usize,
        chunk: usize,
        version: Version,
    ) -> Result<Option<FrameOf<'_, crate::wire::v5::Packet<'_>>>, Error> {
        self.frame_with(chunk, version, |rx| {
            rx.next_packet_v5(max_packet_size, version)
        })
    }

    /// The frame loop, with `whole` reading a whole packet.
    #[inline]
    fn frame_with<'s, P>(
        &'s mut self,
        chunk: usize,
        version: Version,
        whole: impl FnOnce(&'s mut Self) -> Result<Option<P>, Error>,
    ) -> Result<Option<FrameOf<'s, P>>, Error> {
        if chunk > 0 || self.streaming() {
            self.release();
            loop {
                if self.streaming() {
                    if self.at.stream_skip {
                        let buffered = self
                            .at
                            .end
                            .saturating_sub(self.at.start.saturating_add(self.at.stream_head));
                        if buffered == 0 {
                            return Ok(None);
                        }
                        self.drop_payload(buffered);
                        continue;
                    }
                    return self.lend_chunk(chunk, version);
                }
                if chunk == 0 {
                    break;
                }
                match self.start_stream(chunk, version)? {
                    Some(true) => continue,
                    Some(false) => break,
                    None => return Ok(None),
                }
            }
        }
        // A whole packet (the common case: whole packets only, straight),
        // read in one place so that `whole` is inlined once.
        Ok(whole(self)?.map(FrameOf::Packet))
    }

    /// Starts passing the PUBLISH at the front through in chunks if its
    /// payload is larger than `chunk`: `Some(true)`; `Some(false)` when it
    /// is not (or is another packet: the whole-packet path decides); `None`
    /// while its topic is not all in.
    fn start_stream(&mut self, chunk: usize, version: Version) -> Result<Option<bool>, Error> {
        let from = self.at.start;
        let bytes = self.buf.get(from..self.at.end).unwrap_or_default();
        let Some(header) = parse_fixed_header(bytes)? else {
            return Ok(Some(false));
        };
        if header.packet_type != PacketType::Publish || header.remaining_len <= chunk {
            return Ok(Some(false));
        }
        let body = bytes.get(header.header_len..).unwrap_or_default();
        let Some((_, _, var_len)) = publish_head(&header, body, version)? else {
            // The topic (and properties) are not all in yet: make sure they
            // can be.
            let needed = header.header_len + Publish::head_room(&header, body, version) + chunk;
            if needed > self.buf.len() {
                return Err(Error::RxTooSmall { needed });
            }
            return Ok(None);
        };
        let payload = header.remaining_len - var_len;
        if payload <= chunk {
            return Ok(Some(false));
        }
        let head = header.header_len + var_len;
        if head.saturating_add(chunk) > self.buf.len() {
            return Err(Error::RxTooSmall {
                needed: head.saturating_add(chunk),
            });
        }
        self.at.stream_head = head;
        self.at.stream_left = payload;
        self.at.stream_total = payload;
        self.at.stream_skip = false;
        Ok(Some(true))
    }

    /// Lends the next piece of the stream's payload once it is all in.
    fn lend_chunk<P>(
        &mut self,
        chunk: usize,
        version: Version,
    ) -> Result<Option<FrameOf<'_, P>>, Error> {
        let RxParts {
            start,
            end,
            stream_head: head,
            stream_left: left,
            stream_total: total,
            ..
        } = self.at;
        let from = start.saturating_add(head);
        let size = if chunk == 0 {
            self.buf.len().saturating_sub(head)
        } else {
            chunk
        };
        let want = left.min(size).max(1);
        if end.saturating_sub(from) < want {
            return Ok(None);
        }
        self.at.chunk_lent = want;
        let buf: &[u8] = self.buf;
        let head_bytes = buf.get(start..from).unwrap_or_default();
        let header = parse_fixed_header(head_bytes)?.ok_or(Error::RxTooSmall { needed: head })?;
        let body = head_bytes.get(header.header_len..).unwrap_or_default();
        let (mut publish, _props, _) =
            publish_head(&header, body, version)?.ok_or(Error::RxTooSmall { needed: head })?;
        publish.payload = buf.get(from..from.saturating_add(want)).unwrap_or_default();
        Ok(Some(FrameOf::Chunk(Chunk {
            publish,
            #[cfg(feature = "mqtt5")]
            props: _props,
            offset: total - left,
            total,
        })))
    }
}

/// A PUBLISH's properties as the piece reader keeps them (none in 3.1.1).
#[cfg(feature = "mqtt5")]
type HeadProps<'b> = crate::wire::Properties<'b>;
#[cfg(not(feature = "mqtt5"))]
type HeadProps<'b> = core::marker::PhantomData<&'b ()>;

/// The head of a PUBLISH in `version` (its payload empty), its properties
/// and the length of topic, packet id and properties; `None` while they
/// are not all in `body`.
fn publish_head<'b>(
    header: &FixedHeader,
    body: &'b [u8],
    version: Version,
) -> Result<Option<(Publish<'b>, HeadProps<'b>, usize)>, crate::wire::DecodeError> {
    #[cfg(feature = "mqtt5")]
    return Ok(
        crate::wire::v5::Publish::parse_head_in(header, body, version)?
            .map(|(p, n)| (p.publish, p.props, n)),
    );
    #[cfg(not(feature = "mqtt5"))]
    {
        let _ = version;
        Ok(Publish::parse_head(header, body)?.map(|(p, n)| (p, core::marker::PhantomData, n)))
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
        assert!(!rx.ready(MAX, 0));
        assert_eq!(rx.next_packet(MAX), Ok(None));
        read(&mut rx, &[PUBACK_7[3], PINGRESP[0]]);
        assert_eq!(rx.next_packet(MAX), Ok(Some(Packet::Puback(7))));
        assert_eq!(rx.len(), 1, "the lent packet is not counted");
        assert_eq!(rx.next_packet(MAX), Ok(None), "PUBACK released");
        read(&mut rx, &PINGRESP[1..]);
        assert_eq!(rx.parts().start, 0, "compacted before reading");
        assert!(rx.ready(MAX, 0));
        assert_eq!(rx.next_packet(MAX), Ok(Some(Packet::Pingresp)));
        rx.keep();
        assert_eq!(rx.next_packet(MAX), Ok(Some(Packet::Pingresp)), "kept");
        rx.release();
        assert!(rx.is_empty());
        assert_eq!(rx.parts(), RxParts::default());
    }

    /// In v5 the same framer reads AUTH and reason codes; 3.1.1 refuses
    /// type 15 from its first byte.
    #[cfg(feature = "mqtt5")]
    #[test]
    fn frames_v5_packets() {
        use crate::wire::v5;
        use crate::wire::ReasonCode;
        const PUBACK_7_REFUSED: &[u8] = &[0x40, 0x03, 0x00, 0x07, 0x87]; // id 7, not authorized
        const AUTH: &[u8] = &[0xf0, 0x00]; // AUTH, success
        let mut mem = [0u8; 8];
        let mut rx = RxBuf::new(&mut mem);
        read(&mut rx, PUBACK_7_REFUSED);
        let Ok(Some(v5::Packet::Puback(ack))) = rx.next_packet_v5(MAX, Version::V5) else {
            panic!()
        };
        assert_eq!((ack.pid, ack.reason), (7, ReasonCode::NotAuthorized));
        read(&mut rx, AUTH);
        assert!(matches!(
            rx.next_packet_v5(MAX, Version::V5),
            Ok(Some(v5::Packet::Auth(_)))
        ));
        rx.clear();
        read(&mut rx, AUTH);
        assert_eq!(
            rx.next_packet_v5(MAX, Version::V311),
            Err(Error::Decode(DecodeError::UnknownPacketType(15)))
        );
    }

    #[test]
    fn refuses_from_the_header() {
        let mut mem = [0u8; 8];
        let mut rx = RxBuf::new(&mut mem);
        // PUBLISH announcing 200 bytes: too large for the buffer, not for max.
        read(&mut rx, &[0x30, 0xc8, 0x01]);
        assert!(rx.ready(MAX, 0));
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
                lent: 2,
                ..RxParts::default()
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
                ..RxParts::default()
            },
        );
        assert_eq!(
            rx.parts(),
            RxParts {
                start: 8,
                end: 8,
                ..RxParts::default()
            },
            "clamped"
        );
    }

    /// A PUBLISH whose 25-byte payload is larger than the chunk size (8)
    /// goes through a 16-byte buffer in pieces, arriving in any split;
    /// the packet after it follows.
    #[test]
    fn streams_a_payload_larger_than_the_buffer() {
        let payload: std::vec::Vec<u8> = (0..25u8).collect();
        #[rustfmt::skip]
        let mut stream = std::vec![
            0x32, 30,                   // PUBLISH QoS 1, remaining 2 + 1 + 2 + 25
            0x00, 0x01, b't',           // topic "t"
            0x00, 0x07,                 // packet id 7
        ];
        stream.extend_from_slice(&payload);
        stream.extend_from_slice(PINGRESP);
        for step in [1, 3, 7, 16] {
            let mut mem = [0u8; 16];
            let mut rx = RxBuf::new(&mut mem);
            let mut got = std::vec::Vec::new();
            let mut pieces = std::vec::Vec::new();
            let mut pong = false;
            let mut fed = 0;
            while !pong {
                match rx.next_frame(MAX, 8).unwrap() {
                    Some(Frame::Chunk(c)) => {
                        assert_eq!((c.publish.topic, c.publish.pid), ("t", 7));
                        assert_eq!((c.offset, c.total), (got.len(), 25));
                        assert_eq!(c.is_last(), c.offset + c.publish.payload.len() == 25);
                        pieces.push(c.publish.payload.len());
                        got.extend_from_slice(c.publish.payload);
                    }
                    Some(Frame::Packet(Packet::Pingresp)) => pong = true,
                    Some(other) => panic!("{other:?}"),
                    None => {
                        let win = rx.window();
                        let n = step.min(win.len()).min(stream.len() - fed);
                        assert!(n > 0, "stuck at {fed} of {} (step {step})", stream.len());
                        win[..n].copy_from_slice(&stream[fed..fed + n]);
                        rx.commit(n);
                        fed += n;
                    }
                }
            }
            assert_eq!(got, payload, "step {step}");
            assert_eq!(pieces, [8, 8, 8, 1], "step {step}");
            assert!(!rx.streaming());
        }
    }

    /// MQTT 5: a PUBLISH with properties (a topic alias with the topic,
    /// a content type) through a 28-byte buffer in pieces of 8, each
    /// with the properties; a buffer too small for the header, the
    /// properties and a piece asks for exactly that much.
    #[cfg(feature = "mqtt5")]
    #[test]
    fn streams_mqtt5_pieces_with_their_properties() {
        use crate::wire::{v5, Property};
        let payload: std::vec::Vec<u8> = (0..20u8).collect();
        #[rustfmt::skip]
        let mut stream = std::vec![
            0x32, 35,                   // PUBLISH QoS 1, remaining 2+1 + 2 + 1+9 + 20
            0x00, 0x01, b't',           // topic "t"
            0x00, 0x07,                 // packet id 7
            0x09,                       // properties: 9 bytes
            0x23, 0x00, 0x02,           //   topic alias 2
            0x03, 0x00, 0x03, b'a', b'/', b'b', // content type "a/b"
        ];
        stream.extend_from_slice(&payload);
        stream.extend_from_slice(PINGRESP);
        let mut mem = [0u8; 28];
        let mut rx = RxBuf::new(&mut mem);
        let mut got = std::vec::Vec::new();
        let mut fed = 0;
        let mut pong = false;
        while !pong {
            match rx.next_frame_v5(MAX, 8, Version::V5).unwrap() {
                Some(FrameOf::Chunk(c)) => {
                    assert_eq!((c.publish.topic, c.publish.pid, c.total), ("t", 7, 20));
                    assert_eq!(c.props.topic_alias(), Some(2));
                    assert!(c.props.iter().any(|p| p == Property::ContentType("a/b")));
                    got.extend_from_slice(c.publish.payload);
                }
                Some(FrameOf::Packet(v5::Packet::Pingresp)) => pong = true,
                Some(other) => panic!("{other:?}"),
                None => {
                    let win = rx.window();
                    let n = 5.min(win.len()).min(stream.len() - fed);
                    assert!(n > 0, "stuck at {fed}");
                    win[..n].copy_from_slice(&stream[fed..fed + n]);
                    rx.commit(n);
                    fed += n;
                }
            }
        }
        assert_eq!(got, payload);

        // 16 bytes: the header (2), topic and id (5), properties (10) and a
        // piece (8) need 25.
        let mut small = [0u8; 16];
        let mut rx = RxBuf::new(&mut small);
        read(&mut rx, &stream[..16]);
        assert_eq!(
            rx.next_frame_v5(MAX, 8, Version::V5),
            Err(Error::RxTooSmall { needed: 25 })
        );
        // The same bytes read as 3.1.1 are another packet: no properties.
        let mut mem = [0u8; 64];
        let mut rx = RxBuf::new(&mut mem);
        read(&mut rx, &stream[..20]);
        let Ok(Some(FrameOf::Chunk(c))) = rx.next_frame_v5(MAX, 8, Version::V311) else {
            panic!("a piece");
        };
        assert_eq!((c.total, c.props.is_empty()), (30, true));
    }

    #[test]
    fn skipped_stream_and_small_buffers() {
        #[rustfmt::skip]
        let mut stream = std::vec![
            0x30, 23,                   // PUBLISH QoS 0, remaining 2 + 1 + 20
            0x00, 0x01, b't',           // topic "t"
        ];
        stream.extend_from_slice(&[0xaa; 20]);
        stream.extend_from_slice(PUBACK_7);
        let mut mem = [0u8; 64];
        let mut rx = RxBuf::new(&mut mem);
        read(&mut rx, &stream[..13]);
        assert!(rx.ready(MAX, 8));
        let Ok(Some(Frame::Chunk(first))) = rx.next_frame(MAX, 8) else {
            panic!("a first piece");
        };
        assert!(first.is_first() && !first.is_last());
        rx.skip_stream();
        assert_eq!(rx.next_frame(MAX, 8), Ok(None), "the rest is dropped");
        read(&mut rx, &stream[13..]);
        assert_eq!(
            rx.next_frame(MAX, 8),
            Ok(Some(Frame::Packet(Packet::Puback(7)))),
            "in step after the dropped bytes"
        );
        // Header plus one chunk must fit; the maximum packet size does not
        // apply to a streamed PUBLISH.
        let mut mem = [0u8; 8];
        let mut rx = RxBuf::new(&mut mem);
        read(&mut rx, &stream[..5]);
        assert_eq!(rx.next_frame(10, 8), Err(Error::RxTooSmall { needed: 13 }));
        assert_eq!(
            rx.next_frame(10, 0),
            Err(Error::IncomingTooLarge { size: 25 })
        );
    }

    /// `next_frame_v5` (the MQTT 5 build's one reader) lends a 3.1.1
    /// session the pieces `next_frame` lends and its whole packets in the
    /// MQTT 5 representation; an MQTT 5 session the same pieces.
    #[cfg(feature = "mqtt5")]
    #[test]
    fn the_v5_reader_lends_pieces_in_both_versions() {
        use crate::wire::{v5, Version};
        let puback_7 = v5::Packet::Puback(v5::Ack::success(7));
        for (version, props) in [(Version::V311, &[][..]), (Version::V5, &[0x00][..])] {
            #[rustfmt::skip]
            let mut stream = std::vec![
                0x30, 23 + props.len() as u8, // PUBLISH QoS 0
                0x00, 0x01, b't',             // topic "t"
            ];
            stream.extend_from_slice(props); // (MQTT 5: no properties)
            stream.extend_from_slice(&[0xaa; 20]);
            stream.extend_from_slice(PUBACK_7);
            let mut mem = [0u8; 64];
            let mut rx = RxBuf::new(&mut mem);
            read(&mut rx, &stream);
            let mut frames = std::vec::Vec::new();
            while let Some(f) = rx.next_frame_v5(MAX, 8, version).unwrap() {
                frames.push(match f {
                    FrameOf::Chunk(c) => (c.offset, c.publish.payload.len()),
                    FrameOf::Packet(v5::Packet::Publish(p)) => (0, p.publish.payload.len()),
                    FrameOf::Packet(p) => {
                        assert_eq!(p, puback_7);
                        (99, 0)
                    }
                });
            }
            let want: &[(usize, usize)] = &[(0, 8), (8, 8), (16, 4), (99, 0)];
            assert_eq!(frames, want, "{version:?}");
        }
    }
}
