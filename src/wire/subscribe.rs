//! SUBSCRIBE and SUBACK (3.1.1 sections 3.8-3.9, MQTT 5 sections 3.8-3.9):
//! one codec for both versions.  MQTT 5 puts a property section after the
//! packet id of each, and turns the requested-QoS byte of an entry into the
//! subscription options byte (QoS, no local, retain as published, retain
//! handling; the two top bits stay reserved).
//!
//! A parsed packet keeps its entries as the raw, already validated bytes;
//! iterating them cannot fail.

use super::codec::{
    add_len, check_remaining, field_len, nonzero, sum_len, topic_decode_error, Reader, Writer,
};
use super::section::{self, Context, Props};
use super::{validate_topic_filter, DecodeError, EncodeError, PacketType, QoS, Version};

/// The entries of a SUBSCRIBE: borrowed from a received packet (already
/// validated) or given by the caller for encoding.
#[derive(Debug, Clone, Copy)]
pub enum SubscribeTopics<'a> {
    /// The raw entry bytes of a parsed SUBSCRIBE.
    Encoded(&'a [u8]),
    /// Filters with their requested QoS.
    List(&'a [(&'a str, QoS)]),
}

impl<'a> SubscribeTopics<'a> {
    /// The `(filter, requested QoS)` entries in order.
    pub fn iter(&self) -> SubscribeIter<'a> {
        SubscribeIter(match *self {
            SubscribeTopics::Encoded(b) => {
                EntryIter::Encoded(Reader::new(b, PacketType::Subscribe))
            }
            SubscribeTopics::List(l) => EntryIter::List(l.iter()),
        })
    }
}

impl PartialEq for SubscribeTopics<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SubscribeTopics<'_> {}

/// Raw entries or a caller's list, iterated alike (also UNSUBSCRIBE's).
#[derive(Debug, Clone)]
pub(crate) enum EntryIter<'a, T> {
    Encoded(Reader<'a>),
    List(core::slice::Iter<'a, T>),
}

impl<'a, T> EntryIter<'a, T> {
    /// Next entry; on malformed bytes (only possible for a hand-built
    /// `Encoded`) the iteration ends.
    pub(crate) fn next_with<U>(
        &mut self,
        decode: impl FnOnce(&mut Reader<'a>) -> Option<U>,
        copy: impl FnOnce(&'a T) -> U,
    ) -> Option<U> {
        match self {
            EntryIter::Encoded(r) if r.is_empty() => None,
            EntryIter::Encoded(r) => {
                let item = decode(r);
                if item.is_none() {
                    *r = Reader::new(&[], PacketType::Subscribe);
                }
                item
            }
            EntryIter::List(l) => l.next().map(copy),
        }
    }
}

/// Iterator over SUBSCRIBE entries, from [`SubscribeTopics::iter`].
#[derive(Debug, Clone)]
pub struct SubscribeIter<'a>(EntryIter<'a, (&'a str, QoS)>);

impl<'a> Iterator for SubscribeIter<'a> {
    type Item = (&'a str, QoS);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_with(
            |r| {
                let filter = r.str().ok()?;
                let qos = QoS::from_u8(r.u8().ok()?)?;
                Some((filter, qos))
            },
            |&entry| entry,
        )
    }
}

/// SUBSCRIBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribe<'a> {
    pub pid: u16,
    pub topics: SubscribeTopics<'a>,
}

/// SUBACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suback<'a> {
    pub pid: u16,
    /// One per requested filter, each in {0, 1, 2, 0x80} (3.1.1).
    pub return_codes: &'a [u8],
}

/// Check one entry's options byte: a QoS in 3.1.1, the options in MQTT 5.
fn check_options(b: u8, v: Version) -> Result<(), DecodeError> {
    #[cfg(feature = "mqtt5")]
    if v.is_v5() {
        return super::v5::SubscriptionOptions::from_byte(b).map(|_| ());
    }
    let _ = v;
    QoS::from_u8(b).map(|_| ()).ok_or(DecodeError::BadQos)
}

/// Packet id, properties and the raw (validated) entries of a SUBSCRIBE.
pub(crate) fn parse<'a>(
    r: &mut Reader<'a>,
    v: Version,
) -> Result<(u16, Props<'a>, &'a [u8]), DecodeError> {
    let pid = r.pid()?;
    let props = section::read(r, v, Context::Subscribe)?;
    let entries = r.rest();
    if entries.is_empty() {
        return Err(DecodeError::EmptyPayload(PacketType::Subscribe));
    }
    while !r.is_empty() {
        let filter = r.str()?;
        validate_topic_filter(filter).map_err(topic_decode_error)?;
        let options = r.u8()?;
        check_options(options, v)?;
        #[cfg(feature = "mqtt5")]
        if v.is_v5() {
            super::v5::check_shared(filter, options)?;
        }
    }
    Ok((pid, props, entries))
}

