//! Checked byte cursors: [`Reader`] over a received packet body and
//! [`Writer`] over a caller's output buffer. These are the only places that
//! touch raw bytes, and neither can panic: a short read is a
//! [`DecodeError::BadLength`] for the packet type being parsed, a short write
//! an [`EncodeError::BufferTooSmall`].  The small length and check helpers
//! every packet family shares are here too.

use super::{DecodeError, EncodeError, PacketType, TopicError, MAX_REMAINING_LEN};

/// Topic validation failures while decoding: NUL is a string error.
pub(crate) fn topic_decode_error(e: TopicError) -> DecodeError {
    match e {
        TopicError::NulChar => DecodeError::BadUtf8,
        _ => DecodeError::BadTopic,
    }
}

/// Encoded size of a length-prefixed field.
pub(crate) fn field_len(len: usize) -> Result<usize, EncodeError> {
    if len > usize::from(u16::MAX) {
        Err(EncodeError::TooLong)
    } else {
        Ok(len + 2)
    }
}

pub(crate) fn check_remaining(len: usize) -> Result<usize, EncodeError> {
    if len > MAX_REMAINING_LEN {
        Err(EncodeError::TooLong)
    } else {
        Ok(len)
    }
}

/// Sum of `f` over `items`, failing with `TooLong` on any error or overflow.
pub(crate) fn sum_len<T>(
    mut items: impl Iterator<Item = T>,
    f: impl Fn(T) -> Result<usize, EncodeError>,
) -> Result<usize, EncodeError> {
    items.try_fold(0usize, |acc, item| {
        acc.checked_add(f(item)?).ok_or(EncodeError::TooLong)
    })
}

/// `a + b`, or `TooLong` on overflow.
pub(crate) fn add_len(a: usize, b: usize) -> Result<usize, EncodeError> {
    a.checked_add(b).ok_or(EncodeError::TooLong)
}

pub(crate) fn nonzero(pid: u16) -> Result<(), EncodeError> {
    if pid == 0 {
        Err(EncodeError::ZeroPacketId)
    } else {
        Ok(())
    }
}

pub(crate) fn no_nul(s: &str) -> Result<(), EncodeError> {
    if s.contains('\0') {
        Err(EncodeError::NulChar)
    } else {
        Ok(())
    }
}

/// A bounds-checked reader over one packet body.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    buf: &'a [u8],
    ty: PacketType,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(buf: &'a [u8], ty: PacketType) -> Self {
        Reader { buf, ty }
    }

    /// The packet type a short read is reported for.
    #[cfg(feature = "mqtt5")]
    pub(crate) fn packet_type(&self) -> PacketType {
        self.ty
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    /// Everything not yet read.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.buf
    }

    pub(crate) fn bytes(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self
            .buf
            .split_at_checked(n)
            .ok_or(DecodeError::BadLength(self.ty))?;
        self.buf = tail;
        Ok(head)
    }

    pub(crate) fn u8(&mut self) -> Result<u8, DecodeError> {
        let (&b, tail) = self
            .buf
            .split_first()
            .ok_or(DecodeError::BadLength(self.ty))?;
        self.buf = tail;
        Ok(b)
    }

    pub(crate) fn u16(&mut self) -> Result<u16, DecodeError> {
        let (&bytes, tail) = self
            .buf
            .split_first_chunk::<2>()
            .ok_or(DecodeError::BadLength(self.ty))?;
        self.buf = tail;
        Ok(u16::from_be_bytes(bytes))
    }

    #[cfg(feature = "mqtt5")]
    pub(crate) fn u32(&mut self) -> Result<u32, DecodeError> {
        let (&bytes, tail) = self
            .buf
            .split_first_chunk::<4>()
            .ok_or(DecodeError::BadLength(self.ty))?;
        self.buf = tail;
        Ok(u32::from_be_bytes(bytes))
    }

    /// A variable byte integer (section 1.5.5): at most 4 bytes, so at most
    /// 268,435,455.  Non-minimal encodings are accepted, as for the
    /// remaining length.
    #[cfg(feature = "mqtt5")]
    pub(crate) fn var_int(&mut self) -> Result<u32, DecodeError> {
        let mut value: u32 = 0;
        for shift in [0u32, 7, 14, 21] {
            let byte = self.u8()?;
            value |= u32::from(byte & 0x7F) << shift;
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(DecodeError::BadVarInt)
    }

    /// A nonzero packet identifier.
    pub(crate) fn pid(&mut self) -> Result<u16, DecodeError> {
        match self.u16()? {
            0 => Err(DecodeError::ZeroPacketId),
            pid => Ok(pid),
        }
    }

    /// Length-prefixed binary data.
    pub(crate) fn binary(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = self.u16()?;
        self.bytes(usize::from(len))
    }

    /// Length-prefixed UTF-8 string without U+0000.
    pub(crate) fn str(&mut self) -> Result<&'a str, DecodeError> {
        let s = core::str::from_utf8(self.binary()?).map_err(|_| DecodeError::BadUtf8)?;
        if s.contains('\0') {
            return Err(DecodeError::BadUtf8);
        }
        Ok(s)
    }
}

