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

/// MQTT 5 retain handling, bits 4-5 of the subscription options: when the
/// server sends retained messages for a new subscription.
#[cfg(feature = "mqtt5")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum RetainHandling {
    /// At every subscribe.
    SendAtSubscribe = 0,
    /// Only when the subscription did not exist.
    SendIfNew = 1,
    /// Never.
    DoNotSend = 2,
}

/// MQTT 5 subscription options (section 3.8.3.1), one byte per filter.
#[cfg(feature = "mqtt5")]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubscriptionOptions {
    /// The maximum QoS the server may send with.
    pub qos: QoS,
    /// Do not receive one's own publications (not on shared subscriptions).
    pub no_local: bool,
    /// Keep the RETAIN flag of forwarded messages as published.
    pub retain_as_published: bool,
    pub retain_handling: RetainHandling,
}

#[cfg(feature = "mqtt5")]
impl SubscriptionOptions {
    /// Options with `qos` and every other choice at its default (0).
    pub const fn new(qos: QoS) -> Self {
        SubscriptionOptions {
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: RetainHandling::SendAtSubscribe,
        }
    }

    /// The options of byte `b`.
    ///
    /// # Errors
    /// [`DecodeError::BadQos`] for QoS 3,
    /// [`DecodeError::BadSubscriptionOptions`] for reserved bits 6-7 set or
    /// retain handling 3.
    pub fn from_byte(b: u8) -> Result<Self, DecodeError> {
        let retain_handling = match (b >> 4) & 0b11 {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            2 => RetainHandling::DoNotSend,
            _ => return Err(DecodeError::BadSubscriptionOptions(b)),
        };
        if b & 0xC0 != 0 {
            return Err(DecodeError::BadSubscriptionOptions(b));
        }
        Ok(SubscriptionOptions {
            qos: QoS::from_u8(b & 0b11).ok_or(DecodeError::BadQos)?,
            no_local: b & 0x04 != 0,
            retain_as_published: b & 0x08 != 0,
            retain_handling,
        })
    }

    /// The options byte.
    pub const fn to_byte(self) -> u8 {
        self.qos as u8
            | (self.no_local as u8) << 2
            | (self.retain_as_published as u8) << 3
            | (self.retain_handling as u8) << 4
    }
}

/// MQTT 5 shared subscriptions (section 4.8.2): `$share/{name}/{filter}`
/// needs a name without `+` or `#` and a nonempty filter, and No Local is a
/// protocol error on it.
#[cfg(feature = "mqtt5")]
pub(crate) fn check_shared(filter: &str, options: u8) -> Result<(), DecodeError> {
    let Some(rest) = filter.strip_prefix("$share/") else {
        return Ok(());
    };
    let (name, inner) = rest.split_once('/').unwrap_or((rest, ""));
    if name.is_empty() || name.contains(['+', '#']) || inner.is_empty() {
        return Err(DecodeError::BadTopic);
    }
    if options & 0x04 != 0 {
        return Err(DecodeError::BadSubscriptionOptions(options));
    }
    Ok(())
}

