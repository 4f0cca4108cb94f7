//! MQTT 5.0 packets: [`Packet`], the representation of every v5 control
//! packet including AUTH, with properties and typed reason codes,
//! [`Packet::parse`] and [`Packet::encode`].  The fields 3.1.1 also has are
//! the 3.1.1 types ([`wire::Connect`](super::Connect),
//! [`wire::Publish`](super::Publish), ...) and the bytes are read and
//! written by the same family codecs, with [`Version::V5`].
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
        Ok(publish::parse_head(header, body_start, V)?
            .map(|(publish, props, n)| (Publish { publish, props }, n)))
    }

    /// Bytes before a payload of `payload_len` bytes (fixed header, topic,
    /// packet id, properties).
    ///
    /// # Errors
    /// [`EncodeError::TooLong`].
    pub fn header_len_for(&self, payload_len: usize) -> Result<usize, EncodeError> {
        publish::header_len_for(&self.publish, &self.props, V, payload_len)
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
        publish::encode_header_for(&self.publish, &self.props, V, payload_len, out)
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
        let Some(header) = parse_fixed_header_for(buf, V)? else {
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

    /// Parse a body whose fixed header is known.
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
        let r = &mut r;
        let ack = |r: &mut Reader<'a>| -> Result<Ack<'a>, DecodeError> {
            let (pid, reason, props) = ack::parse(r, ty, V)?;
            let reason = ReasonCode::parse(ty, reason)?;
            Ok(Ack { pid, reason, props })
        };
        let packet = match ty {
            PacketType::Connect => {
                let (connect, p) = connect::parse(r, V)?;
                Packet::Connect(Connect {
                    connect,
                    props: p.props,
                    will_props: p.will,
                })
            }
            PacketType::Connack => {
                let (session_present, code, props) = connack::parse(r, V)?;
                Packet::Connack(Connack {
                    session_present,
                    reason: ReasonCode::parse(ty, code)?,
                    props,
                })
            }
            PacketType::Publish => {
                let (publish, props) = publish::parse(header.flags, r, V)?;
                Packet::Publish(Publish { publish, props })
            }
            PacketType::Puback => Packet::Puback(ack(r)?),
            PacketType::Pubrec => Packet::Pubrec(ack(r)?),
            PacketType::Pubrel => Packet::Pubrel(ack(r)?),
            PacketType::Pubcomp => Packet::Pubcomp(ack(r)?),
            PacketType::Subscribe => {
                let (pid, props, entries) = subscribe::parse(r, V)?;
                let topics = SubscribeTopics::Encoded(entries);
                Packet::Subscribe(Subscribe { pid, props, topics })
            }
            PacketType::Suback => {
                let (pid, props, reasons) = subscribe::parse_suback(r, V)?;
                Packet::Suback(SubAck {
                    pid,
                    props,
                    reasons,
                })
            }
            PacketType::Unsubscribe => {
                let (pid, props, entries) = unsubscribe::parse(r, V)?;
                let topics = UnsubscribeTopics::Encoded(entries);
                Packet::Unsubscribe(Unsubscribe { pid, props, topics })
            }
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
            PacketType::Disconnect => {
                let (reason, props) = disconnect::parse(r, ty)?;
                Packet::Disconnect(ReasonOnly { reason, props })
            }
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

    /// Total encoded size including the fixed header.
    ///
    /// # Errors
    /// [`EncodeError::TooLong`].
    pub fn encoded_len(&self) -> Result<usize, EncodeError> {
        let rem = self.remaining_len()?;
        Ok(1 + remaining_len_size(rem) + rem)
    }

    /// Encode the whole packet into `out`; returns the bytes written.
    /// Checks what [`super::Packet::encode`] checks, and every property and
    /// reason code for the packet.  Acks, DISCONNECT and AUTH take their
    /// short forms when they say the same.  Nothing is written on error.
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
            publish::write_header(&p.publish, &p.props, V, &mut w, p.publish.payload.len())?;
            w.put(p.publish.payload)?;
            return Ok(w.pos());
        }
        let flags = match self {
            Packet::Pubrel(_) | Packet::Subscribe(_) | Packet::Unsubscribe(_) => 0b0010,
            _ => 0,
        };
        w.fixed_header(
            (self.packet_type() as u8) << 4 | flags,
            self.remaining_len()?,
        )?;
        let w = &mut w;
        match self {
            Packet::Connect(c) => connect::write(&c.connect, &connect_props(c), V, w)?,
            Packet::Connack(c) => {
                connack::write(w, c.session_present, c.reason as u8, &c.props, V)?;
            }
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                ack::write(w, a.pid, a.reason as u8, &a.props, V)?;
            }
            Packet::Subscribe(s) => subscribe::write(w, s.pid, &s.props, s.topics.bytes(), V)?,
            Packet::Suback(s) => subscribe::write_suback(w, s.pid, &s.props, s.reasons, V)?,
            Packet::Unsubscribe(u) => {
                unsubscribe::write(w, u.pid, &u.props, u.topics.iter(), V)?;
            }
            Packet::Unsuback(s) => unsubscribe::write_unsuback(w, s.pid, &s.props, s.reasons)?,
            Packet::Disconnect(d) | Packet::Auth(d) => disconnect::write(w, d.reason, &d.props)?,
            Packet::Publish(_) | Packet::Pingreq | Packet::Pingresp => {}
        }
        Ok(w.pos())
    }

    fn remaining_len(&self) -> Result<usize, EncodeError> {
        let len = match self {
            Packet::Connect(c) => connect::len(&c.connect, &connect_props(c), V)?,
            Packet::Connack(c) => connack::len(&c.props, V)?,
            Packet::Publish(p) => {
                publish::remaining_len_for(&p.publish, &p.props, V, p.publish.payload.len())?
            }
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                ack::len(a.reason as u8, &a.props, V)?
            }
            Packet::Subscribe(s) => subscribe::len(&s.props, s.topics.bytes(), V)?,
            Packet::Suback(s) => subscribe::suback_len(&s.props, s.reasons, V)?,
            Packet::Unsubscribe(u) => unsubscribe::len(&u.props, u.topics.iter(), V)?,
            Packet::Unsuback(s) => unsubscribe::unsuback_len(&s.props, s.reasons)?,
            Packet::Pingreq | Packet::Pingresp => 0,
            Packet::Disconnect(d) | Packet::Auth(d) => disconnect::len(d.reason, &d.props)?,
        };
        check_remaining(len)
    }

    fn validate(&self) -> Result<(), EncodeError> {
        let ty = self.packet_type();
        match self {
            Packet::Connect(c) => connect::validate(&c.connect, &connect_props(c), V),
            Packet::Connack(c) => {
                if !ReasonCode::allowed_in(ty, c.reason as u8) {
                    return Err(EncodeError::BadReturnCode(c.reason as u8));
                }
                connack::validate(c.session_present, c.reason as u8, &c.props, V)
            }
            Packet::Publish(p) => publish::validate(&p.publish, &p.props, V),
            Packet::Puback(a) | Packet::Pubrec(a) | Packet::Pubrel(a) | Packet::Pubcomp(a) => {
                ack::validate(ty, a.pid, a.reason as u8, &a.props, V)
            }
            Packet::Subscribe(s) => subscribe::validate(s.pid, &s.props, s.topics.bytes(), V),
            Packet::Suback(s) => subscribe::validate_suback(s.pid, &s.props, s.reasons, V),
            Packet::Unsubscribe(u) => unsubscribe::validate(u.pid, &u.props, u.topics.iter(), V),
            Packet::Unsuback(s) => unsubscribe::validate_unsuback(s.pid, &s.props, s.reasons),
            Packet::Pingreq | Packet::Pingresp => Ok(()),
            Packet::Disconnect(d) | Packet::Auth(d) => disconnect::validate(ty, d.reason, &d.props),
        }
    }
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
            match packet.encode(&mut out) {
                Err(EncodeError::EmptyClientId) => {}
                Ok(m) => prop_assert_eq!(Packet::parse(&out[..m]), Ok(Some((packet, m)))),
                Err(e) => prop_assert!(false, "{packet:?} parsed but does not encode: {e:?}"),
            }
        }
        Ok(())
    }
}
