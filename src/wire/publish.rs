//! PUBLISH (3.1.1 section 3.3, MQTT 5 section 3.3): topic, packet id (QoS 1
//! and 2), in MQTT 5 a property section, then the payload.  The header can
//! be encoded alone for a payload the caller streams itself, and parsed from
//! the first bytes of a body whose payload comes in pieces.
//!
//! In MQTT 5 the topic may be empty when a Topic Alias property stands for
//! it; otherwise the topic name rules of section 4.7 hold in both versions.

use super::codec::{add_len, check_remaining, field_len, topic_decode_error, Reader, Writer};
use super::header::check_flags;
use super::section::{self, Context, Props};
use super::{
    remaining_len_size, validate_topic_name, DecodeError, EncodeError, FixedHeader, PacketType,
    QoS, Version,
};

/// PUBLISH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish<'a> {
    pub topic: &'a str,
    pub qos: QoS,
    pub retain: bool,
    pub dup: bool,
    /// Packet identifier; 0 (and not encoded) for QoS 0.
    pub pid: u16,
    pub payload: &'a [u8],
}

impl<'a> Publish<'a> {
    /// The topic, flags and packet id of a 3.1.1 PUBLISH from the first
    /// bytes of its body (`body_start`, any prefix of it), for a payload
    /// passed through in pieces: the `Publish` with an empty payload and the
    /// length of its variable header.  `Ok(None)` while those bytes are not
    /// all in.
    ///
    /// # Errors
    /// As [`Packet::parse_body`](super::Packet::parse_body) for the same
    /// bytes (flags, topic, packet id, a variable header longer than the
    /// remaining length).
    pub fn parse_head(
        header: &FixedHeader,
        body_start: &'a [u8],
    ) -> Result<Option<(Publish<'a>, usize)>, DecodeError> {
        Ok(parse_head(header, body_start, Version::V311)?.map(|(p, _, n)| (p, n)))
    }

    /// How long the variable header (topic, packet id, MQTT 5
    /// properties) of the PUBLISH starting with `body_start` is, as far as
    /// those bytes tell: exact once the property length is in, else
    /// counting its longest length field; what a buffer must hold before
    /// the header can be parsed (`parse_head` says `Ok(None)` until then).
    pub(crate) fn head_room(header: &FixedHeader, body_start: &[u8], v: Version) -> usize {
        let qos = QoS::from_u8((header.flags >> 1) & 0b11).unwrap_or(QoS::AtMostOnce);
        let topic_len = match (body_start.first(), body_start.get(1)) {
            (Some(&hi), Some(&lo)) => usize::from(u16::from_be_bytes([hi, lo])),
            _ => 0,
        };
        let head_len = 2 + topic_len + pid_len(qos);
        match props_end(header, body_start, head_len, v) {
            Ok(Some(end)) => end,
            _ => head_len + 4,
        }
    }

    pub(crate) fn remaining_len(&self) -> Result<usize, EncodeError> {
        remaining_len_for(self, &Props::EMPTY, Version::V311, self.payload.len())
    }

    pub(crate) fn validate(&self) -> Result<(), EncodeError> {
        validate(self, &Props::EMPTY, Version::V311)
    }

    pub(crate) fn first_byte(&self) -> u8 {
        0x30 | u8::from(self.dup) << 3 | (self.qos as u8) << 1 | u8::from(self.retain)
    }

    /// Bytes before the payload (fixed header + topic + packet id).
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] if the packet cannot be encoded.
    pub fn header_len(&self) -> Result<usize, EncodeError> {
        self.header_len_for(self.payload.len())
    }

    /// [`Self::header_len`] for a payload of `payload_len` bytes, whatever
    /// `self.payload` holds.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] if the packet cannot be encoded.
    pub fn header_len_for(&self, payload_len: usize) -> Result<usize, EncodeError> {
        header_len_for(self, &Props::EMPTY, Version::V311, payload_len)
    }

    /// Write only the fixed header and variable header (whose remaining
    /// length counts the payload); the caller writes the payload right after.
    /// Returns the bytes written, [`Self::header_len`].
    ///
    /// # Errors
    /// As [`Packet::encode`](super::Packet::encode), with `needed` counting
    /// the header only.
    pub fn encode_header(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.encode_header_for(self.payload.len(), out)
    }

    /// [`Self::encode_header`] for a payload of `payload_len` bytes that the
    /// caller writes itself (`self.payload` is ignored).
    ///
    /// # Errors
    /// As [`Packet::encode`](super::Packet::encode), with `needed` counting
    /// the header only.
    pub fn encode_header_for(
        &self,
        payload_len: usize,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        encode_header_for(self, &Props::EMPTY, Version::V311, payload_len, out)
    }

    pub(crate) fn write_header(
        &self,
        w: &mut Writer<'_>,
        payload_len: usize,
    ) -> Result<(), EncodeError> {
        write_header(self, &Props::EMPTY, Version::V311, w, payload_len)
    }
}

