//! MQTT 3.1.1 wire format: framing, checked parsing and encoding of every
//! packet type, and topic name/filter rules.
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
//! Submodules:
//! - `error`: [`DecodeError`], [`EncodeError`], [`TopicError`].
//! - `header`: the fixed header and the remaining-length varint.
//! - `topic`: topic name/filter validation and matching (section 4.7).
//! - `codec`: the checked byte reader and writer used by the packet code.
//! - `packet`: the packet representations, `parse` and `encode`.

mod codec;
mod error;
mod header;
mod packet;
mod topic;

pub use error::{DecodeError, EncodeError, TopicError};
pub use header::{
    encode_remaining_len, parse_fixed_header, remaining_len_size, FixedHeader, MAX_REMAINING_LEN,
};
pub use packet::{
    Connack, Connect, ConnectReturnCode, Packet, Publish, Suback, Subscribe, SubscribeIter,
    SubscribeTopics, Unsubscribe, UnsubscribeIter, UnsubscribeTopics, Will,
};
pub use topic::{topic_matches, validate_topic_filter, validate_topic_name};

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
}

impl PacketType {
    /// The packet type for a 4-bit type value; `None` for the reserved 0 and 15.
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
        assert_eq!(PacketType::from_u8(15), None);
        for v in 1..=14u8 {
            let ty = PacketType::from_u8(v).unwrap();
            assert_eq!(ty as u8, v);
        }
    }
}
