//! Error types of the wire layer, one per operation: decoding received bytes,
//! encoding a packet, and validating a topic string.

use core::fmt;

use super::PacketType;

/// Why received bytes are not a valid MQTT 3.1.1 (or MQTT 5) packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Packet type 0 or 15.
    UnknownPacketType(u8),
    /// Fixed-header flag bits wrong for the type (PUBREL, SUBSCRIBE and
    /// UNSUBSCRIBE need `0b0010`, others `0`; PUBLISH with DUP set at QoS 0).
    ReservedFlags(PacketType),
    /// The remaining length uses more than 4 bytes.
    BadRemainingLength,
    /// Body length inconsistent with what the type requires.
    BadLength(PacketType),
    /// QoS 3 in PUBLISH, or a requested QoS above 2 in SUBSCRIBE.
    BadQos,
    /// A string is not well-formed UTF-8 or contains U+0000.
    BadUtf8,
    /// CONNACK return code above 5, session present with a refusal, or
    /// reserved acknowledge flags set (the offending byte is carried).
    BadConnackCode(u8),
    /// SUBACK return code not in {0, 1, 2, 0x80}.
    BadSubackCode(u8),
    /// Packet identifier 0 where a nonzero one is required.
    ZeroPacketId,
    /// PUBLISH topic (or will topic) empty or containing a wildcard, or a
    /// malformed SUBSCRIBE/UNSUBSCRIBE filter.
    BadTopic,
    /// SUBSCRIBE, UNSUBSCRIBE or SUBACK without any entry.
    EmptyPayload(PacketType),
    /// CONNECT protocol name/level or connect flags invalid.
    BadConnect,
    /// MQTT 5: a variable byte integer (property length, Subscription
    /// Identifier) longer than 4 bytes.
    #[cfg(feature = "mqtt5")]
    BadVarInt,
    /// MQTT 5: a property unknown, not allowed in this packet, repeated, or
    /// with a value out of range.
    #[cfg(feature = "mqtt5")]
    Property(PropertyError),
    /// MQTT 5: a reason code not defined for this packet type.
    #[cfg(feature = "mqtt5")]
    BadReasonCode(PacketType, u8),
    /// MQTT 5: a SUBSCRIBE options byte with reserved bits set or retain
    /// handling 3, or No Local on a shared subscription (the byte is carried).
    #[cfg(feature = "mqtt5")]
    BadSubscriptionOptions(u8),
}

/// Which rule an MQTT 5 property breaks; each carries the property
/// identifier.
#[cfg(feature = "mqtt5")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyError {
    /// An identifier the protocol does not define (a malformed packet).
    Unknown(u8),
    /// Defined, but not allowed in this packet (a malformed packet); also
    /// Authentication Data without an Authentication Method.
    NotAllowed(u8),
    /// Present twice where only User Property (and, in PUBLISH,
    /// Subscription Identifier) may repeat (a protocol error).
    Repeated(u8),
    /// A value out of range: 0 where 0 is forbidden (Receive Maximum,
    /// Maximum Packet Size, Topic Alias, Subscription Identifier), a
    /// 0-or-1 byte above 1, or (encoding only) a string with U+0000.
    BadValue(u8),
}

#[cfg(feature = "mqtt5")]
impl fmt::Display for PropertyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PropertyError::Unknown(id) => write!(f, "unknown property {id:#04x}"),
            PropertyError::NotAllowed(id) => write!(f, "property {id:#04x} not allowed here"),
            PropertyError::Repeated(id) => write!(f, "property {id:#04x} repeated"),
            PropertyError::BadValue(id) => write!(f, "property {id:#04x} value out of range"),
        }
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnknownPacketType(t) => write!(f, "unknown packet type {t}"),
            DecodeError::ReservedFlags(t) => write!(f, "invalid fixed-header flags for {t:?}"),
            DecodeError::BadRemainingLength => f.write_str("remaining length over 4 bytes"),
            DecodeError::BadLength(t) => write!(f, "malformed {t:?} body length"),
            DecodeError::BadQos => f.write_str("invalid QoS level"),
            DecodeError::BadUtf8 => f.write_str("invalid UTF-8 string"),
            DecodeError::BadConnackCode(c) => write!(f, "invalid CONNACK byte {c:#04x}"),
            DecodeError::BadSubackCode(c) => write!(f, "invalid SUBACK return code {c:#04x}"),
            DecodeError::ZeroPacketId => f.write_str("packet identifier is zero"),
            DecodeError::BadTopic => f.write_str("invalid topic"),
            DecodeError::EmptyPayload(t) => write!(f, "{t:?} has no entries"),
            DecodeError::BadConnect => f.write_str("invalid CONNECT header or flags"),
            #[cfg(feature = "mqtt5")]
            DecodeError::BadVarInt => f.write_str("variable byte integer over 4 bytes"),
            #[cfg(feature = "mqtt5")]
            DecodeError::Property(e) => e.fmt(f),
            #[cfg(feature = "mqtt5")]
            DecodeError::BadReasonCode(t, c) => write!(f, "invalid {t:?} reason code {c:#04x}"),
            #[cfg(feature = "mqtt5")]
            DecodeError::BadSubscriptionOptions(b) => {
                write!(f, "invalid subscription options {b:#04x}")
            }
        }
    }
}