/// Check one entry's options byte: a QoS in 3.1.1, the options in MQTT 5.
fn check_options(b: u8, v: Version) -> Result<(), DecodeError> {
    #[cfg(feature = "mqtt5")]
    if v.is_v5() {
        return SubscriptionOptions::from_byte(b).map(|_| ());
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
            check_shared(filter, options)?;
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
            check_shared(f, _options).map_err(|e| match e {
                DecodeError::BadTopic => EncodeError::InvalidTopic(super::TopicError::BadFilter),
                _ => EncodeError::NoLocalOnShared,
            })?;
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

/// Whether `c` is read in a SUBACK of version `v`.
fn suback_code_ok(c: u8, v: Version) -> bool {
    #[cfg(feature = "mqtt5")]
    if v.is_v5() {
        return super::ReasonCode::received_in(PacketType::Suback, c);
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

#[cfg(all(test, feature = "mqtt5"))]
mod tests_v5 {
    use crate::wire::v5::tests::{check5, parse5_err};
    use crate::wire::v5::{self, Packet, RetainHandling, SubscriptionOptions};
    use crate::wire::*;
    use std::vec::Vec;

    #[test]
    fn subscribe_v5() {
        #[rustfmt::skip]
        let fixture = [
            0x82, 0x18, // SUBSCRIBE (flags 0b0010), remaining length 24
            0x00, 0x01, // packet id 1
            0x02, // properties: 2 bytes
            0x0B, 0x2A, // subscription identifier 42
            0x00, 0x03, b'a', b'/', b'+', // filter "a/+"
            0x2D, // options: retain handling 2, retain as published, no local, QoS 1
            0x00, 0x0A, b'$', b's', b'h', b'a', b'r', b'e', b'/', b'g', b'/', b't', // "$share/g/t"
            0x00, // options: QoS 0, nothing else
        ];
        let list = [
            (
                "a/+",
                SubscriptionOptions {
                    qos: QoS::AtLeastOnce,
                    no_local: true,
                    retain_as_published: true,
                    retain_handling: RetainHandling::DoNotSend,
                },
            ),
            ("$share/g/t", SubscriptionOptions::new(QoS::AtMostOnce)),
        ];
        let id = [Property::SubscriptionIdentifier(42)];
        let packet = Packet::Subscribe(v5::Subscribe {
            pid: 1,
            props: Properties::from_list(&id),
            topics: v5::SubscribeTopics::List(&list),
        });
        check5(&fixture, packet);
        let Ok(Some((Packet::Subscribe(s), _))) = Packet::parse(&fixture) else {
            panic!()
        };
        assert_eq!(s.topics.iter().collect::<Vec<_>>(), list);
        for o in 0..=0x2Eu8 {
            if let Ok(opts) = SubscriptionOptions::from_byte(o) {
                assert_eq!(opts.to_byte(), o);
            }
        }
    }

    #[test]
    fn subscribe_v5_invalid() {
        // SUBSCRIBE, packet id 1, no properties, filter "a", options byte.
        let with_options = |o: u8| [0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, b'a', o];
        assert_eq!(
            parse5_err(&with_options(0x40)),
            DecodeError::BadSubscriptionOptions(0x40) // reserved bit 6
        );
        assert_eq!(
            parse5_err(&with_options(0x81)),
            DecodeError::BadSubscriptionOptions(0x81) // reserved bit 7
        );
        assert_eq!(
            parse5_err(&with_options(0x30)),
            DecodeError::BadSubscriptionOptions(0x30) // retain handling 3
        );
        assert_eq!(parse5_err(&with_options(0x03)), DecodeError::BadQos);
        assert_eq!(
            DecodeError::BadSubscriptionOptions(0x30).reason_code(),
            ReasonCode::ProtocolError
        );
        assert_eq!(
            DecodeError::BadSubscriptionOptions(0x40).reason_code(),
            ReasonCode::MalformedPacket
        );
        // Shared subscriptions: a name, a filter, and no No Local.
        #[rustfmt::skip]
        let shared = |name: &[u8], o: u8| {
            let mut v = std::vec![0x82, 0, 0x00, 0x01, 0x00, 0x00, 0];
            v.extend_from_slice(name);
            v[6] = u8::try_from(name.len()).unwrap();
            v.push(o);
            v[1] = u8::try_from(v.len() - 2).unwrap();
            v
        };
        assert!(Packet::parse(&shared(b"$share/g/a", 0x01)).is_ok());
        assert_eq!(parse5_err(&shared(b"$share/g", 0)), DecodeError::BadTopic);
        assert_eq!(parse5_err(&shared(b"$share//a", 0)), DecodeError::BadTopic);
        assert_eq!(
            parse5_err(&shared(b"$share/g/a", 0x04)),
            DecodeError::BadSubscriptionOptions(0x04)
        );
        // ... which 3.1.1 does not know about.
        let v311 = shared(b"$share/g", 0);
        let v311: Vec<u8> = [&v311[..4], &v311[5..]].concat();
        let mut v311 = v311;
        v311[1] -= 1; // no property length in 3.1.1
        assert!(crate::wire::Packet::parse(&v311).is_ok());
        // One subscription identifier at most, nonzero.
        #[rustfmt::skip]
        let ids = [
            0x82, 0x0A, 0x00, 0x01, // SUBSCRIBE, packet id 1
            0x04, 0x0B, 0x01, 0x0B, 0x02, // subscription identifiers 1 and 2
            0x00, 0x01, b'a', 0x00, // filter "a", QoS 0
        ];
        assert_eq!(
            parse5_err(&ids),
            DecodeError::Property(PropertyError::Repeated(0x0B))
        );
        let nl = [(
            "$share/g/a",
            SubscriptionOptions {
                no_local: true,
                ..SubscriptionOptions::new(QoS::AtMostOnce)
            },
        )];
        let enc = |topics| {
            Packet::Subscribe(v5::Subscribe {
                pid: 1,
                props: Properties::EMPTY,
                topics,
            })
            .encode(&mut [0u8; 64])
        };
        assert_eq!(
            enc(v5::SubscribeTopics::List(&nl)),
            Err(EncodeError::NoLocalOnShared)
        );
        assert_eq!(
            enc(v5::SubscribeTopics::List(&[])),
            Err(EncodeError::EmptyList)
        );
    }

    #[test]
    fn suback_v5() {
        #[rustfmt::skip]
        let fixture = [
            0x90, 0x0A, // SUBACK, remaining length 10
            0x00, 0x01, // packet id 1
            0x04, // properties: 4 bytes
            0x1F, 0x00, 0x01, b'n', // reason string "n"
            0x01, // granted QoS 1
            0x00, // granted QoS 0
            0x87, // not authorized
        ];
        let why = [Property::ReasonString("n")];
        let packet = Packet::Suback(v5::SubAck {
            pid: 1,
            props: Properties::from_list(&why),
            reasons: &[0x01, 0x00, 0x87],
        });
        check5(&fixture, packet);
        let Packet::Suback(s) = packet else { panic!() };
        assert_eq!(
            s.reason_codes().collect::<Vec<_>>(),
            [
                ReasonCode::GrantedQos1,
                ReasonCode::Success,
                ReasonCode::NotAuthorized
            ]
        );
        assert_eq!(
            parse5_err(&[0x90, 0x04, 0x00, 0x01, 0x00, 0x03]),
            DecodeError::BadReasonCode(PacketType::Suback, 0x03)
        );
        assert_eq!(
            parse5_err(&[0x90, 0x03, 0x00, 0x01, 0x00]),
            DecodeError::EmptyPayload(PacketType::Suback)
        );
        let bad = Packet::Suback(v5::SubAck {
            pid: 1,
            props: Properties::EMPTY,
            reasons: &[0x10],
        });
        assert_eq!(
            bad.encode(&mut [0u8; 8]),
            Err(EncodeError::BadReturnCode(0x10))
        );
    }
}
