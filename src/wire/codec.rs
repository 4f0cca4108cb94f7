//! Checked byte cursors: [`Reader`] over a received packet body and
//! [`Writer`] over a caller's output buffer. These are the only places that
//! touch raw bytes, and neither can panic: a short read is a
//! [`DecodeError::BadLength`] for the packet type being parsed, a short write
//! an [`EncodeError::BufferTooSmall`].

use super::{DecodeError, EncodeError, PacketType};

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
#[derive(Debug)]
pub(crate) struct Writer<'a> {
    buf: &'a mut [u8],
    pos: usize,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Writer { buf, pos: 0 }
    }

    /// Bytes written so far.
    pub(crate) fn pos(&self) -> usize {
        self.pos
    }

    pub(crate) fn put(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let end = self.pos.saturating_add(bytes.len());
        let dst = self
            .buf
            .get_mut(self.pos..end)
            .ok_or(EncodeError::BufferTooSmall { needed: end })?;
        dst.copy_from_slice(bytes);
        self.pos = end;
        Ok(())
    }

    pub(crate) fn u8(&mut self, b: u8) -> Result<(), EncodeError> {
        self.put(&[b])
    }

    pub(crate) fn u16(&mut self, v: u16) -> Result<(), EncodeError> {
        self.put(&v.to_be_bytes())
    }

    /// Length-prefixed binary data (also used for strings).
    pub(crate) fn binary(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        let len = u16::try_from(bytes.len()).map_err(|_| EncodeError::TooLong)?;
        self.u16(len)?;
        self.put(bytes)
    }

    /// First byte and remaining length.
    pub(crate) fn fixed_header(&mut self, first: u8, remaining: usize) -> Result<(), EncodeError> {
        self.u8(first)?;
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
