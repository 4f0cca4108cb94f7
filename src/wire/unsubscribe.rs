//! UNSUBSCRIBE and UNSUBACK (3.1.1 sections 3.10-3.11, MQTT 5 sections
//! 3.10-3.11): one codec for both versions.  MQTT 5 puts a property section
//! after the packet id of each, and gives UNSUBACK one reason code per
//! filter (a 3.1.1 UNSUBACK is the packet id alone).

use super::codec::{
    add_len, check_remaining, field_len, nonzero, sum_len, topic_decode_error, Reader, Writer,
};
use super::section::{self, Context, Props};
use super::subscribe::EntryIter;
use super::{validate_topic_filter, DecodeError, EncodeError, PacketType, Version};

/// The filters of an UNSUBSCRIBE: borrowed from a received packet (already
/// validated) or given by the caller for encoding.
#[derive(Debug, Clone, Copy)]
pub enum UnsubscribeTopics<'a> {
    /// The raw entry bytes of a parsed UNSUBSCRIBE.
    Encoded(&'a [u8]),
    /// Filters.
    List(&'a [&'a str]),
}

impl<'a> UnsubscribeTopics<'a> {
    /// The filters in order.
    pub fn iter(&self) -> UnsubscribeIter<'a> {
        UnsubscribeIter(match *self {
            UnsubscribeTopics::Encoded(b) => {
                EntryIter::Encoded(Reader::new(b, PacketType::Unsubscribe))
            }
            UnsubscribeTopics::List(l) => EntryIter::List(l.iter()),
        })
    }
}

impl PartialEq for UnsubscribeTopics<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for UnsubscribeTopics<'_> {}

/// Iterator over UNSUBSCRIBE filters, from [`UnsubscribeTopics::iter`].
#[derive(Debug, Clone)]
pub struct UnsubscribeIter<'a>(EntryIter<'a, &'a str>);

impl<'a> Iterator for UnsubscribeIter<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_with(|r| r.str().ok(), |&s| s)
    }
}

/// UNSUBSCRIBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribe<'a> {
    pub pid: u16,
    pub topics: UnsubscribeTopics<'a>,
}

/// Packet id, properties and the raw (validated) filters of an UNSUBSCRIBE.
pub(crate) fn parse<'a>(
    r: &mut Reader<'a>,
    v: Version,
) -> Result<(u16, Props<'a>, &'a [u8]), DecodeError> {
    let pid = r.pid()?;
    let props = section::read(r, v, Context::Unsubscribe)?;
    let entries = r.rest();
    if entries.is_empty() {
        return Err(DecodeError::EmptyPayload(PacketType::Unsubscribe));
    }
    while !r.is_empty() {
        validate_topic_filter(r.str()?).map_err(topic_decode_error)?;
    }
    Ok((pid, props, entries))
}

pub(crate) fn parse_v311<'a>(r: &mut Reader<'a>) -> Result<Unsubscribe<'a>, DecodeError> {
    let (pid, _, entries) = parse(r, Version::V311)?;
    Ok(Unsubscribe {
        pid,
        topics: UnsubscribeTopics::Encoded(entries),
    })
}

pub(crate) fn validate<'e>(
    pid: u16,
    props: &Props<'_>,
    mut filters: impl Iterator<Item = &'e str> + Clone,
    v: Version,
) -> Result<(), EncodeError> {
    nonzero(pid)?;
    if filters.clone().next().is_none() {
        return Err(EncodeError::EmptyList);
    }
    filters.try_for_each(|f| validate_topic_filter(f).map_err(EncodeError::from))?;
    section::check(props, v, Context::Unsubscribe)
}

pub(crate) fn len<'e>(
    props: &Props<'_>,
    filters: impl Iterator<Item = &'e str>,
    v: Version,
) -> Result<usize, EncodeError> {
    let len = sum_len(filters, |f| field_len(f.len()))?.saturating_add(2);
    check_remaining(add_len(len, section::len(props, v)?)?)
}

pub(crate) fn write<'e>(
    w: &mut Writer<'_>,
    pid: u16,
    props: &Props<'_>,
    filters: impl Iterator<Item = &'e str>,
    v: Version,
) -> Result<(), EncodeError> {
    w.u16(pid)?;
    section::write(w, props, v)?;
    for filter in filters {
        w.binary(filter.as_bytes())?;
    }
    Ok(())
}

/// MQTT 5 UNSUBACK: packet id, properties and one (checked) reason code
/// per filter.
#[cfg(feature = "mqtt5")]
pub(crate) fn parse_unsuback<'a>(
    r: &mut Reader<'a>,
) -> Result<(u16, Props<'a>, &'a [u8]), DecodeError> {
    let pid = r.pid()?;
    let props = section::read(r, Version::V5, Context::Unsuback)?;
    let codes = r.bytes(r.rest().len())?;
    if codes.is_empty() {
        return Err(DecodeError::EmptyPayload(PacketType::Unsuback));
    }
    for &c in codes {
        super::ReasonCode::parse(PacketType::Unsuback, c)?;
    }
    Ok((pid, props, codes))
}

#[cfg(feature = "mqtt5")]
pub(crate) fn validate_unsuback(
    pid: u16,
    props: &Props<'_>,
    codes: &[u8],
) -> Result<(), EncodeError> {
    nonzero(pid)?;
    if codes.is_empty() {
        return Err(EncodeError::EmptyList);
    }
    let unsuback = |&c: &u8| super::ReasonCode::allowed_in(PacketType::Unsuback, c);
    if let Some(&c) = codes.iter().find(|c| !unsuback(c)) {
        return Err(EncodeError::BadReturnCode(c));
    }
    section::check(props, Version::V5, Context::Unsuback)
}

