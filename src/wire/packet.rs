//! MQTT 3.1.1 control packets: validated representations that borrow the
//! received buffer, [`Packet::parse`] (framing plus checked parsing) and
//! [`Packet::encode`] into a caller-owned buffer.
//!
//! Once `parse` returns a packet, its fields are valid by construction: strings
//! are UTF-8 without U+0000, topic names and filters follow section 4.7, packet
//! identifiers that must be nonzero are, and SUBSCRIBE/UNSUBSCRIBE entry lists
//! (kept as the raw encoded bytes) iterate without any further error.

use super::codec::{Reader, Writer};
use super::header::check_flags;
use super::{
    parse_fixed_header, remaining_len_size, validate_topic_filter, validate_topic_name,
    DecodeError, EncodeError, FixedHeader, PacketType, QoS, TopicError, MAX_REMAINING_LEN,
};

/// CONNACK return code (section 3.2.2.3).
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

/// The last-will message of a CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Will<'a> {
    pub topic: &'a str,
    pub message: &'a [u8],
    pub qos: QoS,
    pub retain: bool,
}

/// CONNECT (protocol "MQTT", level 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connect<'a> {
    /// May be empty only with `clean_session` (enforced when encoding; a
    /// server decides itself, with `IdentifierRejected`, when decoding).
    pub client_id: &'a str,
    pub keepalive: u16,
    pub clean_session: bool,
    pub will: Option<Will<'a>>,
    pub username: Option<&'a str>,
    /// Requires `username` in MQTT 3.1.1.
    pub password: Option<&'a [u8]>,
}

/// CONNACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connack {
    pub session_present: bool,
    pub code: ConnectReturnCode,
}

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
    /// The topic, flags and packet id of a PUBLISH from the first bytes of
    /// its body (`body_start`, any prefix of it), for a payload passed
    /// through in pieces: the `Publish` with an empty payload and the length
    /// of its variable header.  `Ok(None)` while those bytes are not all in.
    ///
    /// # Errors
    /// As [`Packet::parse_body`] for the same bytes (flags, topic, packet
    /// id, a variable header longer than the remaining length).
    pub fn parse_head(
        header: &FixedHeader,
        body_start: &'a [u8],
    ) -> Result<Option<(Publish<'a>, usize)>, DecodeError> {
        check_flags(PacketType::Publish, header.flags)?;
        let qos = QoS::from_u8((header.flags >> 1) & 0b11).ok_or(DecodeError::BadQos)?;
        let (Some(&hi), Some(&lo)) = (body_start.first(), body_start.get(1)) else {
            return Ok(None);
        };
        let topic_len = usize::from(u16::from_be_bytes([hi, lo]));
        let pid_len = if qos == QoS::AtMostOnce { 0 } else { 2 };
        let head_len = 2 + topic_len + pid_len;
        if head_len > header.remaining_len {
            return Err(DecodeError::BadLength(PacketType::Publish));
        }
        let Some(head) = body_start.get(..head_len) else {
            return Ok(None);
        };
        let publish = parse_publish(header.flags, &mut Reader::new(head, PacketType::Publish))?;
        Ok(Some((publish, head_len)))
    }

    fn pid_len(&self) -> usize {
        if self.qos == QoS::AtMostOnce {
            0
        } else {
            2
        }
    }

    fn remaining_len(&self) -> Result<usize, EncodeError> {
        self.remaining_len_for(self.payload.len())
    }

    /// The remaining length with a payload of `payload_len` bytes.
    fn remaining_len_for(&self, payload_len: usize) -> Result<usize, EncodeError> {
        let len = field_len(self.topic.len())?
            .checked_add(self.pid_len())
            .and_then(|n| n.checked_add(payload_len))
            .ok_or(EncodeError::TooLong)?;
        check_remaining(len)
    }

    fn validate(&self) -> Result<(), EncodeError> {
        validate_topic_name(self.topic)?;
        if self.qos == QoS::AtMostOnce {
            if self.dup {
                return Err(EncodeError::DupWithQos0);
            }
        } else if self.pid == 0 {
            return Err(EncodeError::ZeroPacketId);
        }
        Ok(())
    }

    fn first_byte(&self) -> u8 {
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
        let rem = self.remaining_len_for(payload_len)?;
        Ok(1 + remaining_len_size(rem) + rem - payload_len)
    }

    /// Write only the fixed header and variable header (whose remaining
    /// length counts the payload); the caller writes the payload right after.
    /// Returns the bytes written, [`Self::header_len`].
    ///
    /// # Errors
    /// As [`Packet::encode`], with `needed` counting the header only.
    pub fn encode_header(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.encode_header_for(self.payload.len(), out)
    }

    /// [`Self::encode_header`] for a payload of `payload_len` bytes that the
    /// caller writes itself (`self.payload` is ignored).
    ///
    /// # Errors
    /// As [`Packet::encode`], with `needed` counting the header only.
    pub fn encode_header_for(
        &self,
        payload_len: usize,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        self.validate()?;
        let needed = self.header_len_for(payload_len)?;
        if out.len() < needed {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        let mut w = Writer::new(out);
        self.write_header(&mut w, payload_len)?;
        Ok(w.pos())
    }

    fn write_header(&self, w: &mut Writer<'_>, payload_len: usize) -> Result<(), EncodeError> {
        w.fixed_header(self.first_byte(), self.remaining_len_for(payload_len)?)?;
        w.binary(self.topic.as_bytes())?;
        if self.qos != QoS::AtMostOnce {
            w.u16(self.pid)?;
        }
        Ok(())
    }
}

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

