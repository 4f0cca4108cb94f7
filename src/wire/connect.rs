//! CONNECT (3.1.1 section 3.1, MQTT 5 section 3.1) and its will: one codec
//! for both versions.  MQTT 5 adds a property section after the keepalive
//! and one (the will properties) before the will topic, and allows a
//! password without a user name.

use super::codec::{add_len, field_len, no_nul, topic_decode_error, Reader, Writer};
use super::section::{self, Context, Props};
use super::{validate_topic_name, DecodeError, EncodeError, QoS, Version};

/// The last-will message of a CONNECT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Will<'a> {
    pub topic: &'a str,
    pub message: &'a [u8],
    pub qos: QoS,
    pub retain: bool,
}

/// CONNECT (protocol "MQTT", level 4 for 3.1.1; the version's level).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connect<'a> {
    /// May be empty only with `clean_session` (enforced when encoding; a
    /// server decides itself, with `IdentifierRejected`, when decoding).
    pub client_id: &'a str,
    pub keepalive: u16,
    /// "Clean start" in MQTT 5.
    pub clean_session: bool,
    pub will: Option<Will<'a>>,
    pub username: Option<&'a str>,
    /// Requires `username` in MQTT 3.1.1.
    pub password: Option<&'a [u8]>,
}

/// The property sections of a CONNECT: its own and the will's (both empty
/// in 3.1.1; the will's empty without a will).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ConnectProps<'a> {
    pub(crate) props: Props<'a>,
    pub(crate) will: Props<'a>,
}

impl ConnectProps<'_> {
    pub(crate) const EMPTY: Self = ConnectProps {
        props: Props::EMPTY,
        will: Props::EMPTY,
    };
}

const PROTOCOL_NAME: &[u8] = b"MQTT";

mod flags {
    pub const RESERVED: u8 = 0x01;
    pub const CLEAN_SESSION: u8 = 0x02;
    pub const WILL: u8 = 0x04;
    pub const WILL_QOS_SHIFT: u8 = 3;
    pub const WILL_RETAIN: u8 = 0x20;
    pub const PASSWORD: u8 = 0x40;
    pub const USERNAME: u8 = 0x80;
}

pub(crate) fn validate(
    c: &Connect<'_>,
    p: &ConnectProps<'_>,
    v: Version,
) -> Result<(), EncodeError> {
    no_nul(c.client_id)?;
    if c.client_id.is_empty() && !c.clean_session {
        return Err(EncodeError::EmptyClientId);
    }
    if let Some(will) = &c.will {
        validate_topic_name(will.topic)?;
    }
    if let Some(user) = c.username {
        no_nul(user)?;
    } else if c.password.is_some() && !v.is_v5() {
        return Err(EncodeError::PasswordWithoutUser);
    }
    section::check(&p.props, v, Context::Connect)?;
    if c.will.is_some() {
        section::check(&p.will, v, Context::Will)?;
    } else if v.is_v5() {
        no_will_props(&p.will)?;
    }
    Ok(())
}

/// Will properties without a will cannot be encoded.
#[cfg(feature = "mqtt5")]
fn no_will_props(p: &Props<'_>) -> Result<(), EncodeError> {
    match p.iter().next() {
        Some(prop) => Err(EncodeError::Property(super::PropertyError::NotAllowed(
            prop.id() as u8,
        ))),
        None => Ok(()),
    }
}

#[cfg(not(feature = "mqtt5"))]
fn no_will_props(_: &Props<'_>) -> Result<(), EncodeError> {
    Ok(())
}

