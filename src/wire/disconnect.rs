//! DISCONNECT and AUTH of MQTT 5 (sections 3.14 and 3.15): a reason code
//! and a property section, both of which may be left out.  Remaining
//! length 0 means reason 0 (Normal disconnection, Success) without
//! properties; remaining length 1 a reason without properties.  The encoder
//! uses the shortest form that says the same.  (A 3.1.1 DISCONNECT is
//! always empty and is handled with PINGREQ in `packet`.)

use super::codec::{Reader, Writer};
use super::section::{self, Context};
use super::{DecodeError, EncodeError, PacketType, Properties, ReasonCode, Version};

fn context(ty: PacketType) -> Context {
    if ty == PacketType::Auth {
        Context::Auth
    } else {
        Context::Disconnect
    }
}

/// Reason code and properties of a DISCONNECT or AUTH body.
pub(crate) fn parse<'a>(
    r: &mut Reader<'a>,
    ty: PacketType,
) -> Result<(ReasonCode, Properties<'a>), DecodeError> {
    if r.is_empty() {
        return Ok((ReasonCode::Success, Properties::EMPTY));
    }
    let reason = ReasonCode::parse(ty, r.u8()?)?;
    let props = if r.is_empty() {
        Properties::EMPTY
    } else {
        section::read(r, Version::V5, context(ty))?
    };
    Ok((reason, props))
}

pub(crate) fn validate(
    ty: PacketType,
    reason: ReasonCode,
    props: &Properties<'_>,
) -> Result<(), EncodeError> {
    if !ReasonCode::allowed_in(ty, reason as u8) {
        return Err(EncodeError::BadReturnCode(reason as u8));
    }
    section::check(props, Version::V5, context(ty))
}

/// Remaining length: 0, 1, or 1 plus the property section.
pub(crate) fn len(reason: ReasonCode, props: &Properties<'_>) -> Result<usize, EncodeError> {
    if props.is_empty() {
        Ok(usize::from(reason != ReasonCode::Success))
    } else {
        Ok(1 + section::len(props, Version::V5)?)
    }
}

pub(crate) fn write(
    w: &mut Writer<'_>,
    reason: ReasonCode,
    props: &Properties<'_>,
) -> Result<(), EncodeError> {
    if props.is_empty() && reason == ReasonCode::Success {
        return Ok(());
    }
    w.u8(reason as u8)?;
    if props.is_empty() {
        return Ok(());
    }
    section::write(w, props, Version::V5)
}

#[cfg(test)]
mod tests {
    use crate::wire::v5::tests::{check5, parse5_err};
    use crate::wire::v5::{Packet, ReasonOnly};
    use crate::wire::*;

    fn reason_only(reason: ReasonCode, props: Properties<'_>) -> ReasonOnly<'_> {
        ReasonOnly { reason, props }
    }

    #[test]
    fn disconnect_v5() {
        let none = Properties::EMPTY;
        // Remaining length 0: normal disconnection.
        check5(
            &[0xE0, 0x00],
            Packet::Disconnect(reason_only(ReasonCode::Success, none)),
        );
        // Remaining length 1: a reason, no properties.
        check5(
            &[0xE0, 0x01, 0x04], // DISCONNECT, disconnect with will message
            Packet::Disconnect(reason_only(ReasonCode::DisconnectWithWillMessage, none)),
        );
        #[rustfmt::skip]
        let fixture = [
            0xE0, 0x0C, // DISCONNECT, remaining length 12
            0x8E, // session taken over
            0x0A, // properties: 10 bytes
            0x11, 0x00, 0x00, 0x00, 0x00, // session expiry 0
            0x1C, 0x00, 0x02, b'h', b'2', // server reference "h2"
        ];
        let props = [
            Property::SessionExpiryInterval(0),
            Property::ServerReference("h2"),
        ];
        check5(
            &fixture,
            Packet::Disconnect(reason_only(
                ReasonCode::SessionTakenOver,
                Properties::from_list(&props),
            )),
        );
        assert_eq!(
            parse5_err(&[0xE0, 0x01, 0x01]),
            DecodeError::BadReasonCode(PacketType::Disconnect, 0x01)
        );
        assert_eq!(
            parse5_err(&[0xE0, 0x05, 0x00, 0x03, 0x23, 0x00, 0x01]),
            DecodeError::Property(PropertyError::NotAllowed(0x23))
        );
        assert_eq!(
            parse5_err(&[0xE1, 0x00]),
            DecodeError::ReservedFlags(PacketType::Disconnect)
        );
        // 3.1.1 has no reason code.
        assert_eq!(
            crate::wire::Packet::parse(&[0xE0, 0x01, 0x04]),
            Err(DecodeError::BadLength(PacketType::Disconnect))
        );
    }

    #[test]
    fn auth_v5() {
        check5(
            &[0xF0, 0x00], // AUTH, remaining length 0: success
            Packet::Auth(reason_only(ReasonCode::Success, Properties::EMPTY)),
        );
        #[rustfmt::skip]
        let fixture = [
            0xF0, 0x0C, // AUTH, remaining length 12
            0x18, // continue authentication
            0x0A, // properties: 10 bytes
            0x15, 0x00, 0x02, b'M', b'1', // authentication method "M1"
            0x16, 0x00, 0x02, 0xAB, 0xCD, // authentication data AB CD
        ];
        let props = [
            Property::AuthenticationMethod("M1"),
            Property::AuthenticationData(&[0xAB, 0xCD]),
        ];
        check5(
            &fixture,
            Packet::Auth(reason_only(
                ReasonCode::ContinueAuthentication,
                Properties::from_list(&props),
            )),
        );
        check5(
            &[0xF0, 0x01, 0x19], // AUTH: re-authenticate, no properties
            Packet::Auth(reason_only(ReasonCode::ReAuthenticate, Properties::EMPTY)),
        );
        assert_eq!(
            parse5_err(&[0xF0, 0x01, 0x04]),
            DecodeError::BadReasonCode(PacketType::Auth, 0x04)
        );
        assert_eq!(
            parse5_err(&[0xF0, 0x04, 0x00, 0x02, 0x21, 0x00]),
            DecodeError::BadLength(PacketType::Auth)
        );
        assert_eq!(
            parse5_err(&[0xF0, 0x05, 0x00, 0x03, 0x21, 0x00, 0x01]),
            DecodeError::Property(PropertyError::NotAllowed(0x21))
        );
        let bad = Packet::Auth(reason_only(ReasonCode::NotAuthorized, Properties::EMPTY));
        assert_eq!(
            bad.encode(&mut [0u8; 4]),
            Err(EncodeError::BadReturnCode(0x87))
        );
    }
}
