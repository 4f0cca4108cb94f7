//! PUBACK, PUBREC, PUBREL and PUBCOMP (3.1.1 sections 3.4-3.7, MQTT 5
//! sections 3.4-3.7): a packet id, and in MQTT 5 a reason code and a
//! property section, both of which may be left out: remaining length 2
//! means reason 0 (success) without properties, remaining length 3 a reason
//! without properties.  The encoder uses the shortest form that says the
//! same.

use super::codec::{Reader, Writer};
use super::section::{self, Context, Props};
use super::{DecodeError, EncodeError, PacketType, Version};

/// Packet id, reason code and properties (`0` and none in 3.1.1).
pub(crate) fn parse<'a>(
    r: &mut Reader<'a>,
    ty: PacketType,
    v: Version,
) -> Result<(u16, u8, Props<'a>), DecodeError> {
    let pid = r.pid()?;
    if !v.is_v5() || r.is_empty() {
        return Ok((pid, 0, Props::EMPTY));
    }
    let reason = r.u8()?;
    #[cfg(feature = "mqtt5")]
    if !super::ReasonCode::received_in(ty, reason) {
        return Err(DecodeError::BadReasonCode(ty, reason));
    }
    let _ = ty;
    let props = if r.is_empty() {
        Props::EMPTY
    } else {
        section::read(r, v, Context::Ack)?
    };
    Ok((pid, reason, props))
}

/// Remaining length: 2, 3, or 3 plus the property section.
pub(crate) fn len(reason: u8, props: &Props<'_>, v: Version) -> Result<usize, EncodeError> {
    if !v.is_v5() || (reason == 0 && props.is_empty()) {
        Ok(2)
    } else if props.is_empty() {
        Ok(3)
    } else {
        Ok(3 + section::len(props, v)?)
    }
}

pub(crate) fn validate(
    ty: PacketType,
    pid: u16,
    reason: u8,
    props: &Props<'_>,
    v: Version,
) -> Result<(), EncodeError> {
    super::codec::nonzero(pid)?;
    if v.is_v5() {
        #[cfg(feature = "mqtt5")]
        if !super::ReasonCode::allowed_in(ty, reason) {
            return Err(EncodeError::BadReturnCode(reason));
        }
    }
    let _ = (ty, reason);
    section::check(props, v, Context::Ack)
}

pub(crate) fn write(
    w: &mut Writer<'_>,
    pid: u16,
    reason: u8,
    props: &Props<'_>,
    v: Version,
) -> Result<(), EncodeError> {
    w.u16(pid)?;
    if !v.is_v5() || (reason == 0 && props.is_empty()) {
        return Ok(());
    }
    w.u8(reason)?;
    if props.is_empty() {
        return Ok(());
    }
    section::write(w, props, v)
}

#[cfg(test)]
mod tests {
    use crate::wire::packet::tests::{check, parse_err};
    use crate::wire::*;

    #[test]
    fn acks() {
        #[rustfmt::skip]
        let cases: [(&[u8], Packet<'_>); 5] = [
            (&[0x40, 0x02, 0x00, 0x0A], Packet::Puback(10)),     // PUBACK, packet id = 10
            (&[0x50, 0x02, 0x00, 0x0B], Packet::Pubrec(11)),     // PUBREC, packet id = 11
            (&[0x62, 0x02, 0x01, 0x00], Packet::Pubrel(256)),    // PUBREL (flags 0b0010), packet id = 256
            (&[0x70, 0x02, 0xFF, 0xFF], Packet::Pubcomp(65535)), // PUBCOMP, packet id = 65535
            (&[0xB0, 0x02, 0x00, 0x02], Packet::Unsuback(2)),    // UNSUBACK, packet id = 2
        ];
        for (fixture, packet) in cases {
            check(fixture, packet);
            let ty = packet.packet_type();
            let first = fixture[0];
            assert_eq!(
                parse_err(&[first, 0x02, 0x00, 0x00]),
                DecodeError::ZeroPacketId
            );
            assert_eq!(parse_err(&[first, 0x01, 0x01]), DecodeError::BadLength(ty));
            assert_eq!(
                parse_err(&[first, 0x03, 0x00, 0x01, 0x00]),
                DecodeError::BadLength(ty)
            );
            assert_eq!(parse_err(&[first, 0x00]), DecodeError::BadLength(ty));
        }
        for p in [
            Packet::Puback(0),
            Packet::Pubrec(0),
            Packet::Pubrel(0),
            Packet::Pubcomp(0),
            Packet::Unsuback(0),
        ] {
            assert_eq!(p.encode(&mut [0u8; 4]), Err(EncodeError::ZeroPacketId));
        }
    }
}

#[cfg(all(test, feature = "mqtt5"))]
mod tests_v5 {
    use crate::wire::v5::tests::{check5, parse5_err};
    use crate::wire::v5::{Ack, Packet};
    use crate::wire::*;