#[derive(Debug, Clone)]
enum EntryIter<'a, T> {
    Encoded(Reader<'a>),
    List(core::slice::Iter<'a, T>),
}

impl<'a, T> EntryIter<'a, T> {
    /// Next entry; on malformed bytes (only possible for a hand-built
    /// `Encoded`) the iteration ends.
    fn next_with<U>(
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

/// SUBSCRIBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribe<'a> {
    pub pid: u16,
    pub topics: SubscribeTopics<'a>,
}

/// UNSUBSCRIBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribe<'a> {
    pub pid: u16,
    pub topics: UnsubscribeTopics<'a>,
}

/// SUBACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Suback<'a> {
    pub pid: u16,
    /// One per requested filter, each in {0, 1, 2, 0x80}.
    pub return_codes: &'a [u8],
}

/// Any MQTT 3.1.1 control packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    Connect(Connect<'a>),
    Connack(Connack),
    Publish(Publish<'a>),
    Puback(u16),
    Pubrec(u16),
    Pubrel(u16),
    Pubcomp(u16),
    Subscribe(Subscribe<'a>),
    Suback(Suback<'a>),
    Unsubscribe(Unsubscribe<'a>),
    Unsuback(u16),
    Pingreq,
    Pingresp,
    Disconnect,
}

const SUBACK_FAILURE: u8 = 0x80;

fn suback_code_ok(c: u8) -> bool {
    matches!(c, 0..=2 | SUBACK_FAILURE)
}

/// Topic validation failures while decoding: NUL is a string error.
fn topic_decode_error(e: TopicError) -> DecodeError {
    match e {
        TopicError::NulChar => DecodeError::BadUtf8,
        _ => DecodeError::BadTopic,
    }
}

/// Encoded size of a length-prefixed field.
fn field_len(len: usize) -> Result<usize, EncodeError> {
    if len > usize::from(u16::MAX) {
        Err(EncodeError::TooLong)
    } else {
        Ok(len + 2)
    }
}

fn check_remaining(len: usize) -> Result<usize, EncodeError> {
    if len > MAX_REMAINING_LEN {
        Err(EncodeError::TooLong)
    } else {
        Ok(len)
    }
}

/// Sum of `f` over `items`, failing with `TooLong` on any error or overflow.
fn sum_len<T>(
    mut items: impl Iterator<Item = T>,
    f: impl Fn(T) -> Result<usize, EncodeError>,
) -> Result<usize, EncodeError> {
    items.try_fold(0usize, |acc, item| {
        acc.checked_add(f(item)?).ok_or(EncodeError::TooLong)
    })
}

fn nonzero(pid: u16) -> Result<(), EncodeError> {
    if pid == 0 {
        Err(EncodeError::ZeroPacketId)
    } else {
        Ok(())
    }
}

fn no_nul(s: &str) -> Result<(), EncodeError> {
    if s.contains('\0') {
        Err(EncodeError::NulChar)
    } else {
        Ok(())
    }
}

impl<'a> Packet<'a> {
    /// Parse one complete packet from the start of `buf`.
    ///
    /// Returns `Ok(None)` if `buf` holds only a prefix of a packet (read more
    /// and call again), or `Ok(Some((packet, consumed)))`. Bytes after the
    /// packet are left alone.
    ///
    /// # Errors
    /// A [`DecodeError`] if the bytes cannot start a valid packet; the
    /// connection should then be closed.
    pub fn parse(buf: &'a [u8]) -> Result<Option<(Packet<'a>, usize)>, DecodeError> {
        let Some(header) = parse_fixed_header(buf)? else {
            return Ok(None);
        };
        let Some(body) = buf.get(header.header_len..header.packet_len()) else {
            return Ok(None);
        };
        Ok(Some((
            Self::parse_body(&header, body)?,
            header.packet_len(),
        )))
    }

    /// Parse a body whose fixed header is already known
    /// (`body.len() == header.remaining_len`).
    ///
    /// # Errors
    /// A [`DecodeError`] if the body is not valid for the header.
    pub fn parse_body(header: &FixedHeader, body: &'a [u8]) -> Result<Packet<'a>, DecodeError> {
        let ty = header.packet_type;
        if body.len() != header.remaining_len {
            return Err(DecodeError::BadLength(ty));
        }
        check_flags(ty, header.flags)?;
        let mut r = Reader::new(body, ty);
        let packet = match ty {
            PacketType::Connect => Packet::Connect(parse_connect(&mut r)?),
            PacketType::Connack => Packet::Connack(parse_connack(&mut r)?),
            PacketType::Publish => Packet::Publish(parse_publish(header.flags, &mut r)?),
            PacketType::Puback => Packet::Puback(r.pid()?),
            PacketType::Pubrec => Packet::Pubrec(r.pid()?),
            PacketType::Pubrel => Packet::Pubrel(r.pid()?),
            PacketType::Pubcomp => Packet::Pubcomp(r.pid()?),
            PacketType::Unsuback => Packet::Unsuback(r.pid()?),
            PacketType::Subscribe => Packet::Subscribe(parse_subscribe(&mut r)?),
            PacketType::Suback => Packet::Suback(parse_suback(&mut r)?),
            PacketType::Unsubscribe => Packet::Unsubscribe(parse_unsubscribe(&mut r)?),
            PacketType::Pingreq => Packet::Pingreq,
            PacketType::Pingresp => Packet::Pingresp,
            PacketType::Disconnect => Packet::Disconnect,
        };
        if !r.is_empty() {
            return Err(DecodeError::BadLength(ty));
        }
        Ok(packet)
    }

    /// The control packet type.
    pub fn packet_type(&self) -> PacketType {
        match self {
            Packet::Connect(_) => PacketType::Connect,
            Packet::Connack(_) => PacketType::Connack,
            Packet::Publish(_) => PacketType::Publish,
            Packet::Puback(_) => PacketType::Puback,
            Packet::Pubrec(_) => PacketType::Pubrec,
            Packet::Pubrel(_) => PacketType::Pubrel,
            Packet::Pubcomp(_) => PacketType::Pubcomp,
            Packet::Subscribe(_) => PacketType::Subscribe,
            Packet::Suback(_) => PacketType::Suback,
            Packet::Unsubscribe(_) => PacketType::Unsubscribe,
            Packet::Unsuback(_) => PacketType::Unsuback,
            Packet::Pingreq => PacketType::Pingreq,
            Packet::Pingresp => PacketType::Pingresp,
            Packet::Disconnect => PacketType::Disconnect,
        }
    }

    /// Total encoded size including the fixed header.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`] if a field or the whole packet is too long.
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        let rem = self.remaining_len()?;
        Ok(1 + remaining_len_size(rem) + rem)
    }

    /// Encode the whole packet into `out`; returns the bytes written.
    ///
    /// Validates topic names (PUBLISH, will) and filters (SUBSCRIBE,
    /// UNSUBSCRIBE), string lengths, and nonzero packet identifiers where the
    /// protocol requires them. Nothing is written on error.
    ///
    /// # Errors
    /// [`EncodeError::BufferTooSmall`] with the total size needed, or the
    /// validation failure.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.validate()?;
        let needed = self.encoded_len()?;
        if out.len() < needed {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        let mut w = Writer::new(out);
        if let Packet::Publish(p) = self {
            p.write_header(&mut w, p.payload.len())?;
            w.put(p.payload)?;
            return Ok(w.pos());
        }
        w.fixed_header(self.first_byte(), self.remaining_len()?)?;
        match self {
            Packet::Connect(c) => write_connect(c, &mut w)?,
            Packet::Connack(c) => {
                w.u8(u8::from(c.session_present))?;
                w.u8(c.code as u8)?;
            }
            Packet::Puback(pid)
            | Packet::Pubrec(pid)
            | Packet::Pubrel(pid)
            | Packet::Pubcomp(pid)
            | Packet::Unsuback(pid) => w.u16(*pid)?,
            Packet::Subscribe(s) => {
                w.u16(s.pid)?;
                for (filter, qos) in s.topics.iter() {
                    w.binary(filter.as_bytes())?;
                    w.u8(qos as u8)?;
                }
            }
            Packet::Unsubscribe(u) => {
                w.u16(u.pid)?;
                for filter in u.topics.iter() {
                    w.binary(filter.as_bytes())?;
                }
            }
            Packet::Suback(s) => {
                w.u16(s.pid)?;
                w.put(s.return_codes)?;
            }
            Packet::Publish(_) | Packet::Pingreq | Packet::Pingresp | Packet::Disconnect => {}
        }
        Ok(w.pos())
    }

    fn first_byte(&self) -> u8 {
        let flags = match self {
            Packet::Publish(p) => return p.first_byte(),
            Packet::Pubrel(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => 0b0010,
            _ => 0,
        };
        (self.packet_type() as u8) << 4 | flags
    }

    fn remaining_len(&self) -> Result<usize, EncodeError> {
        let len = match self {
            Packet::Connect(c) => connect_len(c)?,
            Packet::Connack(_)
            | Packet::Puback(_)
            | Packet::Pubrec(_)
            | Packet::Pubrel(_)
            | Packet::Pubcomp(_)
            | Packet::Unsuback(_) => 2,
            Packet::Publish(p) => return p.remaining_len(),
            Packet::Subscribe(s) => {
                sum_len(s.topics.iter(), |(f, _)| Ok(field_len(f.len())? + 1))?.saturating_add(2)
            }
            Packet::Unsubscribe(u) => {
                sum_len(u.topics.iter(), |f| field_len(f.len()))?.saturating_add(2)
            }
            Packet::Suback(s) => s.return_codes.len().saturating_add(2),
            Packet::Pingreq | Packet::Pingresp | Packet::Disconnect => 0,
        };
        check_remaining(len)
    }

    fn validate(&self) -> Result<(), EncodeError> {
        match self {
            Packet::Connect(c) => {
                no_nul(c.client_id)?;
                if c.client_id.is_empty() && !c.clean_session {
                    return Err(EncodeError::EmptyClientId);
                }
                if let Some(will) = &c.will {
                    validate_topic_name(will.topic)?;
                }
                if let Some(user) = c.username {
                    no_nul(user)?;
                } else if c.password.is_some() {
                    return Err(EncodeError::PasswordWithoutUser);
                }
                Ok(())
            }
            Packet::Connack(c) if c.session_present && c.code != ConnectReturnCode::Accepted => {
                Err(EncodeError::BadReturnCode(c.code as u8))
            }
            Packet::Publish(p) => p.validate(),
            Packet::Puback(pid)
            | Packet::Pubrec(pid)
            | Packet::Pubrel(pid)
            | Packet::Pubcomp(pid)
            | Packet::Unsuback(pid) => nonzero(*pid),
            Packet::Subscribe(s) => {
                nonzero(s.pid)?;
                if s.topics.iter().next().is_none() {
                    return Err(EncodeError::EmptyList);
                }
                s.topics
                    .iter()
                    .try_for_each(|(f, _)| validate_topic_filter(f).map_err(EncodeError::from))
            }
            Packet::Unsubscribe(u) => {
                nonzero(u.pid)?;
                if u.topics.iter().next().is_none() {
                    return Err(EncodeError::EmptyList);
                }
                u.topics
                    .iter()
                    .try_for_each(|f| validate_topic_filter(f).map_err(EncodeError::from))
            }
            Packet::Suback(s) => {
                nonzero(s.pid)?;
                if s.return_codes.is_empty() {
                    return Err(EncodeError::EmptyList);
                }
                match s.return_codes.iter().find(|&&c| !suback_code_ok(c)) {
                    Some(&c) => Err(EncodeError::BadReturnCode(c)),
                    None => Ok(()),
                }
            }
            Packet::Connack(_) | Packet::Pingreq | Packet::Pingresp | Packet::Disconnect => Ok(()),
        }
    }
}

const PROTOCOL_NAME: &[u8] = b"MQTT";
const PROTOCOL_LEVEL: u8 = 4;

mod connect_flags {
    pub const RESERVED: u8 = 0x01;
    pub const CLEAN_SESSION: u8 = 0x02;
    pub const WILL: u8 = 0x04;
    pub const WILL_QOS_SHIFT: u8 = 3;
    pub const WILL_RETAIN: u8 = 0x20;
    pub const PASSWORD: u8 = 0x40;
    pub const USERNAME: u8 = 0x80;
}

fn connect_len(c: &Connect<'_>) -> Result<usize, EncodeError> {
    // Protocol name, level, flags, keepalive.
    let mut len = field_len(PROTOCOL_NAME.len())? + 4 + field_len(c.client_id.len())?;
    if let Some(will) = &c.will {
        len += field_len(will.topic.len())? + field_len(will.message.len())?;
    }
    if let Some(user) = c.username {
        len += field_len(user.len())?;
    }
    if let Some(pass) = c.password {
        len += field_len(pass.len())?;
    }
    Ok(len)
}

fn write_connect(c: &Connect<'_>, w: &mut Writer<'_>) -> Result<(), EncodeError> {
    use connect_flags::*;
    let mut flags = 0;
    if c.clean_session {
        flags |= CLEAN_SESSION;
    }
    if let Some(will) = &c.will {
        flags |= WILL | (will.qos as u8) << WILL_QOS_SHIFT;
        if will.retain {
            flags |= WILL_RETAIN;
        }
    }
    if c.username.is_some() {
        flags |= USERNAME;
    }
    if c.password.is_some() {
        flags |= PASSWORD;
    }
    w.binary(PROTOCOL_NAME)?;
    w.u8(PROTOCOL_LEVEL)?;
    w.u8(flags)?;
    w.u16(c.keepalive)?;
    w.binary(c.client_id.as_bytes())?;
    if let Some(will) = &c.will {
        w.binary(will.topic.as_bytes())?;
        w.binary(will.message)?;
    }
    if let Some(user) = c.username {
        w.binary(user.as_bytes())?;
    }
    if let Some(pass) = c.password {
        w.binary(pass)?;
    }
    Ok(())
}

fn parse_connect<'a>(r: &mut Reader<'a>) -> Result<Connect<'a>, DecodeError> {
    use connect_flags::*;
    if r.binary()? != PROTOCOL_NAME || r.u8()? != PROTOCOL_LEVEL {
        return Err(DecodeError::BadConnect);
    }
    let flags = r.u8()?;
    let will_qos = QoS::from_u8((flags >> WILL_QOS_SHIFT) & 0b11).ok_or(DecodeError::BadConnect)?;
    let has_will = flags & WILL != 0;
    let will_retain = flags & WILL_RETAIN != 0;
    let has_user = flags & USERNAME != 0;
    let has_pass = flags & PASSWORD != 0;
    if flags & RESERVED != 0
        || (!has_will && (will_qos != QoS::AtMostOnce || will_retain))
        || (has_pass && !has_user)
    {
        return Err(DecodeError::BadConnect);
    }
    let keepalive = r.u16()?;
    let client_id = r.str()?;
    let will = if has_will {
        let topic = r.str()?;
        validate_topic_name(topic).map_err(topic_decode_error)?;
        Some(Will {
            topic,
            message: r.binary()?,
            qos: will_qos,
            retain: will_retain,
        })
    } else {
        None
    };
    let username = if has_user { Some(r.str()?) } else { None };
    let password = if has_pass { Some(r.binary()?) } else { None };
    Ok(Connect {
        client_id,
        keepalive,
        clean_session: flags & CLEAN_SESSION != 0,
        will,
        username,
        password,
    })
}

fn parse_connack(r: &mut Reader<'_>) -> Result<Connack, DecodeError> {
    let ack_flags = r.u8()?;
    let code = r.u8()?;
    if !r.is_empty() {
        return Err(DecodeError::BadLength(PacketType::Connack));
    }
    if ack_flags & !1 != 0 {
        return Err(DecodeError::BadConnackCode(ack_flags));
    }
    let session_present = ack_flags == 1;
    let code_value = code;
    let code = ConnectReturnCode::from_u8(code).ok_or(DecodeError::BadConnackCode(code))?;
    if session_present && code != ConnectReturnCode::Accepted {
        return Err(DecodeError::BadConnackCode(code_value));
    }
    Ok(Connack {
        session_present,
        code,
    })
}

#[inline(always)]
fn parse_publish<'a>(flags: u8, r: &mut Reader<'a>) -> Result<Publish<'a>, DecodeError> {
    let qos = QoS::from_u8((flags >> 1) & 0b11).ok_or(DecodeError::BadQos)?;
    let topic = r.str()?;
    validate_topic_name(topic).map_err(topic_decode_error)?;
    let pid = if qos == QoS::AtMostOnce { 0 } else { r.pid()? };
    let payload = r.bytes(r.rest().len())?;
    Ok(Publish {
        topic,
        qos,
        retain: flags & 0b0001 != 0,
        dup: flags & 0b1000 != 0,
        pid,
        payload,
    })
}

