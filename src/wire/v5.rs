//! MQTT 5.0 packets: [`Packet`], the representation of every v5 control
//! packet including AUTH, with properties and typed reason codes,
//! [`Packet::parse`] and [`Packet::encode`].  The fields 3.1.1 also has are
//! the 3.1.1 types ([`wire::Connect`](super::Connect),
//! [`wire::Publish`](super::Publish), ...) and the bytes are read and
//! written by the same family codecs, with [`Version::V5`].
//!
//! The representation also holds 3.1.1 packets: [`Packet::parse_for`] and
//! [`Packet::encode_for`] take the [`Version`], and with
//! [`Version::V311`] read and write exactly the bytes
//! [`super::Packet`] does (no properties, Success, and
//! [`EncodeError::NotInVersion`] for what 3.1.1 cannot say), so a session
//! can handle both versions with one type.
//!
//! As for 3.1.1, once `parse` returns a packet everything in it is valid:
//! properties are allowed in that packet, not repeated where they must not
//! be and in range, reason codes are defined for the packet, subscription
//! options have no reserved bits set.  Iterating cannot fail.

use super::codec::{check_remaining, Reader, Writer};
use super::connect::ConnectProps;
use super::header::check_flags;
use super::subscribe::EntryIter;
use super::{
    ack, connack, connect, disconnect, parse_fixed_header_for, publish, remaining_len_size,
    subscribe, unsubscribe, DecodeError, EncodeError, FixedHeader, PacketType, Properties,
    ReasonCode, UnsubscribeTopics, Version,
};

pub use super::subscribe::{RetainHandling, SubscriptionOptions};

const V: Version = Version::V5;

/// CONNECT: the 3.1.1 fields, the CONNECT properties and the will's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connect<'a> {
    /// `clean_session` is Clean Start; a password needs no user name.
    pub connect: super::Connect<'a>,
    pub props: Properties<'a>,
    /// Only with a will (encoding refuses them without one).
    pub will_props: Properties<'a>,
}

/// CONNACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connack<'a> {
    /// Only with [`ReasonCode::Success`].
    pub session_present: bool,
    pub reason: ReasonCode,
    pub props: Properties<'a>,
}

/// PUBLISH: the 3.1.1 fields and the properties.  The topic may be empty
/// when a Topic Alias property stands for it.  Subscription Identifiers
/// are accepted both ways here; that a client must not send one
/// (MQTT-3.3.4-6) is for the session to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Publish<'a> {
    pub publish: super::Publish<'a>,
    pub props: Properties<'a>,
}

impl<'a> Publish<'a> {
    /// The topic, flags, packet id and properties of a PUBLISH from the
    /// first bytes of its body (any prefix of it), for a payload passed
    /// through in pieces: the `Publish` with an empty payload and the
    /// length of its variable header, or `Ok(None)` while those bytes are
    /// not all in.
    ///
    /// # Errors
    /// As [`Packet::parse_body`] for the same bytes.
    pub fn parse_head(
        header: &FixedHeader,
        body_start: &'a [u8],
    ) -> Result<Option<(Publish<'a>, usize)>, DecodeError> {
        Self::parse_head_in(header, body_start, V)
    }

    /// [`Self::parse_head`] in protocol `v` (3.1.1: no properties, as
    /// [`super::Publish::parse_head`]).
    ///
    /// # Errors
    /// As [`Self::parse_head`].
    pub fn parse_head_in(
        header: &FixedHeader,
        body_start: &'a [u8],
        v: Version,
    ) -> Result<Option<(Publish<'a>, usize)>, DecodeError> {
        Ok(publish::parse_head(header, body_start, v)?
            .map(|(publish, props, n)| (Publish { publish, props }, n)))
    }

    /// Bytes before a payload of `payload_len` bytes (fixed header, topic,
    /// packet id, properties).
    ///
    /// # Errors
    /// [`EncodeError::TooLong`].
    pub fn header_len_for(&self, payload_len: usize) -> Result<usize, EncodeError> {
        self.header_len_in(payload_len, V)
    }

    /// [`Self::header_len_for`] in protocol `v` (3.1.1: no property
    /// length, as [`super::Publish::header_len_for`]).
    ///
    /// # Errors
    /// [`EncodeError::TooLong`].
    pub fn header_len_in(&self, payload_len: usize, v: Version) -> Result<usize, EncodeError> {
        publish::header_len_for(&self.publish, &self.props, v, payload_len)
    }

    /// Write only the headers, for a payload of `payload_len` bytes the
    /// caller writes right after; returns [`Self::header_len_for`].
    ///
    /// # Errors
    /// As [`Packet::encode`], with `needed` counting the header only.
    pub fn encode_header_for(
        &self,
        payload_len: usize,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        self.encode_header_in(payload_len, V, out)
    }