    #[test]
    fn acks_v5() {
        let why = [Property::ReasonString("q")];
        let with_why = Properties::from_list(&why);
        #[rustfmt::skip]
        let cases: [(&[u8], Packet<'_>); 5] = [
            // PUBACK, remaining length 2: success, no properties
            (&[0x40, 0x02, 0x00, 0x01], Packet::Puback(Ack::success(1))),
            // PUBACK, remaining length 3: no matching subscribers, no properties
            (&[0x40, 0x03, 0x00, 0x02, 0x10],
             Packet::Puback(Ack { pid: 2, reason: ReasonCode::NoMatchingSubscribers, props: Properties::EMPTY })),
            // PUBREC: quota exceeded, properties: 4 bytes, reason string "q"
            (&[0x50, 0x08, 0x00, 0x03, 0x97, 0x04, 0x1F, 0x00, 0x01, b'q'],
             Packet::Pubrec(Ack { pid: 3, reason: ReasonCode::QuotaExceeded, props: with_why })),
            // PUBREL (flags 0b0010): packet identifier not found
            (&[0x62, 0x03, 0x00, 0x04, 0x92],
             Packet::Pubrel(Ack { pid: 4, reason: ReasonCode::PacketIdentifierNotFound, props: Properties::EMPTY })),
            // PUBCOMP: success, properties: 4 bytes, reason string "q"
            (&[0x70, 0x08, 0x00, 0x05, 0x00, 0x04, 0x1F, 0x00, 0x01, b'q'],
             Packet::Pubcomp(Ack { pid: 5, reason: ReasonCode::Success, props: with_why })),
        ];
        for (fixture, packet) in cases {
            check5(fixture, packet);
        }
        // Remaining length 4 with an empty property list: the same as 3.
        assert_eq!(
            Packet::parse(&[0x40, 0x04, 0x00, 0x02, 0x10, 0x00]),
            Ok(Some((cases[1].1, 6)))
        );
    }

    #[test]
    fn acks_v5_unlisted_failure() {
        // A defined failure code the packet's list lacks is still read as a
        // failure: mosquitto 2.0.11 sends PUBACK/PUBREC 0x95 for a message
        // over its message_size_limit.
        for (first, ty, code) in [
            (0x40, PacketType::Puback, 0x95),
            (0x50, PacketType::Pubrec, 0x95),
            (0x62, PacketType::Pubrel, 0x80),
            (0x70, PacketType::Pubcomp, 0x87),
        ] {
            let bytes = [first, 0x03, 0x00, 0x07, code];
            let (p, n) = Packet::parse(&bytes).unwrap().unwrap();
            assert_eq!(n, 5);
            let ack = match p {
                Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => a,
                other => panic!("{other:?}"),
            };
            assert_eq!((p.packet_type(), ack.pid, ack.reason as u8), (ty, 7, code));
            // We send only listed codes.
            assert_eq!(p.encode(&mut [0; 8]), Err(EncodeError::BadReturnCode(code)));
        }
    }

    #[test]
    fn acks_v5_invalid() {
        // Each packet has its own success codes; undefined codes are
        // refused everywhere.
        for (first, ty, code) in [
            (0x40, PacketType::Puback, 0xA3),
            (0x50, PacketType::Pubrec, 0x04),
            (0x62, PacketType::Pubrel, 0x10),
            (0x70, PacketType::Pubcomp, 0x11),
        ] {
            assert_eq!(
                parse5_err(&[first, 0x03, 0x00, 0x01, code]),
                DecodeError::BadReasonCode(ty, code)
            );
            assert_eq!(
                parse5_err(&[first, 0x03, 0x00, 0x00, 0x00]),
                DecodeError::ZeroPacketId
            );
            // Property length past the end.
            assert_eq!(
                parse5_err(&[first, 0x04, 0x00, 0x01, 0x00, 0x02]),
                DecodeError::BadLength(ty)
            );
            // User property allowed; topic alias not.
            assert_eq!(
                parse5_err(&[first, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01]),
                DecodeError::Property(PropertyError::NotAllowed(0x23))
            );
        }
        let bad = Ack {
            pid: 1,
            reason: ReasonCode::GrantedQos2,
            props: Properties::EMPTY,
        };
        assert_eq!(
            Packet::Puback(bad).encode(&mut [0u8; 8]),
            Err(EncodeError::BadReturnCode(2))
        );
        assert_eq!(
            Packet::Pubrel(Ack::success(0)).encode(&mut [0u8; 8]),
            Err(EncodeError::ZeroPacketId)
        );
    }
}