/// Why a packet cannot be encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The output buffer is too small; `needed` is the total bytes required.
    BufferTooSmall { needed: usize },
    /// A string/binary field over 65,535 bytes, or a remaining length over
    /// [`MAX_REMAINING_LEN`](super::MAX_REMAINING_LEN).
    TooLong,
    /// A topic name (PUBLISH, will) or filter (SUBSCRIBE, UNSUBSCRIBE) is invalid.
    InvalidTopic(TopicError),
    /// A packet identifier of 0 where a nonzero one is required.
    ZeroPacketId,
    /// CONNECT with a password but no user name (not allowed in 3.1.1).
    PasswordWithoutUser,
    /// CONNECT with an empty client id but `clean_session == false`.
    EmptyClientId,
    /// A client id or user name contains U+0000.
    NulChar,
    /// SUBSCRIBE, UNSUBSCRIBE or SUBACK without any entry.
    EmptyList,
    /// PUBLISH with DUP set at QoS 0.
    DupWithQos0,
    /// A SUBACK code not in {0, 1, 2, 0x80}, or a CONNACK with session present
    /// and a refusal code (the offending code is carried); in MQTT 5 any
    /// reason code not defined for the packet.
    BadReturnCode(u8),
    /// MQTT 5: a property not allowed in the packet, repeated, or out of
    /// range.
    #[cfg(feature = "mqtt5")]
    Property(PropertyError),
    /// MQTT 5: No Local on a shared subscription (`$share/...`).
    #[cfg(feature = "mqtt5")]
    NoLocalOnShared,
    /// Something MQTT 3.1.1 cannot carry (a property, a reason code or
    /// subscription option it lacks, AUTH) asked for in a 3.1.1 encoding.
    #[cfg(feature = "mqtt5")]
    NotInVersion,
    /// A packet only a server sends (CONNACK, SUBACK, UNSUBACK, PINGRESP)
    /// given to a client's encoder (`encode_from_client`).
    ServerOnly,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EncodeError::BufferTooSmall { needed } => {
                write!(f, "output buffer too small, {needed} bytes needed")
            }
            EncodeError::TooLong => f.write_str("field or packet too long"),
            EncodeError::InvalidTopic(e) => write!(f, "invalid topic: {e}"),
            EncodeError::ZeroPacketId => f.write_str("packet identifier must be nonzero"),
            EncodeError::PasswordWithoutUser => f.write_str("password given without user name"),
            EncodeError::EmptyClientId => f.write_str("empty client id requires clean_session"),
            EncodeError::NulChar => f.write_str("string contains U+0000"),
            EncodeError::EmptyList => f.write_str("list of entries is empty"),
            EncodeError::DupWithQos0 => f.write_str("DUP flag set on a QoS 0 publish"),
            EncodeError::BadReturnCode(c) => write!(f, "invalid return code {c:#04x}"),
            #[cfg(feature = "mqtt5")]
            EncodeError::Property(e) => e.fmt(f),
            #[cfg(feature = "mqtt5")]
            EncodeError::NoLocalOnShared => f.write_str("no local on a shared subscription"),
            #[cfg(feature = "mqtt5")]
            EncodeError::NotInVersion => f.write_str("not expressible in MQTT 3.1.1"),
            EncodeError::ServerOnly => f.write_str("a packet only a server sends"),
        }
    }
}

impl From<TopicError> for EncodeError {
    fn from(e: TopicError) -> Self {
        EncodeError::InvalidTopic(e)
    }
}

/// Why a topic name or topic filter is invalid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TopicError {
    /// Zero-length topic.
    Empty,
    /// Longer than 65,535 bytes.
    TooLong,
    /// `+` or `#` in a topic name.
    Wildcard,
    /// A filter with `#` not as the whole last level, or `+` not a whole level.
    BadFilter,
    /// Contains U+0000.
    NulChar,
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TopicError::Empty => "topic is empty",
            TopicError::TooLong => "topic longer than 65535 bytes",
            TopicError::Wildcard => "wildcard in topic name",
            TopicError::BadFilter => "misplaced wildcard in topic filter",
            TopicError::NulChar => "topic contains U+0000",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;

    #[test]
    fn display_is_short_and_specific() {
        assert_eq!(
            DecodeError::UnknownPacketType(15).to_string(),
            "unknown packet type 15"
        );
        assert_eq!(
            DecodeError::ReservedFlags(PacketType::Pubrel).to_string(),
            "invalid fixed-header flags for Pubrel"
        );
        assert_eq!(
            DecodeError::BadSubackCode(3).to_string(),
            "invalid SUBACK return code 0x03"
        );
        assert_eq!(
            EncodeError::BufferTooSmall { needed: 9 }.to_string(),
            "output buffer too small, 9 bytes needed"
        );
        assert_eq!(
            EncodeError::InvalidTopic(TopicError::Wildcard).to_string(),
            "invalid topic: wildcard in topic name"
        );
        assert_eq!(TopicError::Empty.to_string(), "topic is empty");
        #[cfg(feature = "mqtt5")]
        {
            assert_eq!(
                DecodeError::Property(PropertyError::Repeated(0x21)).to_string(),
                "property 0x21 repeated"
            );
            assert_eq!(
                DecodeError::BadReasonCode(PacketType::Puback, 0x05).to_string(),
                "invalid Puback reason code 0x05"
            );
        }
    }
}
