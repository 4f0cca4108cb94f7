//! The fixed header (section 2.2): packet type, flags and the variable-length
//! "remaining length". Framing happens here, before any body is looked at, so
//! a caller can refuse an oversized packet before reading it.

use super::{DecodeError, EncodeError, PacketType, Version};

/// Largest remaining length the 4-byte varint can express.
pub const MAX_REMAINING_LEN: usize = 268_435_455;

/// A parsed and validated fixed header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedHeader {
    pub packet_type: PacketType,
    /// Bits 3..0 of the first byte.
    pub flags: u8,
    /// Length of the body after the fixed header.
    pub remaining_len: usize,
    /// Length of the fixed header itself, 2..=5.
    pub header_len: usize,
}

impl FixedHeader {
    /// Total length of the packet: `header_len + remaining_len`.
    pub fn packet_len(&self) -> usize {
        self.header_len.saturating_add(self.remaining_len)
    }
}

/// Check the flag bits of the first byte for `ty`.
pub(crate) fn check_flags(ty: PacketType, flags: u8) -> Result<(), DecodeError> {
    match ty {
        PacketType::Publish => {
            let qos = (flags >> 1) & 0b11;
            if qos == 3 {
                Err(DecodeError::BadQos)
            } else if qos == 0 && flags & 0b1000 != 0 {
                Err(DecodeError::ReservedFlags(ty))
            } else {
                Ok(())
            }
        }
        PacketType::Pubrel | PacketType::Subscribe | PacketType::Unsubscribe if flags == 0b0010 => {
            Ok(())
        }
        PacketType::Pubrel | PacketType::Subscribe | PacketType::Unsubscribe => {
            Err(DecodeError::ReservedFlags(ty))
        }
        _ if flags == 0 => Ok(()),
        _ => Err(DecodeError::ReservedFlags(ty)),
    }
}

/// Parse the fixed header of an MQTT 3.1.1 packet at the start of `buf`:
/// [`parse_fixed_header_for`] with [`Version::V311`].
///
/// # Errors
/// As [`parse_fixed_header_for`].
pub fn parse_fixed_header(buf: &[u8]) -> Result<Option<FixedHeader>, DecodeError> {
    parse_fixed_header_for(buf, Version::V311)
}

/// Parse the fixed header at the start of `buf` for protocol `version`
/// (AUTH, type 15, exists only in MQTT 5).
///
/// Returns `Ok(None)` when more bytes are needed to know the header. The type
/// and flags are checked as soon as the first byte is there.
///
/// # Errors
/// [`DecodeError::UnknownPacketType`], [`DecodeError::ReservedFlags`],
/// [`DecodeError::BadQos`] (PUBLISH QoS 3), or
/// [`DecodeError::BadRemainingLength`] when the 4th length byte still has its
/// continuation bit set.
pub fn parse_fixed_header_for(
    buf: &[u8],
    version: Version,
) -> Result<Option<FixedHeader>, DecodeError> {
    let Some((&first, rest)) = buf.split_first() else {
        return Ok(None);
    };
    let type_bits = first >> 4;
    let packet_type = PacketType::from_u8(type_bits)
        .filter(|&t| version.is_v5() || !is_v5_only(t))
        .ok_or(DecodeError::UnknownPacketType(type_bits))?;
    let flags = first & 0x0F;
    check_flags(packet_type, flags)?;

    let mut len: u32 = 0;
    for (i, (&byte, shift)) in rest.iter().zip([0u32, 7, 14, 21]).enumerate() {
        len |= u32::from(byte & 0x7F) << shift;
        if byte & 0x80 == 0 {
            let remaining_len =
                usize::try_from(len).map_err(|_| DecodeError::BadRemainingLength)?;
            return Ok(Some(FixedHeader {
                packet_type,
                flags,
                remaining_len,
                header_len: i + 2,
            }));
        }
    }
    if rest.len() >= 4 {
        Err(DecodeError::BadRemainingLength)
    } else {
        Ok(None)
    }
}

/// AUTH: a packet type only MQTT 5 has.
fn is_v5_only(ty: PacketType) -> bool {
    #[cfg(feature = "mqtt5")]
    if ty == PacketType::Auth {
        return true;
    }
    let _ = ty;
    false
}

/// Number of bytes the minimal remaining-length encoding of `len` takes
/// (1..=4; lengths over [`MAX_REMAINING_LEN`] also report 4).
pub fn remaining_len_size(len: usize) -> usize {
    match len {
        0..=127 => 1,
        128..=16_383 => 2,
        16_384..=2_097_151 => 3,
        _ => 4,
    }
}

