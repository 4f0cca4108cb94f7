//! CONNACK (3.1.1 section 3.2, MQTT 5 section 3.2): acknowledge flags and a
//! return code (3.1.1) or reason code (MQTT 5, followed by properties).

use super::codec::{add_len, Reader, Writer};
use super::section::{self, Context, Props};
use super::{DecodeError, EncodeError, PacketType, Version};

#[cfg(feature = "mqtt5")]
impl ConnectReturnCode {
    /// The 3.1.1 return code of the same meaning as the v5 `reason`, if
    /// 3.1.1 has one.
    pub fn from_reason(reason: super::ReasonCode) -> Option<Self> {
        return_code_of(reason).ok().and_then(Self::from_u8)
    }
}

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

/// The v5 reason code of a 3.1.1 CONNACK return code (the v5 code of
/// the same meaning).
#[cfg(feature = "mqtt5")]
pub(crate) fn reason_of(code: ConnectReturnCode) -> super::ReasonCode {
    use super::ReasonCode as R;
    match code {
        ConnectReturnCode::Accepted => R::Success,
        ConnectReturnCode::UnacceptableProtocolVersion => R::UnsupportedProtocolVersion,
        ConnectReturnCode::IdentifierRejected => R::ClientIdentifierNotValid,
        ConnectReturnCode::ServerUnavailable => R::ServerUnavailable,
        ConnectReturnCode::BadUserNameOrPassword => R::BadUserNameOrPassword,
        ConnectReturnCode::NotAuthorized => R::NotAuthorized,
    }
}

/// The 3.1.1 CONNACK return code for a v5 reason code, if it has one.
///
/// # Errors
/// [`EncodeError::NotInVersion`] for any other reason code.
#[cfg(feature = "mqtt5")]
pub(crate) fn return_code_of(reason: super::ReasonCode) -> Result<u8, EncodeError> {
    use super::ReasonCode as R;
    let code = match reason {
        R::Success => ConnectReturnCode::Accepted,
        R::UnsupportedProtocolVersion => ConnectReturnCode::UnacceptableProtocolVersion,
        R::ClientIdentifierNotValid => ConnectReturnCode::IdentifierRejected,
        R::ServerUnavailable => ConnectReturnCode::ServerUnavailable,
        R::BadUserNameOrPassword => ConnectReturnCode::BadUserNameOrPassword,
        R::NotAuthorized => ConnectReturnCode::NotAuthorized,
        _ => return Err(EncodeError::NotInVersion),
    };
    Ok(code as u8)
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

#[cfg(all(test, feature = "mqtt5"))]
mod tests_v5 {
    use crate::wire::v5::tests::{check5, parse5_err};
    use crate::wire::v5::{self, Packet};
    use crate::wire::*;

    #[test]
    fn connack_v5() {
        #[rustfmt::skip]
        let fixture = [
            0x20, 0x13, // CONNACK, remaining length 19
            0x01, // session present
            0x00, // success
            0x10, // properties: 16 bytes
            0x21, 0x00, 0x14, // receive maximum 20
            0x22, 0x00, 0x0A, // topic alias maximum 10
            0x24, 0x01, // maximum QoS 1
            0x12, 0x00, 0x03, b'c', b'i', b'd', // assigned client id "cid"
            0x2A, 0x00, // shared subscriptions not available
        ];
        let props = [
            Property::ReceiveMaximum(20),
            Property::TopicAliasMaximum(10),
            Property::MaximumQoS(1),
            Property::AssignedClientIdentifier("cid"),
            Property::SharedSubscriptionAvailable(0),
        ];
        check5(
            &fixture,
            Packet::Connack(v5::Connack {
                session_present: true,
                reason: ReasonCode::Success,
                props: Properties::from_list(&props),
            }),
        );
        #[rustfmt::skip]
        let refused = [
            0x20, 0x09, // CONNACK, remaining length 9
            0x00, // no session
            0x87, // not authorized
            0x06, // properties: 6 bytes
            0x1F, 0x00, 0x03, b'a', b'c', b'l', // reason string "acl"
        ];
        let why = [Property::ReasonString("acl")];
        check5(
            &refused,
            Packet::Connack(v5::Connack {
                session_present: false,
                reason: ReasonCode::NotAuthorized,
                props: Properties::from_list(&why),
            }),
        );
    }

    #[test]
    fn connack_v5_invalid() {
        // 3.1.1 return code 1 is no v5 CONNACK reason.
        assert_eq!(
            parse5_err(&[0x20, 0x03, 0x00, 0x01, 0x00]),
            DecodeError::BadReasonCode(PacketType::Connack, 0x01)
        );
        // Granted QoS 1 is a SUBACK code.
        assert_eq!(
            parse5_err(&[0x20, 0x03, 0x00, 0x02, 0x00]),
            DecodeError::BadReasonCode(PacketType::Connack, 0x02)
        );
        // Session present with a refusal.
        assert_eq!(
            parse5_err(&[0x20, 0x03, 0x01, 0x80, 0x00]),
            DecodeError::BadConnackCode(0x80)
        );
        // The property section is not optional in CONNACK.
        assert_eq!(
            parse5_err(&[0x20, 0x02, 0x00, 0x00]),
            DecodeError::BadLength(PacketType::Connack)
        );
        // Properties longer than the packet.
        assert_eq!(
            parse5_err(&[0x20, 0x05, 0x00, 0x00, 0x03, 0x24, 0x01]),
            DecodeError::BadLength(PacketType::Connack)
        );
        // A PUBLISH property.
        assert_eq!(
            parse5_err(&[0x20, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x01]),
            DecodeError::Property(PropertyError::NotAllowed(0x23))
        );
        let c = |reason| {
            Packet::Connack(v5::Connack {
                session_present: false,
                reason,
                props: Properties::EMPTY,
            })
            .encode(&mut [0u8; 8])
        };
        assert_eq!(c(ReasonCode::Success), Ok(5));
        assert_eq!(
            c(ReasonCode::GrantedQos1),
            Err(EncodeError::BadReturnCode(1))
        );
    }
}