pub(crate) fn len(c: &Connect<'_>, p: &ConnectProps<'_>, v: Version) -> Result<usize, EncodeError> {
    // Protocol name, level, flags, keepalive.
    let mut len = field_len(PROTOCOL_NAME.len())? + 4 + field_len(c.client_id.len())?;
    len = add_len(len, section::len(&p.props, v)?)?;
    if let Some(will) = &c.will {
        len = add_len(len, section::len(&p.will, v)?)?;
        len = add_len(
            len,
            field_len(will.topic.len())? + field_len(will.message.len())?,
        )?;
    }
    if let Some(user) = c.username {
        len = add_len(len, field_len(user.len())?)?;
    }
    if let Some(pass) = c.password {
        len = add_len(len, field_len(pass.len())?)?;
    }
    Ok(len)
}

pub(crate) fn write(
    c: &Connect<'_>,
    p: &ConnectProps<'_>,
    v: Version,
    w: &mut Writer<'_>,
) -> Result<(), EncodeError> {
    use flags::*;
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
    w.u8(v.level())?;
    w.u8(flags)?;
    w.u16(c.keepalive)?;
    section::write(w, &p.props, v)?;
    w.binary(c.client_id.as_bytes())?;
    if let Some(will) = &c.will {
        section::write(w, &p.will, v)?;
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

pub(crate) fn parse<'a>(
    r: &mut Reader<'a>,
    v: Version,
) -> Result<(Connect<'a>, ConnectProps<'a>), DecodeError> {
    use flags::*;
    if r.binary()? != PROTOCOL_NAME || r.u8()? != v.level() {
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
        || (has_pass && !has_user && !v.is_v5())
    {
        return Err(DecodeError::BadConnect);
    }
    let keepalive = r.u16()?;
    let props = section::read(r, v, Context::Connect)?;
    let client_id = r.str()?;
    let mut will_props = Props::EMPTY;
    let will = if has_will {
        will_props = section::read(r, v, Context::Will)?;
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
    let connect = Connect {
        client_id,
        keepalive,
        clean_session: flags & CLEAN_SESSION != 0,
        will,
        username,
        password,
    };
    Ok((
        connect,
        ConnectProps {
            props,
            will: will_props,
        },
    ))
}

#[cfg(test)]
mod tests {
    use crate::wire::packet::tests::{check, parse_err};
    use crate::wire::*;

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
}

#[cfg(all(test, feature = "mqtt5"))]
mod tests_v5 {
    use crate::wire::v5::tests::{check5, parse5_err};
    use crate::wire::v5::{self, Packet};
    use crate::wire::*;

    #[test]
    fn connect_v5_minimal() {
        #[rustfmt::skip]
        let fixture = [
            0x10, 14, // CONNECT, remaining length 14
            0x00, 0x04, b'M', b'Q', b'T', b'T', // protocol name
            0x05, // protocol level 5
            0x02, // flags: clean start
            0x00, 0x3C, // keepalive = 60 s
            0x00, // properties: none
            0x00, 0x01, b'c', // client id "c"
        ];
        let connect = Connect {
            client_id: "c",
            keepalive: 60,
            clean_session: true,
            will: None,
            username: None,
            password: None,
        };
        check5(
            &fixture,
            Packet::Connect(v5::Connect {
                connect,
                props: Properties::EMPTY,
                will_props: Properties::EMPTY,
            }),
        );
        // Level 5 is not 3.1.1, and level 4 is not 5.
        assert_eq!(
            crate::wire::Packet::parse(&fixture),
            Err(DecodeError::BadConnect)
        );
        let mut v4 = fixture;
        v4[8] = 4;
        assert_eq!(parse5_err(&v4), DecodeError::BadConnect);
    }

    #[test]
    fn connect_v5_bad_properties() {
        // CONNECT level 5, clean start, keepalive 0, then `props`, client id "c".
        let with_props = |props: &[u8]| {
            let mut v = std::vec![0x10, 0, 0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, 0x02, 0, 0];
            v.extend_from_slice(props);
            v.extend_from_slice(&[0x00, 0x01, b'c']);
            v[1] = u8::try_from(v.len() - 2).unwrap();
            v
        };
        #[rustfmt::skip]
        let cases: &[(&[u8], DecodeError)] = &[
            // receive maximum twice
            (&[0x06, 0x21, 0x00, 0x01, 0x21, 0x00, 0x02],
             DecodeError::Property(PropertyError::Repeated(0x21))),
            // authentication data without a method
            (&[0x04, 0x16, 0x00, 0x01, 0xFF],
             DecodeError::Property(PropertyError::NotAllowed(0x16))),
            // a will property outside the will
            (&[0x05, 0x18, 0x00, 0x00, 0x00, 0x01],
             DecodeError::Property(PropertyError::NotAllowed(0x18))),
            // maximum packet size 0
            (&[0x05, 0x27, 0x00, 0x00, 0x00, 0x00],
             DecodeError::Property(PropertyError::BadValue(0x27))),
            // the property length runs into the client id and past the end
            (&[0x09, 0x11], DecodeError::BadLength(PacketType::Connect)),
        ];
        for &(props, want) in cases {
            assert_eq!(parse5_err(&with_props(props)), want, "{props:02x?}");
        }
        assert!(Packet::parse(&with_props(&[0x00])).is_ok());
    }

    #[test]
    fn connect_v5_full() {
        #[rustfmt::skip]
        let fixture = [
            0x10, 50, // CONNECT, remaining length 50
            0x00, 0x04, b'M', b'Q', b'T', b'T', 0x05, // "MQTT" level 5
            0x4C, // flags: password (no user name: allowed in 5), will QoS 1, will
            0x00, 0x0A, // keepalive = 10 s
            0x0D, // properties: 13 bytes
            0x11, 0x00, 0x00, 0x01, 0x2C, // session expiry 300 s
            0x21, 0x00, 0x08, // receive maximum 8
            0x27, 0x00, 0x00, 0x04, 0x00, // maximum packet size 1024
            0x00, 0x02, b'i', b'd', // client id "id"
            0x0A, // will properties: 10 bytes
            0x18, 0x00, 0x00, 0x00, 0x05, // will delay 5 s
            0x03, 0x00, 0x02, b't', b'x', // content type "tx"
            0x00, 0x01, b'w', // will topic "w"
            0x00, 0x03, b'b', b'y', b'e', // will message "bye"
            0x00, 0x01, b'p', // password "p"
        ];
        let props = [
            Property::SessionExpiryInterval(300),
            Property::ReceiveMaximum(8),
            Property::MaximumPacketSize(1024),
        ];
        let will_props = [Property::WillDelayInterval(5), Property::ContentType("tx")];
        let connect = Connect {
            client_id: "id",
            keepalive: 10,
            clean_session: false,
            will: Some(Will {
                topic: "w",
                message: b"bye",
                qos: QoS::AtLeastOnce,
                retain: false,
            }),
            username: None,
            password: Some(b"p"),
        };
        let packet = Packet::Connect(v5::Connect {
            connect,
            props: Properties::from_list(&props),
            will_props: Properties::from_list(&will_props),
        });
        check5(&fixture, packet);

        // A topic alias is no will property.
        let mut bad = fixture;
        bad[36] = 0x23; // content type -> topic alias 2, then "tx" as junk
        assert_eq!(
            parse5_err(&bad),
            DecodeError::Property(PropertyError::NotAllowed(0x23))
        );
        // Will properties without a will cannot be encoded.
        let Packet::Connect(mut c) = packet else {
            panic!()
        };
        c.connect.will = None;
        assert_eq!(
            Packet::Connect(c).encode(&mut [0u8; 128]),
            Err(EncodeError::Property(PropertyError::NotAllowed(0x18)))
        );
        // Nor CONNECT properties that belong to CONNACK.
        let assigned = [Property::AssignedClientIdentifier("x")];
        c.props = Properties::from_list(&assigned);
        c.will_props = Properties::EMPTY;
        assert_eq!(
            Packet::Connect(c).encode(&mut [0u8; 128]),
            Err(EncodeError::Property(PropertyError::NotAllowed(0x12)))
        );
    }
}