/// Write the minimal remaining-length encoding of `len` to the start of
/// `out`; returns the bytes written.
///
/// # Errors
/// [`EncodeError::TooLong`] over [`MAX_REMAINING_LEN`],
/// [`EncodeError::BufferTooSmall`] if `out` is shorter than the encoding.
pub fn encode_remaining_len(len: usize, out: &mut [u8]) -> Result<usize, EncodeError> {
    if len > MAX_REMAINING_LEN {
        return Err(EncodeError::TooLong);
    }
    let size = remaining_len_size(len);
    let dst = out
        .get_mut(..size)
        .ok_or(EncodeError::BufferTooSmall { needed: size })?;
    let mut rest = len;
    for (i, byte) in dst.iter_mut().enumerate() {
        // `rest % 128` always fits in a u8.
        let low = u8::try_from(rest % 128).unwrap_or(0);
        rest /= 128;
        *byte = if i + 1 < size { low | 0x80 } else { low };
    }
    Ok(size)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(buf: &[u8]) -> FixedHeader {
        parse_fixed_header(buf).unwrap().unwrap()
    }

    #[test]
    fn remaining_length_boundaries() {
        // (value, minimal encoding)
        let table: &[(usize, &[u8])] = &[
            (0, &[0x00]),
            (127, &[0x7F]),
            (128, &[0x80, 0x01]),
            (16_383, &[0xFF, 0x7F]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xFF, 0xFF, 0x7F]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (268_435_455, &[0xFF, 0xFF, 0xFF, 0x7F]),
        ];
        for &(len, enc) in table {
            let mut out = [0u8; 4];
            assert_eq!(encode_remaining_len(len, &mut out), Ok(enc.len()), "{len}");
            assert_eq!(&out[..enc.len()], enc, "{len}");
            assert_eq!(remaining_len_size(len), enc.len());

            let mut buf = std::vec![0x30]; // PUBLISH, QoS 0
            buf.extend_from_slice(enc);
            let h = header(&buf);
            assert_eq!(h.remaining_len, len);
            assert_eq!(h.header_len, 1 + enc.len());
            assert_eq!(h.packet_len(), 1 + enc.len() + len);
        }
        let mut out = [0u8; 4];
        assert_eq!(
            encode_remaining_len(MAX_REMAINING_LEN + 1, &mut out),
            Err(EncodeError::TooLong)
        );
        assert_eq!(
            encode_remaining_len(128, &mut out[..1]),
            Err(EncodeError::BufferTooSmall { needed: 2 })
        );
    }

    #[test]
    fn five_byte_length_rejected() {
        let buf = [
            0x30, // PUBLISH, QoS 0
            0xFF, 0xFF, 0xFF, 0xFF, // 4th byte still continues
            0x01,
        ];
        assert_eq!(
            parse_fixed_header(&buf),
            Err(DecodeError::BadRemainingLength)
        );
        // Known as soon as the 4th length byte arrives.
        assert_eq!(
            parse_fixed_header(&buf[..5]),
            Err(DecodeError::BadRemainingLength)
        );
        assert_eq!(parse_fixed_header(&buf[..4]), Ok(None));
    }

    #[test]
    fn non_minimal_length_accepted() {
        let h = header(&[
            0xC0, // PINGREQ
            0x80, 0x00, // 0, non-minimal
        ]);
        assert_eq!(h.remaining_len, 0);
        assert_eq!(h.header_len, 3);
    }

    #[test]
    fn incomplete_header_needs_more() {
        assert_eq!(parse_fixed_header(&[]), Ok(None));
        assert_eq!(parse_fixed_header(&[0x30]), Ok(None));
        assert_eq!(parse_fixed_header(&[0x30, 0x80]), Ok(None));
        assert_eq!(parse_fixed_header(&[0x30, 0x80, 0x80, 0x80]), Ok(None));
    }

    #[test]
    fn unknown_types() {
        assert_eq!(
            parse_fixed_header(&[0x00, 0x00]),
            Err(DecodeError::UnknownPacketType(0))
        );
        assert_eq!(
            parse_fixed_header(&[0xF0, 0x00]),
            Err(DecodeError::UnknownPacketType(15))
        );
        // Decided by the first byte alone.
        assert_eq!(
            parse_fixed_header(&[0xF0]),
            Err(DecodeError::UnknownPacketType(15))
        );
    }

    #[cfg(feature = "mqtt5")]
    #[test]
    fn auth_only_in_v5() {
        assert_eq!(
            parse_fixed_header_for(&[0xF0, 0x00], Version::V311),
            Err(DecodeError::UnknownPacketType(15))
        );
        let h = parse_fixed_header_for(&[0xF0, 0x00], Version::V5)
            .unwrap()
            .unwrap();
        assert_eq!(h.packet_type, PacketType::Auth);
        assert_eq!(
            parse_fixed_header_for(&[0xF1, 0x00], Version::V5),
            Err(DecodeError::ReservedFlags(PacketType::Auth))
        );
    }

    #[test]
    fn every_reserved_flag_violation() {
        for ty in 1..=14u8 {
            let packet_type = PacketType::from_u8(ty).unwrap();
            for flags in 0..=15u8 {
                let got = parse_fixed_header(&[ty << 4 | flags, 0x00]);
                let want = match packet_type {
                    PacketType::Publish if (flags >> 1) & 3 == 3 => Err(DecodeError::BadQos),
                    PacketType::Publish if flags & 0b1110 == 0b1000 => {
                        Err(DecodeError::ReservedFlags(packet_type))
                    }
                    PacketType::Publish => Ok(()),
                    PacketType::Pubrel | PacketType::Subscribe | PacketType::Unsubscribe => {
                        if flags == 0b0010 {
                            Ok(())
                        } else {
                            Err(DecodeError::ReservedFlags(packet_type))
                        }
                    }
                    _ if flags == 0 => Ok(()),
                    _ => Err(DecodeError::ReservedFlags(packet_type)),
                };
                match want {
                    Ok(()) => assert_eq!(got.unwrap().unwrap().flags, flags),
                    Err(e) => assert_eq!(got, Err(e), "type {ty} flags {flags:#06b}"),
                }
            }
        }
    }
}