fn parse_subscribe<'a>(r: &mut Reader<'a>) -> Result<Subscribe<'a>, DecodeError> {
    let pid = r.pid()?;
    let entries = r.rest();
    if entries.is_empty() {
        return Err(DecodeError::EmptyPayload(PacketType::Subscribe));
    }
    while !r.is_empty() {
        validate_topic_filter(r.str()?).map_err(topic_decode_error)?;
        QoS::from_u8(r.u8()?).ok_or(DecodeError::BadQos)?;
    }
    Ok(Subscribe {
        pid,
        topics: SubscribeTopics::Encoded(entries),
    })
}

fn parse_unsubscribe<'a>(r: &mut Reader<'a>) -> Result<Unsubscribe<'a>, DecodeError> {
    let pid = r.pid()?;
    let entries = r.rest();
    if entries.is_empty() {
        return Err(DecodeError::EmptyPayload(PacketType::Unsubscribe));
    }
    while !r.is_empty() {
        validate_topic_filter(r.str()?).map_err(topic_decode_error)?;
    }
    Ok(Unsubscribe {
        pid,
        topics: UnsubscribeTopics::Encoded(entries),
    })
}

fn parse_suback<'a>(r: &mut Reader<'a>) -> Result<Suback<'a>, DecodeError> {
    let pid = r.pid()?;
    let return_codes = r.bytes(r.rest().len())?;
    if return_codes.is_empty() {
        return Err(DecodeError::EmptyPayload(PacketType::Suback));
    }
    if let Some(&c) = return_codes.iter().find(|&&c| !suback_code_ok(c)) {
        return Err(DecodeError::BadSubackCode(c));
    }
    Ok(Suback { pid, return_codes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    /// Encode `packet`, compare with `fixture`, parse `fixture` back, and check
    /// that every strict prefix of it asks for more bytes.
    fn check(fixture: &[u8], packet: Packet<'_>) {
        let mut out = [0u8; 256];
        let n = packet.encode(&mut out).unwrap();
        assert_eq!(&out[..n], fixture, "encode {packet:?}");
        assert_eq!(packet.encoded_len(), Ok(fixture.len()));
        assert_eq!(Packet::parse(fixture), Ok(Some((packet, fixture.len()))));
        for i in 0..fixture.len() {
            assert_eq!(
                Packet::parse(&fixture[..i]),
                Ok(None),
                "prefix {i} of {packet:?}"
            );
        }
        // Trailing bytes belong to the next packet.
        let mut two = fixture.to_vec();
        two.extend_from_slice(fixture);
        assert_eq!(Packet::parse(&two), Ok(Some((packet, fixture.len()))));
        assert_eq!(
            packet.encode(&mut out[..fixture.len() - 1]),
            Err(EncodeError::BufferTooSmall {
                needed: fixture.len()
            })
        );
        assert_eq!(packet.packet_type() as u8, fixture[0] >> 4);
    }

    fn parse_err(bytes: &[u8]) -> DecodeError {
        Packet::parse(bytes).unwrap_err()
    }

    #[test]
    fn connect_minimal() {
        #[rustfmt::skip]
        let fixture = [
            0x10, // CONNECT
            13,   // remaining length
            0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
            0x04, // protocol level 4 (3.1.1)
            0x02, // flags: clean session
            0x00, 0x3C, // keepalive = 60 s
            0x00, 0x01, b'c', // client id "c"
        ];
        check(
            &fixture,
            Packet::Connect(Connect {
                client_id: "c",
                keepalive: 60,
                clean_session: true,
                will: None,
                username: None,
                password: None,
            }),
        );
    }

    #[test]
    fn connect_full() {
        #[rustfmt::skip]
        let fixture = [
            0x10, // CONNECT
            29,   // remaining length
            0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
            0x04, // protocol level 4
            0xEC, // flags: user, password, will retain, will QoS 1, will; no clean session
            0x00, 0x0A, // keepalive = 10 s
            0x00, 0x03, b'c', b'i', b'd', // client id "cid"
            0x00, 0x01, b'w', // will topic "w"
            0x00, 0x03, b'b', b'y', b'e', // will message "bye"
            0x00, 0x01, b'u', // user name "u"
            0x00, 0x01, b'p', // password "p"
        ];
        check(
            &fixture,
            Packet::Connect(Connect {
                client_id: "cid",
                keepalive: 10,
                clean_session: false,
                will: Some(Will {
                    topic: "w",
                    message: b"bye",
                    qos: QoS::AtLeastOnce,
                    retain: true,
                }),
                username: Some("u"),
                password: Some(b"p"),
            }),
        );
    }

    #[test]
    fn connect_empty_client_id() {
        #[rustfmt::skip]
        let fixture = [
            0x10, 12, // CONNECT, remaining length 12
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04, // "MQTT" level 4
            0x82, // flags: user name, clean session
            0x00, 0x00, // keepalive = 0 (off)
            0x00, 0x00, // client id "" (server assigns)
        ];
        // Truncated: the user name flag is set but the field is missing.
        assert_eq!(
            parse_err(&fixture),
            DecodeError::BadLength(PacketType::Connect)
        );
        let mut fixture = fixture.to_vec();
        fixture[1] = 14;
        fixture.extend_from_slice(&[0x00, 0x00]); // user name ""
        check(
            &fixture,
            Packet::Connect(Connect {
                client_id: "",
                keepalive: 0,
                clean_session: true,
                will: None,
                username: Some(""),
                password: None,
            }),
        );
    }

    #[test]
    fn connect_invalid() {
        #[rustfmt::skip]
        let good = [
            0x10, 13, // CONNECT
            0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
            0x04, // level
            0x02, // flags: clean session
            0x00, 0x3C, // keepalive
            0x00, 0x01, b'c', // client id
        ];
        let with = |i: usize, b: u8| {
            let mut v = good.to_vec();
            v[i] = b;
            v
        };
        assert_eq!(parse_err(&with(5, b'I')), DecodeError::BadConnect); // "MQIT"
        assert_eq!(parse_err(&with(8, 3)), DecodeError::BadConnect); // level 3
        assert_eq!(parse_err(&with(9, 0x03)), DecodeError::BadConnect); // reserved bit
        assert_eq!(parse_err(&with(9, 0x0A)), DecodeError::BadConnect); // will QoS without will
        assert_eq!(parse_err(&with(9, 0x22)), DecodeError::BadConnect); // will retain without will
        assert_eq!(parse_err(&with(9, 0x42)), DecodeError::BadConnect); // password without user
        assert_eq!(parse_err(&with(9, 0x1E)), DecodeError::BadConnect); // will QoS 3
        assert_eq!(parse_err(&with(14, 0)), DecodeError::BadUtf8); // client id "\0"
        let mut trailing = with(1, 14);
        trailing.push(0x00);
        assert_eq!(
            parse_err(&trailing),
            DecodeError::BadLength(PacketType::Connect)
        );

        #[rustfmt::skip]
        let bad_will = [
            0x10, 18, // CONNECT
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x04,
            0x06, // flags: will QoS 0, will, clean session
            0x00, 0x00, // keepalive
            0x00, 0x01, b'c', // client id
            0x00, 0x01, b'#', // will topic "#": wildcard
            0x00, 0x00, // will message ""
        ];
        assert_eq!(parse_err(&bad_will), DecodeError::BadTopic);
    }

    #[test]
    fn connect_encode_errors() {
        let base = Connect {
            client_id: "c",
            keepalive: 0,
            clean_session: true,
            will: None,
            username: None,
            password: None,
        };
        let enc = |c: Connect<'_>| Packet::Connect(c).encode(&mut [0u8; 128]);
        assert_eq!(
            enc(Connect {
                password: Some(b"p"),
                ..base
            }),
            Err(EncodeError::PasswordWithoutUser)
        );
        assert_eq!(
            enc(Connect {
                client_id: "",
                clean_session: false,
                ..base
            }),
            Err(EncodeError::EmptyClientId)
        );
        assert_eq!(
            enc(Connect {
                client_id: "a\0",
                ..base
            }),
            Err(EncodeError::NulChar)
        );
        assert_eq!(
            enc(Connect {
                username: Some("\0"),
                ..base
            }),
            Err(EncodeError::NulChar)
        );
        let will = Will {
            topic: "a/+",
            message: b"",
            qos: QoS::AtMostOnce,
            retain: false,
        };
        assert_eq!(
            enc(Connect {
                will: Some(will),
                ..base
            }),
            Err(EncodeError::InvalidTopic(TopicError::Wildcard))
        );
        let long = "x".repeat(65_536);
        let p = Packet::Connect(Connect {
            client_id: &long,
            ..base
        });
        assert_eq!(p.encoded_len(), Err(EncodeError::TooLong));
        assert_eq!(p.encode(&mut [0u8; 8]), Err(EncodeError::TooLong));
        let p = Packet::Connect(Connect {
            client_id: &long[1..],
            ..base
        });
        assert_eq!(p.encoded_len(), Ok(1 + 3 + 10 + 2 + 65_535));
    }

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

    #[test]
    fn acks() {
        #[rustfmt::skip]
        let cases: [(&[u8], Packet<'_>); 5] = [
            (&[0x40, 0x02, 0x00, 0x0A], Packet::Puback(10)),     // PUBACK, packet id = 10
            (&[0x50, 0x02, 0x00, 0x0B], Packet::Pubrec(11)),     // PUBREC, packet id = 11
            (&[0x62, 0x02, 0x01, 0x00], Packet::Pubrel(256)),    // PUBREL (flags 0b0010), packet id = 256
            (&[0x70, 0x02, 0xFF, 0xFF], Packet::Pubcomp(65535)), // PUBCOMP, packet id = 65535
            (&[0xB0, 0x02, 0x00, 0x02], Packet::Unsuback(2)),    // UNSUBACK, packet id = 2
        ];
        for (fixture, packet) in cases {
            check(fixture, packet);
            let ty = packet.packet_type();
            let first = fixture[0];
            assert_eq!(
                parse_err(&[first, 0x02, 0x00, 0x00]),
                DecodeError::ZeroPacketId
            );
            assert_eq!(parse_err(&[first, 0x01, 0x01]), DecodeError::BadLength(ty));
            assert_eq!(
                parse_err(&[first, 0x03, 0x00, 0x01, 0x00]),
                DecodeError::BadLength(ty)
            );
            assert_eq!(parse_err(&[first, 0x00]), DecodeError::BadLength(ty));
        }
        for p in [
            Packet::Puback(0),
            Packet::Pubrec(0),
            Packet::Pubrel(0),
            Packet::Pubcomp(0),
            Packet::Unsuback(0),
        ] {
            assert_eq!(p.encode(&mut [0u8; 4]), Err(EncodeError::ZeroPacketId));
        }
    }

    #[test]
    fn empty_packets() {
        check(&[0xC0, 0x00], Packet::Pingreq); // PINGREQ
        check(&[0xD0, 0x00], Packet::Pingresp); // PINGRESP
        check(&[0xE0, 0x00], Packet::Disconnect); // DISCONNECT
        for (first, ty) in [
            (0xC0, PacketType::Pingreq),
            (0xD0, PacketType::Pingresp),
            (0xE0, PacketType::Disconnect),
        ] {
            assert_eq!(parse_err(&[first, 0x01, 0x00]), DecodeError::BadLength(ty));
        }
    }

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

    #[test]
    fn parse_body_checks_length_and_flags() {
        let header = parse_fixed_header(&[0x40, 0x02]).unwrap().unwrap();
        assert_eq!(
            Packet::parse_body(&header, &[0x00, 0x05]),
            Ok(Packet::Puback(5))
        );
        assert_eq!(
            Packet::parse_body(&header, &[0x00]),
            Err(DecodeError::BadLength(PacketType::Puback))
        );
        let forged = FixedHeader {
            flags: 0x02,
            ..header
        };
        assert_eq!(
            Packet::parse_body(&forged, &[0x00, 0x05]),
            Err(DecodeError::ReservedFlags(PacketType::Puback))
        );
    }

    #[test]
    fn every_short_input_is_handled() {
        // All 1- and 2-byte inputs: never a panic, and Ok(Some) only for the
        // zero-length packets.
        for a in 0..=255u8 {
            let _ = Packet::parse(&[a]);
            for b in 0..=255u8 {
                if let Ok(Some((p, n))) = Packet::parse(&[a, b]) {
                    assert_eq!(n, 2);
                    assert!(matches!(
                        p,
                        Packet::Pingreq | Packet::Pingresp | Packet::Disconnect
                    ));
                }
            }
        }
    }

    mod props {
        use super::*;
        use proptest::collection::vec as pvec;
        use proptest::prelude::*;

        /// An owned packet description that proptest can generate.
        #[derive(Debug, Clone)]
        enum Owned {
            Connect {
                client_id: String,
                keepalive: u16,
                clean: bool,
                will: Option<(String, Vec<u8>, QoS, bool)>,
                username: Option<String>,
                password: Option<Vec<u8>>,
            },
            Connack(bool, u8),
            Publish {
                topic: String,
                qos: QoS,
                retain: bool,
                dup: bool,
                pid: u16,
                payload: Vec<u8>,
            },
            Ack(u8, u16),
            Subscribe(u16, Vec<(String, QoS)>),
            Suback(u16, Vec<u8>),
            Unsubscribe(u16, Vec<String>),
            Empty(u8),
        }

        fn qos() -> impl Strategy<Value = QoS> {
            prop_oneof![
                Just(QoS::AtMostOnce),
                Just(QoS::AtLeastOnce),
                Just(QoS::ExactlyOnce)
            ]
        }

        fn text(
            chars: &'static [char],
            len: core::ops::Range<usize>,
        ) -> impl Strategy<Value = String> {
            pvec(proptest::sample::select(chars), len).prop_map(|v| v.into_iter().collect())
        }

        fn topic_name() -> impl Strategy<Value = String> {
            text(&['a', 'b', '/', '$', ' ', 'é', '😀'], 1..12)
        }

        fn topic_filter() -> impl Strategy<Value = String> {
            let level = proptest::sample::select(&["a", "b", "", "+", "$x", "é"][..]);
            (pvec(level, 1..5), any::<bool>()).prop_map(|(levels, hash)| {
                let mut s = levels.join("/");
                if hash {
                    s.push_str("/#");
                } else if s.is_empty() {
                    s.push('#');
                }
                s
            })
        }

        fn pid() -> impl Strategy<Value = u16> {
            1..=u16::MAX
        }

        fn owned() -> impl Strategy<Value = Owned> {
            let will =
                proptest::option::of((topic_name(), pvec(any::<u8>(), 0..8), qos(), any::<bool>()));
            let connect = (
                text(&['a', 'Z', '0', '-', 'é'], 0..8),
                any::<u16>(),
                any::<bool>(),
                will,
                proptest::option::of(text(&['u', 's', 'é'], 0..6)),
                proptest::option::of(pvec(any::<u8>(), 0..6)),
            )
                .prop_map(|(client_id, keepalive, clean, will, username, password)| {
                    Owned::Connect {
                        clean: clean || client_id.is_empty(),
                        password: password.filter(|_| username.is_some()),
                        client_id,
                        keepalive,
                        will,
                        username,
                    }
                });
            let publish = (
                topic_name(),
                qos(),
                any::<bool>(),
                any::<bool>(),
                pid(),
                pvec(any::<u8>(), 0..300),
            )
                .prop_map(|(topic, qos, retain, dup, pid, payload)| {
                    let qos0 = qos == QoS::AtMostOnce;
                    Owned::Publish {
                        topic,
                        qos,
                        retain,
                        dup: dup && !qos0,
                        pid: if qos0 { 0 } else { pid },
                        payload,
                    }
                });
            prop_oneof![
                connect,
                (any::<bool>(), 0..=5u8)
                    .prop_map(|(sp, code)| Owned::Connack(sp && code == 0, code)),
                publish,
                (
                    prop_oneof![Just(4u8), Just(5), Just(6), Just(7), Just(11)],
                    pid()
                )
                    .prop_map(|(t, p)| Owned::Ack(t, p)),
                (pid(), pvec((topic_filter(), qos()), 1..5))
                    .prop_map(|(p, v)| Owned::Subscribe(p, v)),
                (
                    pid(),
                    pvec(proptest::sample::select(&[0u8, 1, 2, 0x80][..]), 1..5)
                )
                    .prop_map(|(p, v)| Owned::Suback(p, v)),
                (pid(), pvec(topic_filter(), 1..5)).prop_map(|(p, v)| Owned::Unsubscribe(p, v)),
                prop_oneof![Just(12u8), Just(13), Just(14)].prop_map(Owned::Empty),
            ]
        }

        fn build<'a>(
            o: &'a Owned,
            subs: &'a [(&'a str, QoS)],
            unsubs: &'a [&'a str],
        ) -> Packet<'a> {
            match o {
                Owned::Connect {
                    client_id,
                    keepalive,
                    clean,
                    will,
                    username,
                    password,
                } => Packet::Connect(Connect {
                    client_id,
                    keepalive: *keepalive,
                    clean_session: *clean,
                    will: will.as_ref().map(|(topic, message, qos, retain)| Will {
                        topic,
                        message,
                        qos: *qos,
                        retain: *retain,
                    }),
                    username: username.as_deref(),
                    password: password.as_deref(),
                }),
                Owned::Connack(sp, code) => Packet::Connack(Connack {
                    session_present: *sp,
                    code: ConnectReturnCode::from_u8(*code).unwrap(),
                }),
                Owned::Publish {
                    topic,
                    qos,
                    retain,
                    dup,
                    pid,
                    payload,
                } => Packet::Publish(Publish {
                    topic,
                    qos: *qos,
                    retain: *retain,
                    dup: *dup,
                    pid: *pid,
                    payload,
                }),
                Owned::Ack(t, pid) => match t {
                    4 => Packet::Puback(*pid),
                    5 => Packet::Pubrec(*pid),
                    6 => Packet::Pubrel(*pid),
                    7 => Packet::Pubcomp(*pid),
                    _ => Packet::Unsuback(*pid),
                },
                Owned::Subscribe(pid, _) => Packet::Subscribe(Subscribe {
                    pid: *pid,
                    topics: SubscribeTopics::List(subs),
                }),
                Owned::Suback(pid, codes) => Packet::Suback(Suback {
                    pid: *pid,
                    return_codes: codes,
                }),
                Owned::Unsubscribe(pid, _) => Packet::Unsubscribe(Unsubscribe {
                    pid: *pid,
                    topics: UnsubscribeTopics::List(unsubs),
                }),
                Owned::Empty(12) => Packet::Pingreq,
                Owned::Empty(13) => Packet::Pingresp,
                Owned::Empty(_) => Packet::Disconnect,
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn encode_parse_round_trip(o in owned(), split in any::<proptest::sample::Index>()) {
                let subs: Vec<(&str, QoS)> = match &o {
                    Owned::Subscribe(_, v) => v.iter().map(|(s, q)| (s.as_str(), *q)).collect(),
                    _ => Vec::new(),
                };
                let unsubs: Vec<&str> = match &o {
                    Owned::Unsubscribe(_, v) => v.iter().map(String::as_str).collect(),
                    _ => Vec::new(),
                };
                let packet = build(&o, &subs, &unsubs);
                let mut out = [0u8; 1024];
                let n = packet.encode(&mut out).unwrap();
                prop_assert_eq!(packet.encoded_len(), Ok(n));
                prop_assert_eq!(Packet::parse(&out[..n]), Ok(Some((packet, n))));
                let cut = split.index(n);
                prop_assert_eq!(Packet::parse(&out[..cut]), Ok(None));
                if let Packet::Publish(p) = packet {
                    let h = p.encode_header(&mut [0u8; 64]).unwrap();
                    prop_assert_eq!(h + p.payload.len(), n);
                }
            }

            #[test]
            fn parse_arbitrary_bytes(bytes in pvec(any::<u8>(), 0..300)) {
                check_arbitrary(&bytes)?;
            }

            #[test]
            fn parse_framed_arbitrary_body(first in any::<u8>(), body in pvec(any::<u8>(), 0..120)) {
                // A consistent length byte gets past framing into the body parsers.
                let mut bytes = vec![first, u8::try_from(body.len()).unwrap()];
                bytes.extend_from_slice(&body);
                check_arbitrary(&bytes)?;
            }
        }

        /// Parsing never panics; whatever parses re-encodes to an equal packet.
        fn check_arbitrary(bytes: &[u8]) -> Result<(), TestCaseError> {
            if let Ok(Some((packet, n))) = Packet::parse(bytes) {
                prop_assert!(n <= bytes.len());
                let mut out = [0u8; 512];
                match packet.encode(&mut out) {
                    // Decoding leaves that choice to the server.
                    Err(EncodeError::EmptyClientId) => {}
                    Ok(m) => prop_assert_eq!(Packet::parse(&out[..m]), Ok(Some((packet, m)))),
                    Err(e) => prop_assert!(false, "{packet:?} parsed but does not encode: {e:?}"),
                }
            }
            Ok(())
        }
    }
}