pub(crate) fn parse_v311<'a>(r: &mut Reader<'a>) -> Result<Subscribe<'a>, DecodeError> {
    let (pid, _, entries) = parse(r, Version::V311)?;
    Ok(Subscribe {
        pid,
        topics: SubscribeTopics::Encoded(entries),
    })
}

/// Check a SUBSCRIBE before encoding; `entries` yields `(filter, options
/// byte)`.
pub(crate) fn validate<'e>(
    pid: u16,
    props: &Props<'_>,
    mut entries: impl Iterator<Item = (&'e str, u8)> + Clone,
    v: Version,
) -> Result<(), EncodeError> {
    nonzero(pid)?;
    if entries.clone().next().is_none() {
        return Err(EncodeError::EmptyList);
    }
    entries.try_for_each(|(f, _options)| {
        validate_topic_filter(f)?;
        #[cfg(feature = "mqtt5")]
        if v.is_v5() {
            super::v5::check_shared(f, _options)
                .map_err(|_| EncodeError::InvalidTopic(super::TopicError::BadFilter))?;
        }
        Ok::<(), EncodeError>(())
    })?;
    section::check(props, v, Context::Subscribe)
}

pub(crate) fn len<'e>(
    props: &Props<'_>,
    entries: impl Iterator<Item = (&'e str, u8)>,
    v: Version,
) -> Result<usize, EncodeError> {
    let len = sum_len(entries, |(f, _)| Ok(field_len(f.len())? + 1))?.saturating_add(2);
    check_remaining(add_len(len, section::len(props, v)?)?)
}

pub(crate) fn write<'e>(
    w: &mut Writer<'_>,
    pid: u16,
    props: &Props<'_>,
    entries: impl Iterator<Item = (&'e str, u8)>,
    v: Version,
) -> Result<(), EncodeError> {
    w.u16(pid)?;
    section::write(w, props, v)?;
    for (filter, options) in entries {
        w.binary(filter.as_bytes())?;
        w.u8(options)?;
    }
    Ok(())
}

const SUBACK_FAILURE: u8 = 0x80;

/// Whether `c` may stand in a SUBACK of version `v`.
fn suback_code_ok(c: u8, v: Version) -> bool {
    #[cfg(feature = "mqtt5")]
    if v.is_v5() {
        return super::ReasonCode::allowed_in(PacketType::Suback, c);
    }
    let _ = v;
    matches!(c, 0..=2 | SUBACK_FAILURE)
}

fn bad_suback_code(c: u8, v: Version) -> DecodeError {
    #[cfg(feature = "mqtt5")]
    if v.is_v5() {
        return DecodeError::BadReasonCode(PacketType::Suback, c);
    }
    let _ = v;
    DecodeError::BadSubackCode(c)
}

/// Packet id, properties and the (checked) return or reason codes of a
/// SUBACK.
pub(crate) fn parse_suback<'a>(
    r: &mut Reader<'a>,
    v: Version,
) -> Result<(u16, Props<'a>, &'a [u8]), DecodeError> {
    let pid = r.pid()?;
    let props = section::read(r, v, Context::Suback)?;
    let codes = r.bytes(r.rest().len())?;
    if codes.is_empty() {
        return Err(DecodeError::EmptyPayload(PacketType::Suback));
    }
    if let Some(&c) = codes.iter().find(|&&c| !suback_code_ok(c, v)) {
        return Err(bad_suback_code(c, v));
    }
    Ok((pid, props, codes))
}

pub(crate) fn parse_suback_v311<'a>(r: &mut Reader<'a>) -> Result<Suback<'a>, DecodeError> {
    let (pid, _, return_codes) = parse_suback(r, Version::V311)?;
    Ok(Suback { pid, return_codes })
}

pub(crate) fn validate_suback(
    pid: u16,
    props: &Props<'_>,
    codes: &[u8],
    v: Version,
) -> Result<(), EncodeError> {
    nonzero(pid)?;
    if codes.is_empty() {
        return Err(EncodeError::EmptyList);
    }
    if let Some(&c) = codes.iter().find(|&&c| !suback_code_ok(c, v)) {
        return Err(EncodeError::BadReturnCode(c));
    }
    section::check(props, v, Context::Suback)
}

pub(crate) fn suback_len(
    props: &Props<'_>,
    codes: &[u8],
    v: Version,
) -> Result<usize, EncodeError> {
    check_remaining(add_len(
        codes.len().saturating_add(2),
        section::len(props, v)?,
    )?)
}

pub(crate) fn write_suback(
    w: &mut Writer<'_>,
    pid: u16,
    props: &Props<'_>,
    codes: &[u8],
    v: Version,
) -> Result<(), EncodeError> {
    w.u16(pid)?;
    section::write(w, props, v)?;
    w.put(codes)
}

#[cfg(test)]
mod tests {
    use crate::wire::packet::tests::{check, parse_err};
    use crate::wire::*;

    use std::vec::Vec;