fn pid_len(qos: QoS) -> usize {
    if qos == QoS::AtMostOnce {
        0
    } else {
        2
    }
}

/// The variable header of a PUBLISH from the first bytes of its body: the
/// `Publish` (empty payload), its properties and the header's length, or
/// `Ok(None)` while those bytes are not all in.
#[inline(always)]
pub(crate) fn parse_head<'a>(
    header: &FixedHeader,
    body_start: &'a [u8],
    v: Version,
) -> Result<Option<(Publish<'a>, Props<'a>, usize)>, DecodeError> {
    check_flags(PacketType::Publish, header.flags)?;
    let qos = QoS::from_u8((header.flags >> 1) & 0b11).ok_or(DecodeError::BadQos)?;
    let (Some(&hi), Some(&lo)) = (body_start.first(), body_start.get(1)) else {
        return Ok(None);
    };
    let topic_len = usize::from(u16::from_be_bytes([hi, lo]));
    let head_len = 2 + topic_len + pid_len(qos);
    if head_len > header.remaining_len {
        return Err(DecodeError::BadLength(PacketType::Publish));
    }
    let Some(head_len) = props_end(header, body_start, head_len, v)? else {
        return Ok(None);
    };
    let Some(head) = body_start.get(..head_len) else {
        return Ok(None);
    };
    let mut r = Reader::new(head, PacketType::Publish);
    let (publish, props) = parse(header.flags, &mut r, v)?;
    Ok(Some((publish, props, head_len)))
}