    /// [`Self::encode_header_for`] in protocol `v` (see
    /// [`Self::header_len_in`]).
    ///
    /// # Errors
    /// As [`Self::encode_header_for`]; [`EncodeError::NotInVersion`] for
    /// properties in 3.1.1.
    pub fn encode_header_in(
        &self,
        payload_len: usize,
        v: Version,
        out: &mut [u8],
    ) -> Result<usize, EncodeError> {
        if !v.is_v5() && !self.props.is_empty() {
            return Err(EncodeError::NotInVersion);
        }
        publish::encode_header_for(&self.publish, &self.props, v, payload_len, out)
    }
}

/// PUBACK, PUBREC, PUBREL or PUBCOMP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ack<'a> {
    pub pid: u16,
    pub reason: ReasonCode,
    pub props: Properties<'a>,
}

impl Ack<'_> {
    /// Success without properties: the 2-byte short form.
    pub const fn success(pid: u16) -> Self {
        Ack {
            pid,
            reason: ReasonCode::Success,
            props: Properties::EMPTY,
        }
    }
}

/// The entries of a SUBSCRIBE: raw validated bytes of a received packet, or
/// the caller's list.
#[derive(Debug, Clone, Copy)]
pub enum SubscribeTopics<'a> {
    Encoded(&'a [u8]),
    List(&'a [(&'a str, SubscriptionOptions)]),
}

impl<'a> SubscribeTopics<'a> {
    /// The `(filter, options)` entries in order.
    pub fn iter(&self) -> SubscribeIter<'a> {
        SubscribeIter(match *self {
            SubscribeTopics::Encoded(b) => {
                EntryIter::Encoded(Reader::new(b, PacketType::Subscribe))
            }
            SubscribeTopics::List(l) => EntryIter::List(l.iter()),
        })
    }

    fn bytes(&self) -> impl Iterator<Item = (&'a str, u8)> + Clone {
        self.iter().map(|(f, o)| (f, o.to_byte()))
    }
}

impl PartialEq for SubscribeTopics<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for SubscribeTopics<'_> {}

/// Iterator over v5 SUBSCRIBE entries.
#[derive(Debug, Clone)]
pub struct SubscribeIter<'a>(EntryIter<'a, (&'a str, SubscriptionOptions)>);

impl<'a> Iterator for SubscribeIter<'a> {
    type Item = (&'a str, SubscriptionOptions);

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next_with(
            |r| {
                let filter = r.str().ok()?;
                let options = SubscriptionOptions::from_byte(r.u8().ok()?).ok()?;
                Some((filter, options))
            },
            |&entry| entry,
        )
    }
}

/// SUBSCRIBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subscribe<'a> {
    pub pid: u16,
    pub props: Properties<'a>,
    pub topics: SubscribeTopics<'a>,
}

/// SUBACK or UNSUBACK: one reason code byte per filter, checked for the
/// packet; [`Self::reason_codes`] gives them typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SubAck<'a> {
    pub pid: u16,
    pub props: Properties<'a>,
    pub reasons: &'a [u8],
}

impl<'a> SubAck<'a> {
    /// The reason codes in filter order (a byte not defined at all, which
    /// only a caller's unchecked list can hold, is skipped).
    pub fn reason_codes(&self) -> impl Iterator<Item = ReasonCode> + 'a {
        self.reasons.iter().filter_map(|&c| ReasonCode::from_u8(c))
    }
}

/// UNSUBSCRIBE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unsubscribe<'a> {
    pub pid: u16,
    pub props: Properties<'a>,
    pub topics: UnsubscribeTopics<'a>,
}

/// DISCONNECT or AUTH: a reason code and properties.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReasonOnly<'a> {
    pub reason: ReasonCode,
    pub props: Properties<'a>,
}

