//! MQTT 3.1.1 (and, with the `mqtt5` feature, MQTT 5.0) wire format:
//! framing, checked parsing and encoding of every packet type, and topic
//! name/filter rules.
//!
//! Decoding never copies and never panics: every read of received bytes goes
//! through the bounds-checked reader in `codec`, so any byte string fed to
//! [`Packet::parse`] yields `Ok(None)` (need more bytes), a [`DecodeError`],
//! or a [`Packet`] whose strings and payload borrow the input buffer.
//!
//! Encoding writes into a caller-owned `&mut [u8]`; [`Packet::encoded_len`]
//! tells how large it must be, and [`Publish::encode_header`] lets the caller
//! stream a large payload itself.
//!
//! One codec serves both protocol versions: every packet family's parse and
//! write functions take the [`Version`], and MQTT 5's property list is one
//! more section (`section`) that the 3.1.1 encoding does not have.  Without
//! the `mqtt5` feature that section is a zero-sized stand-in and the 3.1.1
//! code is what it always was.
//!
//! Submodules:
//! - `error`: [`DecodeError`], [`EncodeError`], [`TopicError`].
//! - `header`: the fixed header and the remaining-length varint.
//! - `topic`: topic name/filter validation and matching (section 4.7).
//! - `codec`: the checked byte reader and writer used by the packet code.
//! - `section`: the MQTT 5 property section as the packet code sees it.
//! - `connect`, `connack`, `publish`, `ack` (PUBACK, PUBREC, PUBREL,
//!   PUBCOMP), `subscribe` (with SUBACK), `unsubscribe` (with UNSUBACK):
//!   one file per packet family, both versions.
//! - `packet`: the 3.1.1 [`Packet`], `parse` and `encode`.
//! - with `mqtt5`: `properties` (every property, the checked view, the
//!   per-packet validator, the encoder), `reason` (reason codes),
//!   `disconnect` (DISCONNECT and AUTH), and `v5` (the MQTT 5 packet
//!   representation).

mod ack;
mod codec;
mod connack;
mod connect;
#[cfg(feature = "mqtt5")]
mod disconnect;
mod error;
mod header;
mod packet;
#[cfg(feature = "mqtt5")]
mod properties;
mod publish;
#[cfg(feature = "mqtt5")]
mod reason;
mod section;
mod subscribe;
mod topic;
mod unsubscribe;
#[cfg(feature = "mqtt5")]
pub mod v5;

pub use connack::{Connack, ConnectReturnCode};
pub use connect::{Connect, Will};
#[cfg(feature = "mqtt5")]
pub use error::PropertyError;
pub use error::{DecodeError, EncodeError, TopicError};
pub use header::{
    encode_remaining_len, parse_fixed_header, parse_fixed_header_for, remaining_len_size,
    FixedHeader, MAX_REMAINING_LEN,
};
pub use packet::Packet;
#[cfg(feature = "mqtt5")]
pub use properties::{Properties, Property, PropertyId, PropertyIter, RawValue, ValueType};
pub use publish::Publish;
#[cfg(feature = "mqtt5")]
pub use reason::ReasonCode;
#[cfg(feature = "mqtt5")]
pub use section::Context;
pub use subscribe::{Suback, Subscribe, SubscribeIter, SubscribeTopics};
pub use topic::{topic_matches, validate_topic_filter, validate_topic_name};
pub use unsubscribe::{Unsubscribe, UnsubscribeIter, UnsubscribeTopics};

/// The protocol version a packet is encoded in: the CONNECT protocol level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    /// MQTT 3.1.1, protocol level 4.
    V311,
    /// MQTT 5.0, protocol level 5.
    #[cfg(feature = "mqtt5")]
    V5,
}

impl Version {
    /// The protocol level byte of CONNECT.
    pub const fn level(self) -> u8 {
        match self {
            Version::V311 => 4,
            #[cfg(feature = "mqtt5")]
            Version::V5 => 5,
        }
    }

    /// Whether packets carry MQTT 5's property section and reason codes
    /// (always `false` without the `mqtt5` feature, so that code folds away).
    pub(crate) const fn is_v5(self) -> bool {
        match self {
            Version::V311 => false,
            #[cfg(feature = "mqtt5")]
            Version::V5 => true,
        }
    }
}

/// Quality of service level of a PUBLISH or a subscription.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum QoS {
    /// Fire and forget.
    AtMostOnce = 0,
    /// Acknowledged delivery (PUBACK).
    AtLeastOnce = 1,
    /// Assured delivery (PUBREC / PUBREL / PUBCOMP).
    ExactlyOnce = 2,
}

impl QoS {
    /// The QoS level for `v`, or `None` if `v > 2`.
    pub fn from_u8(v: u8) -> Option<QoS> {
        match v {
            0 => Some(QoS::AtMostOnce),
            1 => Some(QoS::AtLeastOnce),
            2 => Some(QoS::ExactlyOnce),
            _ => None,
        }
    }
}

/// The control packet type, bits 7..4 of the first byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum PacketType {
    Connect = 1,
    Connack,
    Publish,
    Puback,
    Pubrec,
    Pubrel,
    Pubcomp,
    Subscribe,
    Suback,
    Unsubscribe,
    Unsuback,
    Pingreq,
    Pingresp,
    Disconnect,
    /// AUTH, MQTT 5 only (type 15 is reserved in 3.1.1).
    #[cfg(feature = "mqtt5")]
    Auth,
}

impl PacketType {
    /// A packet only a client sends and a broker reads: CONNECT, SUBSCRIBE,
    /// UNSUBSCRIBE (PINGREQ too, but it has no body to read).
    pub const fn client_only(self) -> bool {
        matches!(
            self,
            PacketType::Connect | PacketType::Subscribe | PacketType::Unsubscribe
        )
    }

    /// The packet type for a 4-bit type value; `None` for the reserved 0
    /// (and 15 without the `mqtt5` feature: whether AUTH is valid depends on
    /// the version, which [`parse_fixed_header_for`] checks).
    pub fn from_u8(v: u8) -> Option<PacketType> {
        use PacketType::*;
        Some(match v {
            1 => Connect,
            2 => Connack,
            3 => Publish,
            4 => Puback,
            5 => Pubrec,
            6 => Pubrel,
            7 => Pubcomp,
            8 => Subscribe,
            9 => Suback,
            10 => Unsubscribe,
            11 => Unsuback,
            12 => Pingreq,
            13 => Pingresp,
            14 => Disconnect,
            #[cfg(feature = "mqtt5")]
            15 => Auth,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qos_from_u8() {
        assert_eq!(QoS::from_u8(0), Some(QoS::AtMostOnce));
        assert_eq!(QoS::from_u8(1), Some(QoS::AtLeastOnce));
        assert_eq!(QoS::from_u8(2), Some(QoS::ExactlyOnce));
        assert_eq!(QoS::from_u8(3), None);
        assert_eq!(QoS::from_u8(0x80), None);
    }

    #[test]
    fn packet_type_round_trip() {
        assert_eq!(PacketType::from_u8(0), None);
        #[cfg(not(feature = "mqtt5"))]
        assert_eq!(PacketType::from_u8(15), None);
        let last = if cfg!(feature = "mqtt5") { 15 } else { 14 };
        for v in 1..=last {
            let ty = PacketType::from_u8(v).unwrap();
            assert_eq!(ty as u8, v);
        }
    }
}