/// Where the variable header ends: after the MQTT 5 property section
/// that starts at `head_len`, once its length is in.
#[inline(always)]
fn props_end(
    header: &FixedHeader,
    body_start: &[u8],
    head_len: usize,
    v: Version,
) -> Result<Option<usize>, DecodeError> {
    if !v.is_v5() {
        return Ok(Some(head_len));
    }
    #[cfg(feature = "mqtt5")]
    {
        let body = body_start.get(..header.remaining_len).unwrap_or(body_start);
        let mut r = Reader::new(
            body.get(head_len..).unwrap_or_default(),
            PacketType::Publish,
        );
        let before = r.rest().len();
        let end = match r.var_int() {
            Ok(n) => {
                let n = usize::try_from(n).map_err(|_| DecodeError::BadVarInt)?;
                add_head(head_len, before - r.rest().len(), n)?
            }
            // The whole body is in and the length still runs past it.
            Err(DecodeError::BadLength(_)) if body.len() == header.remaining_len => {
                return Err(DecodeError::BadLength(PacketType::Publish));
            }
            Err(DecodeError::BadLength(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        if end > header.remaining_len {
            return Err(DecodeError::BadLength(PacketType::Publish));
        }
        Ok(Some(end))
    }
    #[cfg(not(feature = "mqtt5"))]
    {
        let _ = (header, body_start);
        Ok(Some(head_len))
    }
}

#[cfg(feature = "mqtt5")]
fn add_head(a: usize, b: usize, c: usize) -> Result<usize, DecodeError> {
    a.checked_add(b)
        .and_then(|n| n.checked_add(c))
        .ok_or(DecodeError::BadLength(PacketType::Publish))
}

/// The remaining length with a payload of `payload_len` bytes.
pub(crate) fn remaining_len_for(
    p: &Publish<'_>,
    props: &Props<'_>,
    v: Version,
    payload_len: usize,
) -> Result<usize, EncodeError> {
    let len = field_len(p.topic.len())?
        .checked_add(pid_len(p.qos))
        .and_then(|n| n.checked_add(payload_len))
        .ok_or(EncodeError::TooLong)?;
    check_remaining(add_len(len, section::len(props, v)?)?)
}

pub(crate) fn header_len_for(
    p: &Publish<'_>,
    props: &Props<'_>,
    v: Version,
    payload_len: usize,
) -> Result<usize, EncodeError> {
    let rem = remaining_len_for(p, props, v, payload_len)?;
    Ok(1 + remaining_len_size(rem) + rem - payload_len)
}

pub(crate) fn validate(p: &Publish<'_>, props: &Props<'_>, v: Version) -> Result<(), EncodeError> {
    // MQTT 5: an empty topic stands for the one a Topic Alias names.
    if !(v.is_v5() && p.topic.is_empty() && props.topic_alias().is_some()) {
        validate_topic_name(p.topic)?;
    }
    if p.qos == QoS::AtMostOnce {
        if p.dup {
            return Err(EncodeError::DupWithQos0);
        }
    } else if p.pid == 0 {
        return Err(EncodeError::ZeroPacketId);
    }
    section::check(props, v, Context::Publish)
}

pub(crate) fn encode_header_for(
    p: &Publish<'_>,
    props: &Props<'_>,
    v: Version,
    payload_len: usize,
    out: &mut [u8],
) -> Result<usize, EncodeError> {
    validate(p, props, v)?;
    let needed = header_len_for(p, props, v, payload_len)?;
    if out.len() < needed {
        return Err(EncodeError::BufferTooSmall { needed });
    }
    let mut w = Writer::new(out);
    write_header(p, props, v, &mut w, payload_len)?;
    Ok(w.pos())
}

pub(crate) fn write_header(
    p: &Publish<'_>,
    props: &Props<'_>,
    v: Version,
    w: &mut Writer<'_>,
    payload_len: usize,
) -> Result<(), EncodeError> {
    w.fixed_header(p.first_byte(), remaining_len_for(p, props, v, payload_len)?)?;
    w.binary(p.topic.as_bytes())?;
    if p.qos != QoS::AtMostOnce {
        w.u16(p.pid)?;
    }
    section::write(w, props, v)
}

#[inline(always)]
pub(crate) fn parse<'a>(
    flags: u8,
    r: &mut Reader<'a>,
    v: Version,
) -> Result<(Publish<'a>, Props<'a>), DecodeError> {
    let qos = QoS::from_u8((flags >> 1) & 0b11).ok_or(DecodeError::BadQos)?;
    // UTF-8 here; U+0000 is found by validate_topic_name's one pass over
    // the bytes, below (an empty aliased topic has none).
    let topic = core::str::from_utf8(r.binary()?).map_err(|_| DecodeError::BadUtf8)?;
    if !v.is_v5() {
        validate_topic_name(topic).map_err(topic_decode_error)?;
    }
    let pid = if qos == QoS::AtMostOnce { 0 } else { r.pid()? };
    let props = section::read(r, v, Context::Publish)?;
    // MQTT 5: an empty topic stands for the one a Topic Alias names.
    if v.is_v5() && !(topic.is_empty() && props.topic_alias().is_some()) {
        validate_topic_name(topic).map_err(topic_decode_error)?;
    }
    let payload = r.bytes(r.rest().len())?;
    let publish = Publish {
        topic,
        qos,
        retain: flags & 0b0001 != 0,
        dup: flags & 0b1000 != 0,
        pid,
        payload,
    };
    Ok((publish, props))
}

#[cfg(test)]
mod tests {
    use crate::wire::packet::tests::check;
    use crate::wire::*;

    use std::vec;

    #[test]
    fn publish_fixtures() {
        #[rustfmt::skip]
        check(&[
            0x30, // PUBLISH, QoS 0
            0x07, // remaining length
            0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
            b'h', b'i', // payload
        ], Packet::Publish(Publish {
            topic: "a/b", qos: QoS::AtMostOnce, retain: false, dup: false, pid: 0, payload: b"hi",
        }));
        #[rustfmt::skip]
        check(&[
            0x3B, // PUBLISH, DUP, QoS 1, RETAIN
            0x09, // remaining length
            0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
            0x00, 0x0A, // packet id = 10
            b'h', b'i', // payload
        ], Packet::Publish(Publish {
            topic: "a/b", qos: QoS::AtLeastOnce, retain: true, dup: true, pid: 10, payload: b"hi",
        }));
        #[rustfmt::skip]
        check(&[
            0x34, // PUBLISH, QoS 2
            0x07, // remaining length
            0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
            0x12, 0x34, // packet id = 0x1234
            // empty payload
        ], Packet::Publish(Publish {
            topic: "a/b", qos: QoS::ExactlyOnce, retain: false, dup: false, pid: 0x1234, payload: b"",
        }));
    }

    #[test]
    fn publish_large_payload_header() {
        let payload = vec![0xAB; 200];
        let p = Publish {
            topic: "t",
            qos: QoS::AtLeastOnce,
            retain: false,
            dup: false,
            pid: 7,
            payload: &payload,
        };
        #[rustfmt::skip]
        let header = [
            0x32, // PUBLISH, QoS 1
            0xCD, 0x01, // remaining length = 205 = 0x4D + 1 * 128
            0x00, 0x01, b't', // topic "t"
            0x00, 0x07, // packet id = 7
        ];
        assert_eq!(p.header_len(), Ok(header.len()));
        let mut out = [0u8; 8];
        assert_eq!(p.encode_header(&mut out), Ok(8));
        assert_eq!(out, header);
        assert_eq!(
            p.encode_header(&mut out[..7]),
            Err(EncodeError::BufferTooSmall { needed: 8 })
        );
        let mut whole = vec![0u8; 208];
        assert_eq!(Packet::Publish(p).encode(&mut whole), Ok(208));
        assert_eq!(whole[..8], header);
        assert_eq!(Packet::parse(&whole), Ok(Some((Packet::Publish(p), 208))));
    }

    #[test]
    fn publish_max_length() {
        // calloc'd, so cheap: payload filling the largest remaining length.
        let payload = vec![0u8; MAX_REMAINING_LEN - 2];
        let p = |n: usize| Publish {
            topic: "t",
            qos: QoS::AtMostOnce,
            retain: false,
            dup: false,
            pid: 0,
            payload: &payload[..n],
        };
        let fits = Packet::Publish(p(MAX_REMAINING_LEN - 3));
        assert_eq!(fits.encoded_len(), Ok(1 + 4 + MAX_REMAINING_LEN));
        assert_eq!(p(MAX_REMAINING_LEN - 3).header_len(), Ok(1 + 4 + 3));
        let over = Packet::Publish(p(MAX_REMAINING_LEN - 2));
        assert_eq!(over.encoded_len(), Err(EncodeError::TooLong));
        assert_eq!(over.encode(&mut [0u8; 16]), Err(EncodeError::TooLong));
        assert_eq!(
            p(MAX_REMAINING_LEN - 2).encode_header(&mut [0u8; 16]),
            Err(EncodeError::TooLong)
        );
    }

    #[test]
    fn publish_invalid() {
        let cases: &[(&[u8], DecodeError)] = &[
            (
                &[0x30, 0x03, 0x00, 0x05, b'a'],
                DecodeError::BadLength(PacketType::Publish),
            ), // topic runs past end
            (
                &[0x30, 0x01, 0x00],
                DecodeError::BadLength(PacketType::Publish),
            ), // half a length
            (&[0x30, 0x02, 0x00, 0x00], DecodeError::BadTopic), // empty topic
            (&[0x30, 0x03, 0x00, 0x01, b'+'], DecodeError::BadTopic), // wildcard
            (
                &[0x30, 0x05, 0x00, 0x03, b'a', b'/', b'#'],
                DecodeError::BadTopic,
            ), // wildcard
            (&[0x30, 0x03, 0x00, 0x01, 0x00], DecodeError::BadUtf8), // U+0000
            (
                &[0x30, 0x05, 0x00, 0x03, 0xED, 0xA0, 0x80],
                DecodeError::BadUtf8,
            ), // surrogate U+D800
            (&[0x30, 0x03, 0x00, 0x01, 0xFF], DecodeError::BadUtf8), // invalid byte
            (&[0x30, 0x04, 0x00, 0x02, 0xC0, 0x80], DecodeError::BadUtf8), // overlong U+0000
            (
                &[0x32, 0x05, 0x00, 0x01, b'a', 0x00, 0x00],
                DecodeError::ZeroPacketId,
            ), // QoS 1, pid 0
            (
                &[0x32, 0x04, 0x00, 0x01, b'a', 0x00],
                DecodeError::BadLength(PacketType::Publish),
            ), // half a pid
            (
                &[0x38, 0x03, 0x00, 0x01, b'a'],
                DecodeError::ReservedFlags(PacketType::Publish),
            ), // DUP at QoS 0
            (
                &[0x36, 0x05, 0x00, 0x01, b'a', 0x00, 0x01],
                DecodeError::BadQos,
            ), // QoS 3
        ];
        for &(bytes, want) in cases {
            assert_eq!(Packet::parse(bytes), Err(want), "{bytes:02x?}");
        }
    }

    #[test]
    fn publish_encode_errors() {
        let base = Publish {
            topic: "a",
            qos: QoS::AtLeastOnce,
            retain: false,
            dup: false,
            pid: 1,
            payload: b"",
        };
        let enc = |p: Publish<'_>| Packet::Publish(p).encode(&mut [0u8; 64]);
        assert_eq!(
            enc(Publish { pid: 0, ..base }),
            Err(EncodeError::ZeroPacketId)
        );
        assert_eq!(
            enc(Publish { topic: "", ..base }),
            Err(EncodeError::InvalidTopic(TopicError::Empty))
        );
        assert_eq!(
            enc(Publish {
                topic: "a/#",
                ..base
            }),
            Err(EncodeError::InvalidTopic(TopicError::Wildcard))
        );
        assert_eq!(
            enc(Publish {
                topic: "a\0",
                ..base
            }),
            Err(EncodeError::InvalidTopic(TopicError::NulChar))
        );
        assert_eq!(
            enc(Publish {
                qos: QoS::AtMostOnce,
                dup: true,
                pid: 0,
                ..base
            }),
            Err(EncodeError::DupWithQos0)
        );
        // QoS 0: the pid is not on the wire, whatever it holds.
        assert_eq!(
            enc(Publish {
                qos: QoS::AtMostOnce,
                pid: 9,
                ..base
            }),
            Ok(5)
        );
        assert_eq!(
            Publish {
                topic: "a+",
                ..base
            }
            .encode_header(&mut [0; 64]),
            Err(EncodeError::InvalidTopic(TopicError::Wildcard))
        );
    }
}

#[cfg(all(test, feature = "mqtt5"))]
mod tests_v5 {
    use crate::wire::v5::tests::{check5, parse5_err};
    use crate::wire::v5::{self, Packet};
    use crate::wire::*;

    fn publish<'a>(topic: &'a str, qos: QoS, pid: u16, payload: &'a [u8]) -> Publish<'a> {
        Publish {
            topic,
            qos,
            retain: false,
            dup: false,
            pid,
            payload,
        }
    }

    #[test]
    fn publish_v5() {
        #[rustfmt::skip]
        let fixture = [
            0x32, 0x1C, // PUBLISH QoS 1, remaining length 28
            0x00, 0x03, b'a', b'/', b'b', // topic "a/b"
            0x00, 0x0A, // packet id 10
            0x12, // properties: 18 bytes
            0x01, 0x01, // payload format: UTF-8
            0x02, 0x00, 0x00, 0x00, 0x3C, // message expiry 60 s
            0x0B, 0x05, // subscription identifier 5
            0x0B, 0x07, // subscription identifier 7 (repeatable in PUBLISH)
            0x26, 0x00, 0x01, b'k', 0x00, 0x01, b'v', // user property k = v
            b'h', b'i', // payload
        ];
        let props = [
            Property::PayloadFormatIndicator(1),
            Property::MessageExpiryInterval(60),
            Property::SubscriptionIdentifier(5),
            Property::SubscriptionIdentifier(7),
            Property::UserProperty(("k", "v")),
        ];
        check5(
            &fixture,
            Packet::Publish(v5::Publish {
                publish: publish("a/b", QoS::AtLeastOnce, 10, b"hi"),
                props: Properties::from_list(&props),
            }),
        );
        #[rustfmt::skip]
        let aliased = [
            0x30, 0x07, // PUBLISH QoS 0, remaining length 7
            0x00, 0x00, // topic "" (the alias stands for it)
            0x03, // properties: 3 bytes
            0x23, 0x00, 0x02, // topic alias 2
            b'x', // payload
        ];
        let alias = [Property::TopicAlias(2)];
        check5(
            &aliased,
            Packet::Publish(v5::Publish {
                publish: publish("", QoS::AtMostOnce, 0, b"x"),
                props: Properties::from_list(&alias),
            }),
        );
        // No properties: one zero byte more than 3.1.1.
        check5(
            &[0x30, 0x04, 0x00, 0x01, b't', 0x00], // PUBLISH "t", no properties
            Packet::Publish(v5::Publish {
                publish: publish("t", QoS::AtMostOnce, 0, b""),
                props: Properties::EMPTY,
            }),
        );
    }

    #[test]
    fn publish_v5_head_in_pieces() {
        #[rustfmt::skip]
        let fixture = [
            0x34, 0x0D, // PUBLISH QoS 2, remaining length 13
            0x00, 0x01, b't', // topic "t"
            0x00, 0x09, // packet id 9
            0x03, // properties: 3 bytes
            0x23, 0x00, 0x04, // topic alias 4
            b'a', b'b', b'c', b'd', // payload
        ];
        let header = parse_fixed_header_for(&fixture, Version::V5)
            .unwrap()
            .unwrap();
        let body = &fixture[2..];
        for i in 0..9 {
            assert_eq!(
                v5::Publish::parse_head(&header, &body[..i]),
                Ok(None),
                "{i}"
            );
        }
        let alias = [Property::TopicAlias(4)];
        let want = v5::Publish {
            publish: publish("t", QoS::ExactlyOnce, 9, b""),
            props: Properties::from_list(&alias),
        };
        for i in 9..=body.len() {
            assert_eq!(
                v5::Publish::parse_head(&header, &body[..i]),
                Ok(Some((want, 9)))
            );
        }
        // A property length past the remaining length is known early ...
        let mut bad = fixture;
        bad[7] = 0x0A;
        assert_eq!(
            v5::Publish::parse_head(&header, &bad[2..9]),
            Err(DecodeError::BadLength(PacketType::Publish))
        );
        // ... and so is one that never ends.
        let short = FixedHeader {
            remaining_len: 6,
            ..header
        };
        let mut endless = fixture;
        endless[7] = 0x80;
        assert_eq!(
            v5::Publish::parse_head(&short, &endless[2..8]),
            Err(DecodeError::BadLength(PacketType::Publish))
        );
        assert_eq!(v5::Publish::parse_head(&header, &endless[2..8]), Ok(None));
    }

    #[test]
    fn publish_v5_invalid() {
        // An empty topic needs a topic alias.
        assert_eq!(
            parse5_err(&[0x30, 0x03, 0x00, 0x00, 0x00]),
            DecodeError::BadTopic
        );
        // Topic alias 0.
        assert_eq!(
            parse5_err(&[0x30, 0x06, 0x00, 0x00, 0x03, 0x23, 0x00, 0x00]),
            DecodeError::Property(PropertyError::BadValue(0x23))
        );
        // A wildcard even with an alias.
        assert_eq!(
            parse5_err(&[0x30, 0x07, 0x00, 0x01, b'#', 0x03, 0x23, 0x00, 0x01]),
            DecodeError::BadTopic
        );
        // The property length is missing.
        assert_eq!(
            parse5_err(&[0x32, 0x05, 0x00, 0x01, b't', 0x00, 0x01]),
            DecodeError::BadLength(PacketType::Publish)
        );
        // Session expiry is a CONNECT property.
        assert_eq!(
            parse5_err(&[0x30, 0x09, 0x00, 0x01, b't', 0x05, 0x11, 0, 0, 0, 1]),
            DecodeError::Property(PropertyError::NotAllowed(0x11))
        );
        let enc = |topic| {
            Packet::Publish(v5::Publish {
                publish: publish(topic, QoS::AtMostOnce, 0, b""),
                props: Properties::EMPTY,
            })
            .encode(&mut [0u8; 16])
        };
        assert_eq!(enc(""), Err(EncodeError::InvalidTopic(TopicError::Empty)));
        assert_eq!(enc("t"), Ok(6));
        let with_props = |props: &[Property<'_>]| {
            Packet::Publish(v5::Publish {
                publish: publish("t", QoS::AtMostOnce, 0, b""),
                props: Properties::from_list(props),
            })
            .encode(&mut [0u8; 32])
        };
        assert_eq!(
            with_props(&[Property::SessionExpiryInterval(1)]),
            Err(EncodeError::Property(PropertyError::NotAllowed(0x11)))
        );
        assert_eq!(
            with_props(&[Property::TopicAlias(0)]),
            Err(EncodeError::Property(PropertyError::BadValue(0x23)))
        );
        assert_eq!(
            with_props(&[Property::ContentType("a"), Property::ContentType("b")]),
            Err(EncodeError::Property(PropertyError::Repeated(0x03)))
        );
    }
}