/// Any MQTT 5 control packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Packet<'a> {
    Connect(Connect<'a>),
    Connack(Connack<'a>),
    Publish(Publish<'a>),
    Puback(Ack<'a>),
    Pubrec(Ack<'a>),
    Pubrel(Ack<'a>),
    Pubcomp(Ack<'a>),
    Subscribe(Subscribe<'a>),
    Suback(SubAck<'a>),
    Unsubscribe(Unsubscribe<'a>),
    Unsuback(SubAck<'a>),
    Pingreq,
    Pingresp,
    Disconnect(ReasonOnly<'a>),
    Auth(ReasonOnly<'a>),
}

impl<'a> Packet<'a> {
    /// Parse one complete MQTT 5 packet from the start of `buf`: `Ok(None)`
    /// for a prefix, or the packet and the bytes it took.
    ///
    /// # Errors
    /// A [`DecodeError`]; [`DecodeError::reason_code`] says which reason
    /// code the DISCONNECT that follows carries.
    pub fn parse(buf: &'a [u8]) -> Result<Option<(Packet<'a>, usize)>, DecodeError> {
        Self::parse_for(buf, V)
    }

    /// [`Self::parse`] for protocol `version`.  With [`Version::V311`] the
    /// bytes are read as MQTT 3.1.1 (exactly as [`super::Packet::parse`]
    /// reads them) into this representation: no properties, reason codes
    /// Success (a 3.1.1 SUBACK's 0x80 is Unspecified error, a CONNACK's
    /// return codes 1-5 the v5 codes of the same meaning), an UNSUBACK
    /// without reason codes.  One packet type for both versions.
    ///
    /// # Errors
    /// As [`Self::parse`].
    pub fn parse_for(
        buf: &'a [u8],
        version: Version,
    ) -> Result<Option<(Packet<'a>, usize)>, DecodeError> {
        let Some(header) = parse_fixed_header_for(buf, version)? else {
            return Ok(None);
        };
        let Some(body) = buf.get(header.header_len..header.packet_len()) else {
            return Ok(None);
        };
        Ok(Some((
            Self::parse_body_for(&header, body, version)?,
            header.packet_len(),
        )))
    }

    /// Parse an MQTT 5 body whose fixed header is known.
    ///
    /// # Errors
    /// A [`DecodeError`] if the body is not valid for the header.
    pub fn parse_body(header: &FixedHeader, body: &'a [u8]) -> Result<Packet<'a>, DecodeError> {
        Self::parse_body_for(header, body, V)
    }

    /// [`Self::parse_body`] for protocol `version` (see [`Self::parse_for`]).
    ///
    /// # Errors
    /// A [`DecodeError`] if the body is not valid for the header.
    pub fn parse_body_for(
        header: &FixedHeader,
        body: &'a [u8],
        v: Version,
    ) -> Result<Packet<'a>, DecodeError> {
        Self::parse_body_in(header, body, v, false)
    }

    /// [`parse_body_for`](Self::parse_body_for) for a client: what only a
    /// client sends (CONNECT, SUBSCRIBE, UNSUBSCRIBE) is not read but
    /// refused ([`DecodeError::UnknownPacketType`]), so that a client's
    /// firmware carries no parser of them.
    ///
    /// # Errors
    /// As [`parse_body_for`](Self::parse_body_for).
    pub fn parse_from_server(
        header: &FixedHeader,
        body: &'a [u8],
        v: Version,
    ) -> Result<Packet<'a>, DecodeError> {
        Self::parse_body_in(header, body, v, true)
    }

    #[inline(always)]
    fn parse_body_in(
        header: &FixedHeader,
        body: &'a [u8],
        v: Version,
        from_server: bool,
    ) -> Result<Packet<'a>, DecodeError> {
        let ty = header.packet_type;
        if body.len() != header.remaining_len {
            return Err(DecodeError::BadLength(ty));
        }
        check_flags(ty, header.flags)?;
        let mut r = Reader::new(body, ty);
        let r = &mut r;
        let v5 = v.is_v5();
        let ack = |r: &mut Reader<'a>| -> Result<Ack<'a>, DecodeError> {
            let (pid, reason, props) = ack::parse(r, ty, v)?;
            let reason = ReasonCode::parse(ty, reason)?;
            Ok(Ack { pid, reason, props })
        };
        let packet = match ty {
            // What only a client sends, read by a client (`from_server`).
            PacketType::Connect | PacketType::Subscribe | PacketType::Unsubscribe
                if from_server =>
            {
                return Err(DecodeError::UnknownPacketType(ty as u8))
            }
            PacketType::Connect => {
                let (connect, p) = connect::parse(r, v)?;
                Packet::Connect(Connect {
                    connect,
                    props: p.props,
                    will_props: p.will,
                })
            }
            PacketType::Connack if !v5 => {
                let c = connack::parse_v311(r)?;
                Packet::Connack(Connack {
                    session_present: c.session_present,
                    reason: connack::reason_of(c.code),
                    props: Properties::EMPTY,
                })
            }
            PacketType::Connack => {
                let (session_present, code, props) = connack::parse(r, v)?;
                Packet::Connack(Connack {
                    session_present,
                    reason: ReasonCode::parse(ty, code)?,
                    props,
                })
            }
            PacketType::Publish => {
                let (publish, props) = publish::parse(header.flags, r, v)?;
                Packet::Publish(Publish { publish, props })
            }
            PacketType::Puback => Packet::Puback(ack(r)?),
            PacketType::Pubrec => Packet::Pubrec(ack(r)?),
            PacketType::Pubrel => Packet::Pubrel(ack(r)?),
            PacketType::Pubcomp => Packet::Pubcomp(ack(r)?),
            PacketType::Subscribe => {
                let (pid, props, entries) = subscribe::parse(r, v)?;
                let topics = SubscribeTopics::Encoded(entries);
                Packet::Subscribe(Subscribe { pid, props, topics })
            }
            PacketType::Suback => {
                let (pid, props, reasons) = subscribe::parse_suback(r, v)?;
                Packet::Suback(SubAck {
                    pid,
                    props,
                    reasons,
                })
            }
            PacketType::Unsubscribe => {
                let (pid, props, entries) = unsubscribe::parse(r, v)?;
                let topics = UnsubscribeTopics::Encoded(entries);
                Packet::Unsubscribe(Unsubscribe { pid, props, topics })
            }
            PacketType::Unsuback if !v5 => Packet::Unsuback(SubAck {
                pid: r.pid()?,
                props: Properties::EMPTY,
                reasons: &[],
            }),
            PacketType::Unsuback => {
                let (pid, props, reasons) = unsubscribe::parse_unsuback(r)?;
                Packet::Unsuback(SubAck {
                    pid,
                    props,
                    reasons,
                })
            }
            PacketType::Pingreq => Packet::Pingreq,
            PacketType::Pingresp => Packet::Pingresp,
            // 3.1.1: an empty body (the check below).
            PacketType::Disconnect if !v5 => Packet::Disconnect(ReasonOnly::SUCCESS),
            PacketType::Disconnect => {
                let (reason, props) = disconnect::parse(r, ty)?;
                Packet::Disconnect(ReasonOnly { reason, props })
            }
            // A forged header: AUTH does not exist in 3.1.1.
            PacketType::Auth if !v5 => return Err(DecodeError::UnknownPacketType(15)),
            PacketType::Auth => {
                let (reason, props) = disconnect::parse(r, ty)?;
                Packet::Auth(ReasonOnly { reason, props })
            }
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
            Packet::Disconnect(_) => PacketType::Disconnect,
            Packet::Auth(_) => PacketType::Auth,
        }
    }

    /// Total encoded size in MQTT 5, including the fixed header.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`].
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        self.encoded_len_for(V)
    }

    /// [`Self::encoded_len`] in protocol `version`.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`].
    pub fn encoded_len_for(&self, version: Version) -> Result<usize, EncodeError> {
        self.encoded_len_in(version, false)
    }

    /// [`Self::encoded_len_for`] for a client's packet (see
    /// [`Self::encode_from_client`]).
    ///
    /// # Errors
    /// [`EncodeError::TooLong`]; [`EncodeError::ServerOnly`].
    pub fn encoded_len_from_client(&self, version: Version) -> Result<usize, EncodeError> {
        self.encoded_len_in(version, true)
    }

    #[inline(always)]
    fn encoded_len_in(&self, version: Version, client: bool) -> Result<usize, EncodeError> {
        let rem = self.remaining_len_in(version, client)?;
        Ok(1 + remaining_len_size(rem) + rem)
    }

    /// The remaining length: for a client's packet one copy of the code,
    /// shared by its encoder and its length.
    #[inline(always)]
    fn remaining_len_in(&self, v: Version, client: bool) -> Result<usize, EncodeError> {
        if client {
            self.client_remaining_len(v)
        } else {
            self.remaining_len(v, false)
        }
    }

    /// A client's packet measured by writing it with a counting writer
    /// (the PUBLISH by its own measure, which its header writer shares).
    #[inline(never)]
    fn client_remaining_len(&self, v: Version) -> Result<usize, EncodeError> {
        let len = match self {
            Packet::Publish(p) => {
                publish::remaining_len_for(&p.publish, &p.props, v, p.publish.payload.len())?
            }
            _ if self.is_server_only() => return Err(EncodeError::ServerOnly),
            _ => {
                let mut w = Writer::counter();
                self.write_body(&mut w, v, true)?;
                w.pos()
            }
        };
        check_remaining(len)
    }

    /// Encode the whole packet in MQTT 5 into `out`; returns the bytes
    /// written.  Checks what [`super::Packet::encode`] checks, and every
    /// property and reason code for the packet.  Acks, DISCONNECT and AUTH
    /// take their short forms when they say the same.  Nothing is written on
    /// error.
    ///
    /// # Errors
    /// [`EncodeError::BufferTooSmall`] with the total size needed, or the
    /// validation failure.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.encode_for(out, V)
    }

    /// [`Self::encode`] in protocol `version`.  In MQTT 3.1.1 the bytes are
    /// those [`super::Packet::encode`] writes; what 3.1.1 cannot say
    /// (properties, a reason other than Success or a CONNACK/SUBACK code it
    /// has, subscription options beyond the QoS, UNSUBACK reason codes,
    /// AUTH) is [`EncodeError::NotInVersion`].
    ///
    /// # Errors
    /// As [`Self::encode`].
    pub fn encode_for(&self, out: &mut [u8], v: Version) -> Result<usize, EncodeError> {
        self.encode_in(out, v, false)
    }

    /// [`encode_for`](Self::encode_for) for a client: what only a server
    /// sends (CONNACK, SUBACK, UNSUBACK, PINGRESP) is not written but
    /// refused ([`EncodeError::ServerOnly`]), so that a client's firmware
    /// carries no writer of them (as
    /// [`parse_from_server`](Self::parse_from_server) for reading).
    ///
    /// # Errors
    /// As [`encode_for`](Self::encode_for); [`EncodeError::ServerOnly`].
    pub fn encode_from_client(&self, out: &mut [u8], v: Version) -> Result<usize, EncodeError> {
        self.encode_in(out, v, true)
    }

    #[inline(always)]
    fn encode_in(&self, out: &mut [u8], v: Version, client: bool) -> Result<usize, EncodeError> {
        self.validate(v, client)?;
        let rem = self.remaining_len_in(v, client)?;
        let needed = 1 + remaining_len_size(rem) + rem;
        if out.len() < needed {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        let mut w = Writer::new(out);
        if let Packet::Publish(p) = self {
            publish::write_header(&p.publish, &p.props, v, &mut w, p.publish.payload.len())?;
            w.put(p.publish.payload)?;
            return Ok(w.pos());
        }
        let flags = match self {
            Packet::Pubrel(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => 0b0010,
            _ => 0,
        };
        w.fixed_header((self.packet_type() as u8) << 4 | flags, rem)?;
        if client {
            self.write_body(&mut w, v, true)?;
        } else {
            self.write_body_in(&mut w, v, false)?;
        }
        Ok(w.pos())
    }

    /// The variable header and payload of a client's packet other than
    /// PUBLISH: one copy, run by the encoder and, counting, by the length.
    #[inline(never)]
    fn write_body(&self, w: &mut Writer<'_>, v: Version, client: bool) -> Result<(), EncodeError> {
        self.write_body_in(w, v, client)
    }

    #[inline(always)]
    fn write_body_in(
        &self,
        w: &mut Writer<'_>,
        v: Version,
        client: bool,
    ) -> Result<(), EncodeError> {
        match self {
            // Refused by `validate`.
            Packet::Connack(_) | Packet::Suback(_) | Packet::Unsuback(_) | Packet::Pingresp
                if client => {}
            Packet::Connect(c) => connect::write(&c.connect, &connect_props(c), v, w)?,
            Packet::Connack(c) => {
                let code = if v.is_v5() {
                    c.reason as u8
                } else {
                    connack::return_code_of(c.reason)?
                };
                connack::write(w, c.session_present, code, &c.props, v)?;
            }
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                ack::write(w, a.pid, a.reason as u8, &a.props, v)?;
            }
            Packet::Subscribe(s) => subscribe::write(w, s.pid, &s.props, s.topics.bytes(), v)?,
            Packet::Suback(s) => subscribe::write_suback(w, s.pid, &s.props, s.reasons, v)?,
            Packet::Unsubscribe(u) => {
                unsubscribe::write(w, u.pid, &u.props, u.topics.iter(), v)?;
            }
            Packet::Unsuback(s) if !v.is_v5() => w.u16(s.pid)?,
            Packet::Unsuback(s) => unsubscribe::write_unsuback(w, s.pid, &s.props, s.reasons)?,
            Packet::Disconnect(_) if !v.is_v5() => {}
            Packet::Disconnect(d) | Packet::Auth(d) => disconnect::write(w, d.reason, &d.props)?,
            Packet::Publish(_) | Packet::Pingreq | Packet::Pingresp => {}
        }
        Ok(())
    }

    /// The remaining length; a server's packet refused with `client`.
    #[inline(always)]
    fn remaining_len(&self, v: Version, client: bool) -> Result<usize, EncodeError> {
        let len = match self {
            Packet::Connack(_) | Packet::Suback(_) | Packet::Unsuback(_) | Packet::Pingresp
                if client =>
            {
                return Err(EncodeError::ServerOnly)
            }
            Packet::Connect(c) => connect::len(&c.connect, &connect_props(c), v)?,
            Packet::Connack(c) => connack::len(&c.props, v)?,
            Packet::Publish(p) => {
                publish::remaining_len_for(&p.publish, &p.props, v, p.publish.payload.len())?
            }
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                ack::len(a.reason as u8, &a.props, v)?
            }
            Packet::Subscribe(s) => subscribe::len(&s.props, s.topics.bytes(), v)?,
            Packet::Suback(s) => subscribe::suback_len(&s.props, s.reasons, v)?,
            Packet::Unsubscribe(u) => unsubscribe::len(&u.props, u.topics.iter(), v)?,
            Packet::Unsuback(_) if !v.is_v5() => 2,
            Packet::Unsuback(s) => unsubscribe::unsuback_len(&s.props, s.reasons)?,
            Packet::Pingreq | Packet::Pingresp => 0,
            Packet::Disconnect(_) if !v.is_v5() => 0,
            Packet::Disconnect(d) | Packet::Auth(d) => disconnect::len(d.reason, &d.props)?,
        };
        check_remaining(len)
    }

    #[inline(always)]
    fn validate(&self, v: Version, client: bool) -> Result<(), EncodeError> {
        if client && self.is_server_only() {
            return Err(EncodeError::ServerOnly);
        }
        if !v.is_v5() {
            self.fits_v311(client)?;
        }
        let ty = self.packet_type();
        match self {
            Packet::Connack(_) | Packet::Suback(_) | Packet::Unsuback(_) | Packet::Pingresp
                if client =>
            {
                Err(EncodeError::ServerOnly)
            }
            Packet::Connect(c) => connect::validate(&c.connect, &connect_props(c), v),
            Packet::Connack(c) => {
                if !ReasonCode::allowed_in(ty, c.reason as u8) {
                    return Err(EncodeError::BadReturnCode(c.reason as u8));
                }
                connack::validate(c.session_present, c.reason as u8, &c.props, v)
            }
            Packet::Publish(p) => publish::validate(&p.publish, &p.props, v),
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                ack::validate(ty, a.pid, a.reason as u8, &a.props, v)
            }
            Packet::Subscribe(s) => subscribe::validate(s.pid, &s.props, s.topics.bytes(), v),
            Packet::Suback(s) => subscribe::validate_suback(s.pid, &s.props, s.reasons, v),
            Packet::Unsubscribe(u) => unsubscribe::validate(u.pid, &u.props, u.topics.iter(), v),
            Packet::Unsuback(s) if !v.is_v5() => super::codec::nonzero(s.pid),
            Packet::Unsuback(s) => unsubscribe::validate_unsuback(s.pid, &s.props, s.reasons),
            Packet::Pingreq | Packet::Pingresp => Ok(()),
            Packet::Disconnect(d) | Packet::Auth(d) => disconnect::validate(ty, d.reason, &d.props),
        }
    }

    /// What MQTT 3.1.1 cannot carry: any property, a reason other than
    /// Success (CONNACK and SUBACK: one without a 3.1.1 code), options
    /// beyond the QoS, UNSUBACK reason codes, AUTH.
    #[inline(always)]
    fn fits_v311(&self, client: bool) -> Result<(), EncodeError> {
        let empty = |p: &Properties<'_>| p.is_empty();
        let ok = match self {
            // Refused by `validate`.
            Packet::Connack(_) | Packet::Suback(_) | Packet::Unsuback(_) | Packet::Pingresp
                if client =>
            {
                false
            }
            Packet::Connect(c) => empty(&c.props) && empty(&c.will_props),
            Packet::Connack(c) => empty(&c.props) && connack::return_code_of(c.reason).is_ok(),
            Packet::Publish(p) => empty(&p.props),
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                empty(&a.props) && a.reason == ReasonCode::Success
            }
            Packet::Subscribe(s) => empty(&s.props) && s.topics.bytes().all(|(_, o)| o <= 2),
            Packet::Suback(s) => empty(&s.props),
            Packet::Unsubscribe(u) => empty(&u.props),
            Packet::Unsuback(s) => empty(&s.props) && s.reasons.is_empty(),
            Packet::Pingreq | Packet::Pingresp => true,
            Packet::Disconnect(d) => empty(&d.props) && d.reason == ReasonCode::Success,
            Packet::Auth(_) => false,
        };
        if ok {
            Ok(())
        } else {
            Err(EncodeError::NotInVersion)
        }
    }
}

impl Packet<'_> {
    /// What only a server sends (CONNACK, SUBACK, UNSUBACK, PINGRESP).
    fn is_server_only(&self) -> bool {
        matches!(
            self,
            Packet::Connack(_) | Packet::Suback(_) | Packet::Unsuback(_) | Packet::Pingresp
        )
    }
}

impl ReasonOnly<'_> {
    /// Success without properties (the empty body).
    pub const SUCCESS: Self = ReasonOnly {
        reason: ReasonCode::Success,
        props: Properties::EMPTY,
    };
}

fn connect_props<'a>(c: &Connect<'a>) -> ConnectProps<'a> {
    ConnectProps {
        props: c.props,
        will: c.will_props,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::wire::{Property, QoS};
    use proptest::prelude::*;

    /// Encode `packet`, compare with `fixture`, parse `fixture` back, and
    /// check that every strict prefix asks for more bytes.
    pub(crate) fn check5(fixture: &[u8], packet: Packet<'_>) {
        let mut out = [0u8; 256];
        let n = packet.encode(&mut out).unwrap();
        assert_eq!(&out[..n], fixture, "encode {packet:?}");
        assert_eq!(packet.encoded_len(), Ok(fixture.len()));
        assert_eq!(Packet::parse(fixture), Ok(Some((packet, fixture.len()))));
        for i in 0..fixture.len() {
            assert_eq!(Packet::parse(&fixture[..i]), Ok(None), "prefix {i}");
        }
        assert_eq!(
            packet.encode(&mut out[..fixture.len() - 1]),
            Err(EncodeError::BufferTooSmall {
                needed: fixture.len()
            })
        );
        assert_eq!(packet.packet_type() as u8, fixture[0] >> 4);
    }

    pub(crate) fn parse5_err(bytes: &[u8]) -> DecodeError {
        Packet::parse(bytes).unwrap_err()
    }

    #[test]
    fn pings() {
        check5(&[0xC0, 0x00], Packet::Pingreq); // PINGREQ
        check5(&[0xD0, 0x00], Packet::Pingresp); // PINGRESP
        assert_eq!(
            parse5_err(&[0xD0, 0x01, 0x00]),
            DecodeError::BadLength(PacketType::Pingresp)
        );
    }

    #[test]
    fn version_is_a_parameter() {
        // The same bytes mean different things: a 3.1.1 PUBACK of 4 bytes
        // is malformed, a v5 one carries a reason code and properties.
        #[rustfmt::skip]
        let puback = [
            0x40, 0x04, // PUBACK, remaining length 4
            0x00, 0x07, // packet id 7
            0x10, // no matching subscribers
            0x00, // no properties
        ];
        assert_eq!(
            crate::wire::Packet::parse(&puback),
            Err(DecodeError::BadLength(PacketType::Puback))
        );
        let Ok(Some((Packet::Puback(a), 6))) = Packet::parse(&puback) else {
            panic!()
        };
        assert_eq!((a.pid, a.reason), (7, ReasonCode::NoMatchingSubscribers));
        // Short forms are the same bytes in both versions.
        assert_eq!(
            Packet::parse(&[0x40, 0x02, 0x00, 0x07]),
            Ok(Some((Packet::Puback(Ack::success(7)), 4)))
        );
        assert_eq!(
            crate::wire::Packet::parse(&[0xF0, 0x00]),
            Err(DecodeError::UnknownPacketType(15))
        );
    }

    #[test]
    fn one_representation_for_both_versions() {
        let v311 = Version::V311;
        let enc = |p: Packet<'_>| {
            let mut out = [0u8; 64];
            p.encode_for(&mut out, v311)
                .map(|n| std::vec::Vec::from(&out[..n]))
        };
        // 3.1.1 CONNACK return code 5 is v5's Not authorized, both ways.
        let refused = [0x20, 0x02, 0x00, 0x05]; // CONNACK, no session, not authorized
        let (p, _) = Packet::parse_for(&refused, v311).unwrap().unwrap();
        let Packet::Connack(c) = p else { panic!() };
        assert_eq!(c.reason, ReasonCode::NotAuthorized);
        assert_eq!(enc(p).unwrap(), refused);
        // A 3.1.1 UNSUBACK has no reason codes; the same bytes in v5 are short.
        let unsuback = [0xB0, 0x02, 0x00, 0x02]; // UNSUBACK, packet id 2
        let (p, _) = Packet::parse_for(&unsuback, v311).unwrap().unwrap();
        assert_eq!(enc(p).unwrap(), unsuback);
        assert_eq!(
            Packet::parse(&unsuback),
            Err(DecodeError::BadLength(PacketType::Unsuback))
        );
        // What 3.1.1 cannot say.
        let why = [Property::ReasonString("x")];
        let props = Properties::from_list(&why);
        let no_local = [(
            "a",
            SubscriptionOptions {
                no_local: true,
                ..SubscriptionOptions::new(QoS::AtMostOnce)
            },
        )];
        let cases = [
            Packet::Puback(Ack {
                pid: 1,
                reason: ReasonCode::NoMatchingSubscribers,
                props: Properties::EMPTY,
            }),
            Packet::Pubcomp(Ack {
                props,
                ..Ack::success(1)
            }),
            Packet::Connack(Connack {
                session_present: false,
                reason: ReasonCode::QuotaExceeded,
                props: Properties::EMPTY,
            }),
            Packet::Subscribe(Subscribe {
                pid: 1,
                props: Properties::EMPTY,
                topics: SubscribeTopics::List(&no_local),
            }),
            Packet::Unsuback(SubAck {
                pid: 1,
                props: Properties::EMPTY,
                reasons: &[0x00],
            }),
            Packet::Disconnect(ReasonOnly {
                reason: ReasonCode::DisconnectWithWillMessage,
                props: Properties::EMPTY,
            }),
            Packet::Auth(ReasonOnly::SUCCESS),
        ];
        for p in cases {
            assert_eq!(enc(p), Err(EncodeError::NotInVersion), "{p:?}");
        }
        assert_eq!(
            enc(Packet::Disconnect(ReasonOnly::SUCCESS)).unwrap(),
            [0xE0, 0x00]
        );
        assert_eq!(
            Packet::parse_for(&[0xF0, 0x00], v311),
            Err(DecodeError::UnknownPacketType(15))
        );
    }

    #[test]
    fn decode_error_reason_codes() {
        assert_eq!(
            parse5_err(&[0x40, 0x03, 0x00, 0x01, 0x05]).reason_code(),
            ReasonCode::MalformedPacket
        );
        #[rustfmt::skip]
        let twice = [
            0x20, 0x09, // CONNACK
            0x00, 0x00, // no session, success
            0x06, // properties: 6 bytes
            0x21, 0x00, 0x01, // receive maximum 1
            0x21, 0x00, 0x02, // receive maximum 2: repeated
        ];
        assert_eq!(parse5_err(&twice).reason_code(), ReasonCode::ProtocolError);
    }

    #[test]
    fn publish_header_for_a_streamed_payload() {
        let props = [Property::MessageExpiryInterval(60)];
        let p = Publish {
            publish: crate::wire::Publish {
                topic: "t",
                qos: QoS::AtLeastOnce,
                retain: false,
                dup: false,
                pid: 3,
                payload: b"",
            },
            props: Properties::from_list(&props),
        };
        #[rustfmt::skip]
        let header = [
            0x32, // PUBLISH QoS 1
            0x90, 0x01, // remaining length 144 = 11 + 133
            0x00, 0x01, b't', // topic "t"
            0x00, 0x03, // packet id 3
            0x05, // properties: 5 bytes
            0x02, 0x00, 0x00, 0x00, 0x3C, // message expiry 60 s
        ];
        assert_eq!(p.header_len_for(133), Ok(header.len()));
        let mut out = [0u8; 16];
        assert_eq!(p.encode_header_for(133, &mut out), Ok(header.len()));
        assert_eq!(&out[..header.len()], header);
        // In 3.1.1: no property length, and the properties cannot go.
        let v311 = Version::V311;
        assert_eq!(p.header_len_in(133, v311), p.publish.header_len_for(133));
        assert_eq!(
            p.encode_header_in(133, v311, &mut out),
            Err(EncodeError::NotInVersion)
        );
        let bare = Publish {
            props: Properties::EMPTY,
            ..p
        };
        let n = bare.encode_header_in(133, v311, &mut out).unwrap();
        let mut plain = [0u8; 16];
        assert_eq!(p.publish.encode_header_for(133, &mut plain), Ok(n));
        assert_eq!(out[..n], plain[..n]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn parse_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            check_arbitrary(&bytes)?;
        }

        #[test]
        fn parse_framed_arbitrary_body(
            first in any::<u8>(),
            body in proptest::collection::vec(any::<u8>(), 0..120),
        ) {
            let mut bytes = std::vec![first, u8::try_from(body.len()).unwrap()];
            bytes.extend_from_slice(&body);
            check_arbitrary(&bytes)?;
        }
    }

    /// Parsing never panics; whatever parses re-encodes to an equal packet.
    fn check_arbitrary(bytes: &[u8]) -> Result<(), TestCaseError> {
        if let Ok(Some((packet, n))) = Packet::parse(bytes) {
            prop_assert!(n <= bytes.len());
            let mut out = std::vec![0u8; n + 8];
            let r = packet.encode(&mut out);
            match r {
                Err(EncodeError::EmptyClientId) => {}
                // A failure code outside the packet's list is read
                // (ReasonCode::received_in), never sent.
                Err(EncodeError::BadReturnCode(c)) if c >= 0x80 => {}
                Ok(m) => prop_assert_eq!(Packet::parse(&out[..m]), Ok(Some((packet, m)))),
                Err(e) => prop_assert!(false, "{packet:?} parsed but does not encode: {e:?}"),
            }
            check_from_client(&packet, V, r, &out)?;
        }
        Ok(())
    }

    /// The client's encoder writes what [`Packet::encode_for`] wrote
    /// (`whole`, `out`) for a client's packet, and refuses a server's.
    pub(crate) fn check_from_client(
        packet: &Packet<'_>,
        v: Version,
        whole: Result<usize, EncodeError>,
        out: &[u8],
    ) -> Result<(), TestCaseError> {
        let mut client = std::vec![0u8; out.len()];
        let r = packet.encode_from_client(&mut client, v);
        let len = packet.encoded_len_from_client(v);
        if packet.is_server_only() {
            prop_assert_eq!(r, Err(EncodeError::ServerOnly));
            prop_assert_eq!(len, Err(EncodeError::ServerOnly));
            return Ok(());
        }
        prop_assert_eq!(r, whole);
        if let Ok(m) = r {
            prop_assert_eq!(&client[..m], &out[..m]);
            prop_assert_eq!(len, Ok(m));
        }
        Ok(())
    }
}
