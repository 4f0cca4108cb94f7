//! CONNACK (3.1.1 section 3.2, MQTT 5 section 3.2): acknowledge flags and a
//! return code (3.1.1) or reason code (MQTT 5, followed by properties).

use super::codec::{add_len, Reader, Writer};
use super::section::{self, Context, Props};
use super::{DecodeError, EncodeError, PacketType, Version};

/// CONNACK return code of MQTT 3.1.1 (section 3.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ConnectReturnCode {
    Accepted = 0,
    UnacceptableProtocolVersion = 1,
    IdentifierRejected = 2,
    ServerUnavailable = 3,
    BadUserNameOrPassword = 4,
    NotAuthorized = 5,
}

impl ConnectReturnCode {
    /// The return code for `v`, or `None` above 5.
    pub fn from_u8(v: u8) -> Option<Self> {
        use ConnectReturnCode::*;
        Some(match v {
            0 => Accepted,
            1 => UnacceptableProtocolVersion,
            2 => IdentifierRejected,
            3 => ServerUnavailable,
            4 => BadUserNameOrPassword,
            5 => NotAuthorized,
            _ => return None,
        })
    }
}

/// CONNACK of MQTT 3.1.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connack {
    pub session_present: bool,
    pub code: ConnectReturnCode,
}

/// The version-independent fields: session present, the code byte (3.1.1
/// return code or MQTT 5 reason code, checked by the caller), properties.
pub(crate) fn parse<'a>(
    r: &mut Reader<'a>,
    v: Version,
) -> Result<(bool, u8, Props<'a>), DecodeError> {
    let ack_flags = r.u8()?;
    let code = r.u8()?;
    let props = section::read(r, v, Context::Connack)?;
    if !r.is_empty() {
        return Err(DecodeError::BadLength(PacketType::Connack));
    }
    if ack_flags & !1 != 0 {
        return Err(DecodeError::BadConnackCode(ack_flags));
    }
    let session_present = ack_flags == 1;
    if session_present && code != 0 {
        return Err(DecodeError::BadConnackCode(code));
    }
    Ok((session_present, code, props))
}

pub(crate) fn parse_v311(r: &mut Reader<'_>) -> Result<Connack, DecodeError> {
    let (session_present, code, _) = parse(r, Version::V311)?;
    let code = ConnectReturnCode::from_u8(code).ok_or(DecodeError::BadConnackCode(code))?;
    Ok(Connack {
        session_present,
        code,
    })
}

pub(crate) fn validate(
    session_present: bool,
    code: u8,
    props: &Props<'_>,
    v: Version,
) -> Result<(), EncodeError> {
    if session_present && code != 0 {
        return Err(EncodeError::BadReturnCode(code));
    }
    section::check(props, v, Context::Connack)
}

pub(crate) fn len(props: &Props<'_>, v: Version) -> Result<usize, EncodeError> {
    add_len(2, section::len(props, v)?)
}

pub(crate) fn write(
    w: &mut Writer<'_>,
    session_present: bool,
    code: u8,
    props: &Props<'_>,
    v: Version,
) -> Result<(), EncodeError> {
    w.u8(u8::from(session_present))?;
    w.u8(code)?;
    section::write(w, props, v)
}

#[cfg(test)]
mod tests {
    use crate::wire::packet::tests::{check, parse_err};
    use crate::wire::*;

    #[test]
    fn connack() {
        #[rustfmt::skip]
        check(&[
            0x20, // CONNACK
            0x02, // remaining length
            0x01, // session present
            0x00, // accepted
        ], Packet::Connack(Connack { session_present: true, code: ConnectReturnCode::Accepted }));
        #[rustfmt::skip]
        check(&[
            0x20, 0x02, // CONNACK
            0x00, // no session
            0x05, // not authorized
        ], Packet::Connack(Connack { session_present: false, code: ConnectReturnCode::NotAuthorized }));

        assert_eq!(
            parse_err(&[0x20, 0x02, 0x00, 0x06]),
            DecodeError::BadConnackCode(6)
        );
        assert_eq!(
            parse_err(&[0x20, 0x02, 0x01, 0x05]),
            DecodeError::BadConnackCode(5)
        );
        assert_eq!(
            parse_err(&[0x20, 0x02, 0x02, 0x00]),
            DecodeError::BadConnackCode(2)
        );
        assert_eq!(
            parse_err(&[0x20, 0x03, 0x00, 0x00, 0x00]),
            DecodeError::BadLength(PacketType::Connack)
        );
        assert_eq!(
            parse_err(&[0x20, 0x01, 0x00]),
            DecodeError::BadLength(PacketType::Connack)
        );
        let refused = Connack {
            session_present: true,
            code: ConnectReturnCode::ServerUnavailable,
        };
        assert_eq!(
            Packet::Connack(refused).encode(&mut [0; 4]),
            Err(EncodeError::BadReturnCode(3))
        );
    }
}
