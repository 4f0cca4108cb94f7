//! The MQTT 3.1.1 control packet: [`Packet`], a validated representation
//! that borrows the received buffer, [`Packet::parse`] (framing plus checked
//! parsing) and [`Packet::encode`] into a caller-owned buffer.  Each packet
//! family's codec (shared with MQTT 5) is in its own file; this one
//! dispatches with [`Version::V311`].
//!
//! Once `parse` returns a packet, its fields are valid by construction: strings
//! are UTF-8 without U+0000, topic names and filters follow section 4.7, packet
//! identifiers that must be nonzero are, and SUBSCRIBE/UNSUBSCRIBE entry lists
//! (kept as the raw encoded bytes) iterate without any further error.

use super::codec::{check_remaining, Reader, Writer};
use super::connect::ConnectProps;
use super::header::check_flags;
use super::section::Props;
use super::{
    ack, connack, connect, parse_fixed_header, publish, remaining_len_size, subscribe, unsubscribe,
    Connack, Connect, DecodeError, EncodeError, FixedHeader, PacketType, Publish, Suback,
    Subscribe, Unsubscribe, Version,
};

const V: Version = Version::V311;

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
        Self::parse_body_in(header, body, false)
    }

    /// [`parse_body`](Self::parse_body) for a client: what only a client
    /// sends (CONNECT, SUBSCRIBE, UNSUBSCRIBE) is not read but refused
    /// ([`DecodeError::UnknownPacketType`]), so that a client's firmware
    /// carries no parser of them.
    ///
    /// # Errors
    /// As [`parse_body`](Self::parse_body).
    pub fn parse_from_server(
        header: &FixedHeader,
        body: &'a [u8],
    ) -> Result<Packet<'a>, DecodeError> {
        Self::parse_body_in(header, body, true)
    }

    #[inline(always)]
    fn parse_body_in(
        header: &FixedHeader,
        body: &'a [u8],
        from_server: bool,
    ) -> Result<Packet<'a>, DecodeError> {
        let ty = header.packet_type;
        if body.len() != header.remaining_len {
            return Err(DecodeError::BadLength(ty));
        }
        check_flags(ty, header.flags)?;
        let mut r = Reader::new(body, ty);
        let packet = match ty {
            PacketType::Connect if !from_server => Packet::Connect(connect::parse(&mut r, V)?.0),
            PacketType::Connack => Packet::Connack(connack::parse_v311(&mut r)?),
            PacketType::Publish => Packet::Publish(publish::parse(header.flags, &mut r, V)?.0),
            PacketType::Puback => Packet::Puback(ack::parse(&mut r, ty, V)?.0),
            PacketType::Pubrec => Packet::Pubrec(ack::parse(&mut r, ty, V)?.0),
            PacketType::Pubrel => Packet::Pubrel(ack::parse(&mut r, ty, V)?.0),
            PacketType::Pubcomp => Packet::Pubcomp(ack::parse(&mut r, ty, V)?.0),
            PacketType::Unsuback => Packet::Unsuback(r.pid()?),
            PacketType::Subscribe if !from_server => {
                Packet::Subscribe(subscribe::parse_v311(&mut r)?)
            }
            PacketType::Suback => Packet::Suback(subscribe::parse_suback_v311(&mut r)?),
            PacketType::Unsubscribe if !from_server => {
                Packet::Unsubscribe(unsubscribe::parse_v311(&mut r)?)
            }
            // What only a client sends, read by a client (`from_server`).
            PacketType::Connect | PacketType::Subscribe | PacketType::Unsubscribe => {
                return Err(DecodeError::UnknownPacketType(ty as u8))
            }
            PacketType::Pingreq => Packet::Pingreq,
            PacketType::Pingresp => Packet::Pingresp,
            PacketType::Disconnect => Packet::Disconnect,
            // A forged header: AUTH does not exist in 3.1.1.
            #[cfg(feature = "mqtt5")]
            PacketType::Auth => return Err(DecodeError::UnknownPacketType(15)),
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
        let rem = self.remaining_len(false)?;
        Ok(1 + remaining_len_size(rem) + rem)
    }

    /// [`Self::encoded_len`] of a client's packet (see
    /// [`Self::encode_from_client`]).
    ///
    /// # Errors
    /// [`EncodeError::TooLong`]; [`EncodeError::ServerOnly`].
    pub fn encoded_len_from_client(&self) -> Result<usize, EncodeError> {
        let rem = self.client_remaining_len()?;
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
        self.encode_in(out, false)
    }

    /// [`encode`](Self::encode) for a client: what only a server sends
    /// (CONNACK, SUBACK, UNSUBACK, PINGRESP) is not written but refused
    /// ([`EncodeError::ServerOnly`]), so that a client's firmware carries
    /// no writer of them (as [`parse_from_server`](Self::parse_from_server)
    /// for reading).
    ///
    /// # Errors
    /// As [`encode`](Self::encode); [`EncodeError::ServerOnly`].
    pub fn encode_from_client(&self, out: &mut [u8]) -> Result<usize, EncodeError> {
        self.encode_in(out, true)
    }

    #[inline(always)]
    fn encode_in(&self, out: &mut [u8], client: bool) -> Result<usize, EncodeError> {
        self.validate(client)?;
        let rem = if client {
            self.client_remaining_len()?
        } else {
            self.remaining_len(false)?
        };
        let needed = 1 + remaining_len_size(rem) + rem;
        if out.len() < needed {
            return Err(EncodeError::BufferTooSmall { needed });
        }
        let mut w = Writer::new(out);
        if let Packet::Publish(p) = self {
            p.write_header(&mut w, p.payload.len())?;
            w.put(p.payload)?;
            return Ok(w.pos());
        }
        w.fixed_header(self.first_byte(), rem)?;
        let none = &Props::EMPTY;
        match self {
            // Refused by `validate`.
            Packet::Connack(_) | Packet::Suback(_) | Packet::Unsuback(_) | Packet::Pingresp
                if client => {}
            Packet::Connect(c) => connect::write(c, &ConnectProps::EMPTY, V, &mut w)?,
            Packet::Connack(c) => {
                connack::write(&mut w, c.session_present, c.code as u8, none, V)?;
            }
            Packet::Puback(pid)
            | Packet::Pubrec(pid)
            | Packet::Pubrel(pid)
            | Packet::Pubcomp(pid) => {
                ack::write(&mut w, *pid, 0, none, V)?;
            }
            Packet::Unsuback(pid) => w.u16(*pid)?,
            Packet::Subscribe(s) => subscribe::write(&mut w, s.pid, none, entries(s), V)?,
            Packet::Unsubscribe(u) => unsubscribe::write(&mut w, u.pid, none, u.topics.iter(), V)?,
            Packet::Suback(s) => subscribe::write_suback(&mut w, s.pid, none, s.return_codes, V)?,
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

    /// The remaining length: for a client's packet one copy of the code,
    /// shared by its encoder and its length.
    #[inline(never)]
    fn client_remaining_len(&self) -> Result<usize, EncodeError> {
        self.remaining_len(true)
    }

    /// The remaining length; a server's packet refused with `client`.
    #[inline(always)]
    fn remaining_len(&self, client: bool) -> Result<usize, EncodeError> {
        let none = &Props::EMPTY;
        let len = match self {
            Packet::Connack(_) | Packet::Suback(_) | Packet::Unsuback(_) | Packet::Pingresp
                if client =>
            {
                return Err(EncodeError::ServerOnly)
            }
            Packet::Connect(c) => connect::len(c, &ConnectProps::EMPTY, V)?,
            Packet::Connack(_) => connack::len(none, V)?,
            Packet::Puback(_) | Packet::Pubrec(_) | Packet::Pubrel(_) | Packet::Pubcomp(_) => {
                ack::len(0, none, V)?
            }
            Packet::Unsuback(_) => 2,
            Packet::Publish(p) => return p.remaining_len(),
            Packet::Subscribe(s) => subscribe::len(none, entries(s), V)?,
            Packet::Unsubscribe(u) => unsubscribe::len(none, u.topics.iter(), V)?,
            Packet::Suback(s) => subscribe::suback_len(none, s.return_codes, V)?,
            Packet::Pingreq | Packet::Pingresp | Packet::Disconnect => 0,
        };
        check_remaining(len)
    }

    #[inline(always)]
    fn validate(&self, client: bool) -> Result<(), EncodeError> {
        let none = &Props::EMPTY;
        match self {
            Packet::Connack(_) | Packet::Suback(_) | Packet::Unsuback(_) | Packet::Pingresp
                if client =>
            {
                Err(EncodeError::ServerOnly)
            }
            Packet::Connect(c) => connect::validate(c, &ConnectProps::EMPTY, V),
            Packet::Connack(c) => connack::validate(c.session_present, c.code as u8, none, V),
            Packet::Publish(p) => p.validate(),
            Packet::Puback(pid)
            | Packet::Pubrec(pid)
            | Packet::Pubrel(pid)
            | Packet::Pubcomp(pid)
            | Packet::Unsuback(pid) => ack::validate(self.packet_type(), *pid, 0, none, V),
            Packet::Subscribe(s) => subscribe::validate(s.pid, none, entries(s), V),
            Packet::Unsubscribe(u) => unsubscribe::validate(u.pid, none, u.topics.iter(), V),
            Packet::Suback(s) => subscribe::validate_suback(s.pid, none, s.return_codes, V),
            Packet::Pingreq | Packet::Pingresp | Packet::Disconnect => Ok(()),
        }
    }
}

/// A 3.1.1 SUBSCRIBE's entries as `(filter, options byte)`.
fn entries<'s>(s: &Subscribe<'s>) -> impl Iterator<Item = (&'s str, u8)> + Clone + 's {
    s.topics.iter().map(|(f, q)| (f, q as u8))
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::wire::*;
    use std::string::String;
    use std::vec;
    use std::vec::Vec;

    /// Encode `packet`, compare with `fixture`, parse `fixture` back, and check
    /// that every strict prefix of it asks for more bytes.
    pub(crate) fn check(fixture: &[u8], packet: Packet<'_>) {
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
        from_client(&packet, fixture);
        #[cfg(feature = "mqtt5")]
        same_as_v5_repr(fixture);
    }

    /// The client's encoder (what a session uses) writes a client's
    /// packet as `encode` does and refuses a server's.
    fn from_client(packet: &Packet<'_>, fixture: &[u8]) {
        let mut out = [0u8; 256];
        let (r, len) = (
            packet.encode_from_client(&mut out),
            packet.encoded_len_from_client(),
        );
        if matches!(
            packet,
            Packet::Connack(_) | Packet::Suback(_) | Packet::Unsuback(_) | Packet::Pingresp
        ) {
            assert_eq!((r, len), (Err(EncodeError::ServerOnly), r));
        } else {
            assert_eq!((r, len), (Ok(fixture.len()), r));
            assert_eq!(&out[..fixture.len()], fixture);
        }
    }

    /// The version-generic `v5::Packet`, with `Version::V311`, reads a
    /// 3.1.1 fixture and writes the same bytes back.
    #[cfg(feature = "mqtt5")]
    fn same_as_v5_repr(fixture: &[u8]) {
        let (p, n) = v5::Packet::parse_for(fixture, Version::V311)
            .unwrap()
            .unwrap();
        assert_eq!(n, fixture.len());
        let mut out = [0u8; 256];
        let m = p.encode_for(&mut out, Version::V311).unwrap();
        assert_eq!(&out[..m], fixture, "v5 repr {p:?}");
        // The client's encoder (what a session uses) writes the same.
        v5::tests::check_from_client(&p, Version::V311, Ok(m), &out).unwrap();
        assert_eq!(p.encoded_len_for(Version::V311), Ok(m));
        for i in 0..fixture.len() {
            assert_eq!(
                v5::Packet::parse_for(&fixture[..i], Version::V311),
                Ok(None)
            );
        }
    }

    pub(crate) fn parse_err(bytes: &[u8]) -> DecodeError {
        let e = Packet::parse(bytes).unwrap_err();
        // The same bytes are refused the same way through `v5::Packet`.
        #[cfg(feature = "mqtt5")]
        assert_eq!(v5::Packet::parse_for(bytes, Version::V311), Err(e));
        e
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
            // `v5::Packet` with `Version::V311` accepts and refuses alike.
            #[cfg(feature = "mqtt5")]
            {
                let generic = v5::Packet::parse_for(bytes, Version::V311);
                match Packet::parse(bytes) {
                    Ok(Some((_, n))) => prop_assert!(matches!(generic, Ok(Some((_, m))) if m == n)),
                    other => prop_assert_eq!(other.map(|_| None::<()>), generic.map(|_| None)),
                }
            }
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
            // A session's encoder (client packets only) agrees in 3.1.1.
            #[cfg(feature = "mqtt5")]
            if let Ok(Some((generic, _))) = v5::Packet::parse_for(bytes, Version::V311) {
                let mut out = [0u8; 512];
                let whole = generic.encode_for(&mut out, Version::V311);
                v5::tests::check_from_client(&generic, Version::V311, whole, &out)?;
            }
            Ok(())
        }
    }
}
