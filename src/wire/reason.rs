//! MQTT 5 reason codes (section 2.4): one byte on CONNACK, PUBACK, PUBREC,
//! PUBREL, PUBCOMP, SUBACK and UNSUBACK (one per filter), DISCONNECT and
//! AUTH.  Below 0x80 success, from 0x80 failure.  Which codes each packet
//! may carry is [`ReasonCode::allowed_in`]; the decoders take those and,
//! in an acknowledgement, CONNACK or DISCONNECT, any other defined failure
//! code ([`ReasonCode::received_in`]).

use super::{DecodeError, PacketType, PropertyError};

macro_rules! reason_codes {
    ($($(#[doc = $doc:literal])* $name:ident = $v:literal,)*) => {
        /// A reason code.  Several codes share a value (0x00 is Success,
        /// Normal disconnection and Granted QoS 0); the name used is the
        /// first in the specification's table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum ReasonCode {
            $($(#[doc = $doc])* $name = $v,)*
        }

        impl ReasonCode {
            /// The reason code `v`, `None` if undefined.
            pub const fn from_u8(v: u8) -> Option<Self> {
                match v {
                    $($v => Some(ReasonCode::$name),)*
                    _ => None,
                }
            }
        }
    };
}

reason_codes! {
    /// Also Normal disconnection and Granted QoS 0.
    Success = 0x00,
    GrantedQos1 = 0x01,
    GrantedQos2 = 0x02,
    DisconnectWithWillMessage = 0x04,
    NoMatchingSubscribers = 0x10,
    NoSubscriptionExisted = 0x11,
    ContinueAuthentication = 0x18,
    ReAuthenticate = 0x19,
    UnspecifiedError = 0x80,
    MalformedPacket = 0x81,
    ProtocolError = 0x82,
    ImplementationSpecificError = 0x83,
    UnsupportedProtocolVersion = 0x84,
    ClientIdentifierNotValid = 0x85,
    BadUserNameOrPassword = 0x86,
    NotAuthorized = 0x87,
    ServerUnavailable = 0x88,
    ServerBusy = 0x89,
    Banned = 0x8A,
    ServerShuttingDown = 0x8B,
    BadAuthenticationMethod = 0x8C,
    KeepAliveTimeout = 0x8D,
    SessionTakenOver = 0x8E,
    TopicFilterInvalid = 0x8F,
    TopicNameInvalid = 0x90,
    PacketIdentifierInUse = 0x91,
    PacketIdentifierNotFound = 0x92,
    ReceiveMaximumExceeded = 0x93,
    TopicAliasInvalid = 0x94,
    PacketTooLarge = 0x95,
    MessageRateTooHigh = 0x96,
    QuotaExceeded = 0x97,
    AdministrativeAction = 0x98,
    PayloadFormatInvalid = 0x99,
    RetainNotSupported = 0x9A,
    QosNotSupported = 0x9B,
    UseAnotherServer = 0x9C,
    ServerMoved = 0x9D,
    SharedSubscriptionsNotSupported = 0x9E,
    ConnectionRateExceeded = 0x9F,
    MaximumConnectTime = 0xA0,
    SubscriptionIdentifiersNotSupported = 0xA1,
    WildcardSubscriptionsNotSupported = 0xA2,
}

// The packets a reason code may be sent in, as bits.
/// CONNACK.
const C: u8 = 1;
/// PUBACK, PUBREC.
const A: u8 = 2;
/// PUBREL, PUBCOMP.
const R: u8 = 4;
/// SUBACK.
const S: u8 = 8;
/// UNSUBACK.
const U: u8 = 16;
/// DISCONNECT.
const D: u8 = 32;
/// AUTH.
const X: u8 = 64;

/// Each defined reason code and the packets it may be sent in (section
/// 2.4, and each packet's list of reason codes).
const ALLOWED: [(u8, u8); 43] = [
    (0x00, C | A | R | S | U | D | X),
    (0x01, S),
    (0x02, S),
    (0x04, D),
    (0x10, A),
    (0x11, U),
    (0x18, X),
    (0x19, X),
    (0x80, C | A | S | U | D),
    (0x81, C | D),
    (0x82, C | D),
    (0x83, C | A | S | U | D),
    (0x84, C),
    (0x85, C),
    (0x86, C),
    (0x87, C | A | S | U | D),
    (0x88, C),
    (0x89, C | D),
    (0x8A, C),
    (0x8B, D),
    (0x8C, C),
    (0x8D, D),
    (0x8E, D),
    (0x8F, S | U | D),
    (0x90, C | A | D),
    (0x91, A | S | U),
    (0x92, R),
    (0x93, D),
    (0x94, D),
    (0x95, C | D),
    (0x96, D),
    (0x97, C | A | S | D),
    (0x98, D),
    (0x99, C | A | D),
    (0x9A, C | D),
    (0x9B, C | D),
    (0x9C, C | D),
    (0x9D, C | D),
    (0x9E, S | D),
    (0x9F, C | D),
    (0xA0, D),
    (0xA1, S | D),
    (0xA2, S | D),
];

impl ReasonCode {
    /// A failure (0x80 and above).
    pub const fn is_error(self) -> bool {
        self as u8 >= 0x80
    }

    /// Whether code `c` may be sent in a packet of type `ty` (the table of
    /// section 2.4 and each packet's reason code list: [`ALLOWED`]).
    pub const fn allowed_in(ty: PacketType, c: u8) -> bool {
        let packets = match ty {
            PacketType::Connack => C,
            PacketType::Puback | PacketType::Pubrec => A,
            PacketType::Pubrel | PacketType::Pubcomp => R,
            PacketType::Suback => S,
            PacketType::Unsuback => U,
            PacketType::Disconnect => D,
            PacketType::Auth => X,
            _ => return false,
        };
        // A `while` over slices, as a `const fn` allows (no indexing).
        let mut rest: &[(u8, u8)] = &ALLOWED;
        while let [(code, allowed), tail @ ..] = rest {
            if *code == c {
                return *allowed & packets != 0;
            }
            rest = tail;
        }
        false
    }

    /// Whether code `c` is read in a received packet of type `ty`: what
    /// [`allowed_in`](Self::allowed_in) says, and also any defined failure
    /// code (0x80 and above) in a packet whose codes say success or failure
    /// (not AUTH).  A failure outside the packet's list still says what
    /// failed: mosquitto 2.0.11 answers a PUBLISH over its
    /// `message_size_limit` with PUBACK/PUBREC 0x95 (Packet too large), a
    /// code section 3.4.2.1 does not list; refusing it would close the
    /// connection over one refused message.  A success code outside the
    /// list (a SUBACK's 0x03) has no meaning to fall back on and stays
    /// malformed.
    pub const fn received_in(ty: PacketType, c: u8) -> bool {
        Self::allowed_in(ty, c)
            || (c >= 0x80
                && Self::from_u8(c).is_some()
                && !matches!(ty, PacketType::Auth)
                && Self::allowed_in(ty, 0x00))
    }

    /// The code `c` if it may be read in a packet of type `ty`
    /// ([`received_in`](Self::received_in)).
    ///
    /// # Errors
    /// [`DecodeError::BadReasonCode`] otherwise.
    pub fn parse(ty: PacketType, c: u8) -> Result<Self, DecodeError> {
        match ReasonCode::from_u8(c) {
            Some(code) if Self::received_in(ty, c) => Ok(code),
            _ => Err(DecodeError::BadReasonCode(ty, c)),
        }
    }
}

impl DecodeError {
    /// The reason code an MQTT 5 peer is told in the DISCONNECT that
    /// closes the connection over this error: Malformed Packet or Protocol
    /// Error, as section 4.13 classes them.
    pub fn reason_code(&self) -> ReasonCode {
        match self {
            DecodeError::Property(PropertyError::Repeated(_) | PropertyError::BadValue(_))
            | DecodeError::ZeroPacketId
            | DecodeError::BadConnect => ReasonCode::ProtocolError,
            // Retain handling 3 is a protocol error; reserved bits malformed.
            DecodeError::BadSubscriptionOptions(b) if b & 0xC0 == 0 => ReasonCode::ProtocolError,
            _ => ReasonCode::MalformedPacket,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl ReasonCode {
        /// The specification's lists written as patterns: a cross-check
        /// of [`ALLOWED`].
        const fn allowed_in_by_lists(ty: PacketType, c: u8) -> bool {
            match ty {
                PacketType::Connack => matches!(
                    c,
                    0x00 | 0x80..=0x8A | 0x8C | 0x90 | 0x95 | 0x97 | 0x99..=0x9D | 0x9F
                ),
                PacketType::Puback | PacketType::Pubrec => {
                    matches!(
                        c,
                        0x00 | 0x10 | 0x80 | 0x83 | 0x87 | 0x90 | 0x91 | 0x97 | 0x99
                    )
                }
                PacketType::Pubrel | PacketType::Pubcomp => matches!(c, 0x00 | 0x92),
                PacketType::Suback => matches!(
                    c,
                    0x00..=0x02 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91 | 0x97 | 0x9E | 0xA1 | 0xA2
                ),
                PacketType::Unsuback => {
                    matches!(c, 0x00 | 0x11 | 0x80 | 0x83 | 0x87 | 0x8F | 0x91)
                }
                PacketType::Disconnect => matches!(
                    c,
                    0x00 | 0x04
                        | 0x80..=0x83
                        | 0x87
                        | 0x89
                        | 0x8B
                        | 0x8D..=0x90
                        | 0x93..=0xA2
                ),
                PacketType::Auth => matches!(c, 0x00 | 0x18 | 0x19),
                _ => false,
            }
        }
    }

    #[test]
    fn table_is_the_lists() {
        for t in 0..16u8 {
            let Some(ty) = PacketType::from_u8(t) else {
                continue;
            };
            for c in 0..=255u8 {
                assert_eq!(
                    ReasonCode::allowed_in(ty, c),
                    ReasonCode::allowed_in_by_lists(ty, c),
                    "{ty:?} {c:#x}"
                );
            }
        }
    }

    #[test]
    fn codes_per_packet() {
        // How many codes each packet may carry (MQTT 5 sections 3.2.2.2,
        // 3.4.2.1-3.7.2.1, 3.9.3, 3.11.3, 3.14.2.1, 3.15.2.1).
        let counts = [
            (PacketType::Connack, 22),
            (PacketType::Puback, 9),
            (PacketType::Pubrec, 9),
            (PacketType::Pubrel, 2),
            (PacketType::Pubcomp, 2),
            (PacketType::Suback, 12),
            (PacketType::Unsuback, 7),
            (PacketType::Disconnect, 29),
            (PacketType::Auth, 3),
            (PacketType::Connect, 0),
            (PacketType::Publish, 0),
            (PacketType::Pingresp, 0),
        ];
        for (ty, n) in counts {
            let allowed = (0..=255u8).filter(|&c| ReasonCode::allowed_in(ty, c));
            assert_eq!(allowed.clone().count(), n, "{ty:?}");
            for c in allowed {
                let code = ReasonCode::parse(ty, c).unwrap();
                assert_eq!(code as u8, c);
                assert_eq!(code.is_error(), c >= 0x80);
            }
        }
        assert_eq!(ReasonCode::from_u8(0x03), None);
        assert_eq!(ReasonCode::from_u8(0xA3), None);
        assert_eq!(
            ReasonCode::parse(PacketType::Pubrel, 0x10),
            Err(DecodeError::BadReasonCode(PacketType::Pubrel, 0x10))
        );
        assert_eq!(ReasonCode::from_u8(0x97), Some(ReasonCode::QuotaExceeded));
    }
}