#[cfg(feature = "mqtt5")]
pub(crate) fn unsuback_len(props: &Props<'_>, codes: &[u8]) -> Result<usize, EncodeError> {
    check_remaining(add_len(
        codes.len().saturating_add(2),
        section::len(props, Version::V5)?,
    )?)
}

#[cfg(feature = "mqtt5")]
pub(crate) fn write_unsuback(
    w: &mut Writer<'_>,
    pid: u16,
    props: &Props<'_>,
    codes: &[u8],
) -> Result<(), EncodeError> {
    w.u16(pid)?;
    section::write(w, props, Version::V5)?;
    w.put(codes)
}

#[cfg(test)]
mod tests {
    use crate::wire::packet::tests::{check, parse_err};
    use crate::wire::*;

    #[test]
    fn unsubscribe() {
        #[rustfmt::skip]
        let fixture = [
            0xA2, // UNSUBSCRIBE (flags 0b0010)
            0x0A, // remaining length = 10
            0x00, 0x02, // packet id = 2
            0x00, 0x03, b'a', b'/', b'+', // filter "a/+"
            0x00, 0x01, b'#', // filter "#"
        ];
        let list = ["a/+", "#"];
        check(
            &fixture,
            Packet::Unsubscribe(Unsubscribe {
                pid: 2,
                topics: UnsubscribeTopics::List(&list),
            }),
        );
        assert_eq!(
            parse_err(&[0xA2, 0x02, 0x00, 0x02]),
            DecodeError::EmptyPayload(PacketType::Unsubscribe)
        );
        let plus = [0xA2, 0x05, 0x00, 0x02, 0x00, 0x01, b'+']; // "+" alone is a valid filter
        assert!(matches!(
            Packet::parse(&plus),
            Ok(Some((Packet::Unsubscribe(_), 7)))
        ));
        assert_eq!(
            parse_err(&[0xA2, 0x06, 0x00, 0x02, 0x00, 0x02, b'a', b'+']),
            DecodeError::BadTopic
        );
        assert_eq!(
            parse_err(&[0xA2, 0x05, 0x00, 0x02, 0x00, 0x02, b'a']),
            DecodeError::BadLength(PacketType::Unsubscribe)
        );
        let enc = |pid, list: &[&str]| {
            Packet::Unsubscribe(Unsubscribe {
                pid,
                topics: UnsubscribeTopics::List(list),
            })
            .encode(&mut [0u8; 64])
        };
        assert_eq!(enc(2, &[]), Err(EncodeError::EmptyList));
        assert_eq!(enc(0, &list), Err(EncodeError::ZeroPacketId));
        assert_eq!(
            enc(2, &[""]),
            Err(EncodeError::InvalidTopic(TopicError::Empty))
        );
    }
}

#[cfg(all(test, feature = "mqtt5"))]
mod tests_v5 {
    use crate::wire::v5::tests::{check5, parse5_err};
    use crate::wire::v5::{self, Packet};
    use crate::wire::*;

    #[test]
    fn unsubscribe_v5() {
        #[rustfmt::skip]
        let fixture = [
            0xA2, 0x0F, // UNSUBSCRIBE (flags 0b0010), remaining length 15
            0x00, 0x02, // packet id 2
            0x07, // properties: 7 bytes
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property k = v
            0x00, 0x03, b'a', b'/', b'#', // filter "a/#"
        ];
        let user = [Property::UserProperty(("k", "v"))];
        check5(
            &fixture,
            Packet::Unsubscribe(v5::Unsubscribe {
                pid: 2,
                props: Properties::from_list(&user),
                topics: UnsubscribeTopics::List(&["a/#"]),
            }),
        );
        // A subscription identifier belongs to SUBSCRIBE.
        assert_eq!(
            parse5_err(&[0xA2, 0x07, 0x00, 0x02, 0x02, 0x0B, 0x01, 0x00, 0x00]),
            DecodeError::Property(PropertyError::NotAllowed(0x0B))
        );
    }

    #[test]
    fn unsuback_v5() {
        #[rustfmt::skip]
        let fixture = [
            0xB0, 0x05, // UNSUBACK, remaining length 5
            0x00, 0x02, // packet id 2
            0x00, // properties: none
            0x00, // success
            0x11, // no subscription existed
        ];
        check5(
            &fixture,
            Packet::Unsuback(v5::SubAck {
                pid: 2,
                props: Properties::EMPTY,
                reasons: &[0x00, 0x11],
            }),
        );
        assert_eq!(
            parse5_err(&[0xB0, 0x03, 0x00, 0x02, 0x00]),
            DecodeError::EmptyPayload(PacketType::Unsuback)
        );
        assert_eq!(
            parse5_err(&[0xB0, 0x04, 0x00, 0x02, 0x00, 0x01]),
            DecodeError::BadReasonCode(PacketType::Unsuback, 0x01)
        );
        // A 3.1.1 UNSUBACK (packet id only) lacks the property length.
        assert_eq!(
            parse5_err(&[0xB0, 0x02, 0x00, 0x02]),
            DecodeError::BadLength(PacketType::Unsuback)
        );
        let enc = |reasons| {
            Packet::Unsuback(v5::SubAck {
                pid: 2,
                props: Properties::EMPTY,
                reasons,
            })
            .encode(&mut [0u8; 8])
        };
        assert_eq!(enc(&[]), Err(EncodeError::EmptyList));
        assert_eq!(enc(&[0x02]), Err(EncodeError::BadReturnCode(0x02)));
    }
}