/// A bounds-checked writer filling a caller's buffer from the start.
///
/// With MQTT 5, a writer from [`Writer::counter`] writes nothing and only
/// counts: the length of a packet is its encoder run once that way, so a
/// client carries no separate length code per packet.  The count is taken
/// where a write does not fit, so a writer with a buffer pays nothing for it.
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
    #[cfg(feature = "mqtt5")]
    counting: bool,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer {
            buf,
            pos: 0,
            #[cfg(feature = "mqtt5")]
            counting: false,
        }
    }

    /// A writer that only counts the bytes written (see the type).
    #[cfg(feature = "mqtt5")]
    pub(crate) fn counter() -> Self {
        Writer {
            buf: &mut [],
            pos: 0,
            counting: true,
        }
    }

    /// Bytes written so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    #[inline(always)]
    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let end = self.pos.saturating_add(bytes.len());
        #[cfg(feature = "mqtt5")]
        let Some(dst) = self.buf.get_mut(self.pos..end) else {
            return self.overflow(end);
        };
        #[cfg(not(feature = "mqtt5"))]
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(EncodeError::BufferTooSmall { needed: end })?;
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    /// A write up to `end` that does not fit: counted by a counting
    /// writer, an error otherwise.
    #[cfg(feature = "mqtt5")]
    #[cold]
    #[inline(never)]
    fn overflow(&mut self, end: usize) -> Result<(), EncodeError> {
        if !self.counting {
            return Err(EncodeError::BufferTooSmall { needed: end });
        }
        self.pos = end;
        Ok(())
    }

    pub(crate) fn u8(&mut self, b: u8) -> Result<(), EncodeError> {
        self.put(&[b])
    }

    pub(crate) fn u16(&mut self, v: u16) -> Result<(), EncodeError> {
        self.put(&v.to_be_bytes())
    }

    #[cfg(feature = "mqtt5")]
    pub(crate) fn u32(&mut self, v: u32) -> Result<(), EncodeError> {
        self.put(&v.to_be_bytes())
    }

    /// A variable byte integer, minimal encoding.
    #[cfg(feature = "mqtt5")]
    pub(crate) fn var_int(&mut self, v: usize) -> Result<(), EncodeError> {
        let tail = self.buf.get_mut(self.pos..).unwrap_or_default();
        let n = match super::encode_remaining_len(v, tail) {
            Ok(n) => n,
            Err(EncodeError::BufferTooSmall { needed }) if self.counting => needed,
            Err(EncodeError::BufferTooSmall { needed }) => {
                return Err(EncodeError::BufferTooSmall {
                    needed: self.pos.saturating_add(needed),
                })
            }
            Err(e) => return Err(e),
        };
        self.pos = self.pos.saturating_add(n);
        Ok(())
    }

    /// Length-prefixed binary data (also used for strings).
    pub(crate) fn binary(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let len = u16::try_from(bytes.len()).map_err(|_| EncodeError::TooLong)?;
        self.put(&len.to_be_bytes())?;
        self.put(bytes)
    }

    /// First byte and remaining length.
    pub(crate) fn fixed_header(&mut self, first: u8, remaining: usize) -> Result<(), EncodeError> {
        // `put`, inlined, rather than `u8`: this is on every packet's path.
        self.put(&[first])?;
        let tail = self
            .buf
            .get_mut(self.pos..)
            .ok_or(EncodeError::BufferTooSmall { needed: self.pos })?;
        let n = super::encode_remaining_len(remaining, tail)?;
        self.pos = self.pos.saturating_add(n);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A counting writer measures what a writer with a buffer writes.
    #[cfg(feature = "mqtt5")]
    #[test]
    fn counter_counts_what_is_written() {
        fn body(w: &mut Writer<'_>) -> Result<(), EncodeError> {
            w.u8(0x26)?; // user property
            w.binary(b"k")?; // 0x00 0x01 'k'
            w.var_int(200)?; // 0xC8 0x01
            w.u16(10) // 0x00 0x0A
        }
        let mut c = Writer::counter();
        body(&mut c).unwrap();
        let mut buf = [0u8; 16];
        let mut w = Writer::new(&mut buf);
        body(&mut w).unwrap();
        assert_eq!((c.pos(), w.pos()), (8, 8));
        assert_eq!(&buf[..8], &[0x26, 0x00, 0x01, b'k', 0xC8, 0x01, 0x00, 0x0A]);
        // Too long is still refused; a short buffer still reports the need.
        assert_eq!(
            Writer::counter().var_int(crate::wire::MAX_REMAINING_LEN + 1),
            Err(EncodeError::TooLong)
        );
        let mut short = [0u8; 3];
        assert_eq!(
            body(&mut Writer::new(&mut short)),
            Err(EncodeError::BufferTooSmall { needed: 4 })
        );
    }

    #[test]
    fn reader_short_reads_are_bad_length() {
        let mut r = Reader::new(&[0x00, 0x03, b'a', b'b'], PacketType::Publish);
        assert_eq!(
            r.clone().str(),
            Err(DecodeError::BadLength(PacketType::Publish))
        );
        assert_eq!(r.u8(), Ok(0));
        assert_eq!(r.u16(), Ok(0x0361));
        assert_eq!(r.u16(), Err(DecodeError::BadLength(PacketType::Publish)));
        assert_eq!(r.rest(), b"b");
        assert_eq!(
            Reader::new(&[0, 0], PacketType::Puback).pid(),
            Err(DecodeError::ZeroPacketId)
        );
    }

    #[test]
    fn reader_rejects_bad_strings() {
        let strings: &[&[u8]] = &[
            &[0x00, 0x01, 0x00],             // U+0000
            &[0x00, 0x03, 0xED, 0xA0, 0x80], // UTF-8-encoded surrogate U+D800
            &[0x00, 0x01, 0xFF],             // never valid in UTF-8
            &[0x00, 0x02, 0xC3, 0x28],       // bad continuation byte
            &[0x00, 0x02, 0xC0, 0x80],       // overlong U+0000
        ];
        for s in strings {
            assert_eq!(
                Reader::new(s, PacketType::Connect).str(),
                Err(DecodeError::BadUtf8)
            );
        }
        let mut r = Reader::new(&[0x00, 0x02, 0xC3, 0xA9], PacketType::Connect); // "é"
        assert_eq!(r.str(), Ok("é"));
        assert!(r.is_empty());
    }

    #[cfg(feature = "mqtt5")]
    #[test]
    fn var_int_read_and_write() {
        let cases: &[(u32, &[u8])] = &[
            (0, &[0x00]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_384, &[0x80, 0x80, 0x01]),
            (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ];
        for &(v, enc) in cases {
            let mut r = Reader::new(enc, PacketType::Publish);
            assert_eq!(r.var_int(), Ok(v));
            assert!(r.is_empty());
            let mut buf = [0u8; 4];
            let mut w = Writer::new(&mut buf);
            w.var_int(v as usize).unwrap();
            assert_eq!(&buf[..enc.len()], enc);
        }
        let mut r = Reader::new(&[0xFF, 0xFF, 0xFF, 0xFF, 0x01], PacketType::Publish);
        assert_eq!(r.var_int(), Err(DecodeError::BadVarInt)); // 5 bytes
        let mut r = Reader::new(&[0x80], PacketType::Publish);
        assert_eq!(
            r.var_int(),
            Err(DecodeError::BadLength(PacketType::Publish))
        );
        let mut buf = [0u8; 2];
        let mut w = Writer::new(&mut buf);
        w.u8(0).unwrap();
        assert_eq!(
            w.var_int(128),
            Err(EncodeError::BufferTooSmall { needed: 3 })
        );
        assert_eq!(w.var_int(268_435_456), Err(EncodeError::TooLong));
    }

    #[test]
    fn writer_checks_space() {
        let mut buf = [0u8; 3];
        let mut w = Writer::new(&mut buf);
        assert_eq!(w.binary(b"a"), Ok(()));
        assert_eq!(w.pos(), 3);
        assert_eq!(w.u8(1), Err(EncodeError::BufferTooSmall { needed: 4 }));
        assert_eq!(buf, [0x00, 0x01, b'a']);
    }
}