    #[test]
    fn subscribe() {
        #[rustfmt::skip]
        let fixture = [
            0x82, // SUBSCRIBE (flags 0b0010)
            0x0C, // remaining length = 12
            0x00, 0x01, // packet id = 1
            0x00, 0x03, b'a', b'/', b'+', // filter "a/+"
            0x01, // requested QoS 1
            0x00, 0x01, b'#', // filter "#"
            0x02, // requested QoS 2
        ];
        let list = [("a/+", QoS::AtLeastOnce), ("#", QoS::ExactlyOnce)];
        check(
            &fixture,
            Packet::Subscribe(Subscribe {
                pid: 1,
                topics: SubscribeTopics::List(&list),
            }),
        );
        let Ok(Some((Packet::Subscribe(s), _))) = Packet::parse(&fixture) else {
            panic!()
        };
        assert!(matches!(s.topics, SubscribeTopics::Encoded(b) if b == &fixture[4..]));
        assert_eq!(s.topics.iter().collect::<Vec<_>>(), list);

        let cases: &[(&[u8], DecodeError)] = &[
            (
                &[0x82, 0x02, 0x00, 0x01],
                DecodeError::EmptyPayload(PacketType::Subscribe),
            ),
            (
                &[0x82, 0x06, 0x00, 0x00, 0x00, 0x01, b'a', 0x00],
                DecodeError::ZeroPacketId,
            ),
            (
                &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x03],
                DecodeError::BadQos,
            ),
            (
                &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, b'a', 0x81],
                DecodeError::BadQos,
            ), // reserved bits
            (
                &[0x82, 0x05, 0x00, 0x01, 0x00, 0x01, b'a'],
                DecodeError::BadLength(PacketType::Subscribe),
            ), // no QoS byte
            (
                &[0x82, 0x07, 0x00, 0x01, 0x00, 0x02, b'a', b'#', 0x00],
                DecodeError::BadTopic,
            ),
            (
                &[0x82, 0x05, 0x00, 0x01, 0x00, 0x00, 0x00],
                DecodeError::BadTopic,
            ), // empty filter
            (
                &[0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00],
                DecodeError::BadUtf8,
            ),
        ];
        for &(bytes, want) in cases {
            assert_eq!(Packet::parse(bytes), Err(want), "{bytes:02x?}");
        }

        let enc = |pid, list: &[(&str, QoS)]| {
            Packet::Subscribe(Subscribe {
                pid,
                topics: SubscribeTopics::List(list),
            })
            .encode(&mut [0u8; 64])
        };
        assert_eq!(enc(1, &[]), Err(EncodeError::EmptyList));
        assert_eq!(enc(0, &list), Err(EncodeError::ZeroPacketId));
        assert_eq!(
            enc(1, &[("a/#/b", QoS::AtMostOnce)]),
            Err(EncodeError::InvalidTopic(TopicError::BadFilter))
        );
    }

    #[test]
    fn hand_built_encoded_list_stops_at_garbage() {
        let topics = SubscribeTopics::Encoded(&[0x00, 0x01, b'a', 0x01, 0x00, 0x09, b'b']);
        assert_eq!(topics.iter().collect::<Vec<_>>(), [("a", QoS::AtLeastOnce)]);
        let topics = UnsubscribeTopics::Encoded(&[0x00, 0x01, 0xFF, 0x00, 0x01, b'b']);
        assert_eq!(topics.iter().count(), 0);
    }

    #[test]
    fn suback() {
        #[rustfmt::skip]
        let fixture = [
            0x90, // SUBACK
            0x05, // remaining length
            0x00, 0x01, // packet id = 1
            0x01, // granted QoS 1
            0x80, // failure
            0x00, // granted QoS 0
        ];
        check(
            &fixture,
            Packet::Suback(Suback {
                pid: 1,
                return_codes: &[0x01, 0x80, 0x00],
            }),
        );
        assert_eq!(
            parse_err(&[0x90, 0x02, 0x00, 0x01]),
            DecodeError::EmptyPayload(PacketType::Suback)
        );
        assert_eq!(
            parse_err(&[0x90, 0x03, 0x00, 0x01, 0x03]),
            DecodeError::BadSubackCode(3)
        );
        assert_eq!(
            parse_err(&[0x90, 0x03, 0x00, 0x01, 0x81]),
            DecodeError::BadSubackCode(0x81)
        );
        assert_eq!(
            parse_err(&[0x90, 0x03, 0x00, 0x00, 0x00]),
            DecodeError::ZeroPacketId
        );
        let enc = |codes: &[u8]| {
            Packet::Suback(Suback {
                pid: 1,
                return_codes: codes,
            })
            .encode(&mut [0u8; 8])
        };
        assert_eq!(enc(&[]), Err(EncodeError::EmptyList));
        assert_eq!(enc(&[0, 4]), Err(EncodeError::BadReturnCode(4)));
    }
}
