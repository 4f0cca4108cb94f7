//! Encode -> decode round trip: a packet built from fuzz bytes (any field
//! values, including invalid ones) either is refused by the encoder, or
//! encodes to `encoded_len` bytes that parse back to the same packet, whole
//! and (every prefix) as "need more".  A PUBLISH header encoded alone matches
//! the start of the whole packet.  Kinds 0-13 are MQTT 3.1.1 packets
//! (`Packet`), 14-28 MQTT 5 ones (`v5::Packet`) with property lists built
//! from the same bytes (any property, any value, allowed or not).

use umqtt_rs::wire::{
    parse_fixed_header_for, v5, Connack, Connect, ConnectReturnCode, Packet, Properties, Property,
    Publish, QoS, ReasonCode, Suback, Subscribe, SubscribeTopics, Unsubscribe, UnsubscribeTopics,
    Version, Will,
};

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }
    fn qos(&mut self) -> QoS {
        QoS::from_u8(self.u8() % 3).unwrap()
    }
    fn bytes(&mut self) -> &'a [u8] {
        let n = usize::from(self.u8()).min(self.0.len());
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        head
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    /// A small value, 0 now and then (0 is out of range for some properties).
    fn small(&mut self) -> u8 {
        self.u8() % 3
    }
    fn reason(&mut self) -> ReasonCode {
        ReasonCode::from_u8(self.u8()).unwrap_or(ReasonCode::Success)
    }
    fn property(&mut self) -> Property<'a> {
        use Property::*;
        match self.u8() % 27 {
            0 => PayloadFormatIndicator(self.small()),
            1 => MessageExpiryInterval(self.u32()),
            2 => ContentType(self.str()),
            3 => ResponseTopic(self.str()),
            4 => CorrelationData(self.bytes()),
            5 => SubscriptionIdentifier(self.u32() >> (self.u8() % 32)),
            6 => SessionExpiryInterval(self.u32()),
            7 => AssignedClientIdentifier(self.str()),
            8 => ServerKeepAlive(self.u16()),
            9 => AuthenticationMethod(self.str()),
            10 => AuthenticationData(self.bytes()),
            11 => RequestProblemInformation(self.small()),
            12 => WillDelayInterval(self.u32()),
            13 => RequestResponseInformation(self.small()),
            14 => ResponseInformation(self.str()),
            15 => ServerReference(self.str()),
            16 => ReasonString(self.str()),
            17 => ReceiveMaximum(u16::from(self.u8())),
            18 => TopicAliasMaximum(self.u16()),
            19 => TopicAlias(u16::from(self.u8())),
            20 => MaximumQoS(self.small()),
            21 => RetainAvailable(self.small()),
            22 => UserProperty((self.str(), self.str())),
            23 => MaximumPacketSize(u32::from(self.u8())),
            24 => WildcardSubscriptionAvailable(self.small()),
            25 => SubscriptionIdentifierAvailable(self.small()),
            _ => SharedSubscriptionAvailable(self.small()),
        }
    }
    fn properties(&mut self) -> Vec<Property<'a>> {
        (0..self.u8() % 4).map(|_| self.property()).collect()
    }
    /// A string: the longest valid UTF-8 prefix of some bytes.
    fn str(&mut self) -> &'a str {
        let b = self.bytes();
        match core::str::from_utf8(b) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&b[..e.valid_up_to()]).unwrap(),
        }
    }
}

/// One input.
pub fn run(data: &[u8]) {
    let mut i = Input(data);
    let kind = i.u8() % 29;
    if kind >= 14 {
        return roundtrip_v5(kind - 14, i);
    }
    let mut subs: Vec<(&str, QoS)> = Vec::new();
    let mut unsubs: Vec<&str> = Vec::new();
    let n = usize::from(i.u8() % 5);
    for _ in 0..n {
        let f = i.str();
        subs.push((f, i.qos()));
        unsubs.push(f);
    }
    let built = match kind {
        0 => Packet::Connect(Connect {
            client_id: i.str(),
            keepalive: i.u16(),
            clean_session: i.bool(),
            will: if i.bool() {
                Some(Will {
                    topic: i.str(),
                    message: i.bytes(),
                    qos: i.qos(),
                    retain: i.bool(),
                })
            } else {
                None
            },
            username: if i.bool() { Some(i.str()) } else { None },
            password: if i.bool() { Some(i.bytes()) } else { None },
        }),
        1 => Packet::Connack(Connack {
            session_present: i.bool(),
            code: ConnectReturnCode::from_u8(i.u8() % 6).unwrap(),
        }),
        2 => Packet::Publish(Publish {
            topic: i.str(),
            qos: i.qos(),
            retain: i.bool(),
            dup: i.bool(),
            pid: i.u16(),
            payload: i.bytes(),
        }),
        3 => Packet::Puback(i.u16()),
        4 => Packet::Pubrec(i.u16()),
        5 => Packet::Pubrel(i.u16()),
        6 => Packet::Pubcomp(i.u16()),
        7 => Packet::Subscribe(Subscribe {
            pid: i.u16(),
            topics: SubscribeTopics::List(&subs),
        }),
        8 => Packet::Suback(Suback {
            pid: i.u16(),
            return_codes: i.bytes(),
        }),
        9 => Packet::Unsubscribe(Unsubscribe {
            pid: i.u16(),
            topics: UnsubscribeTopics::List(&unsubs),
        }),
        10 => Packet::Unsuback(i.u16()),
        11 => Packet::Pingreq,
        12 => Packet::Pingresp,
        _ => Packet::Disconnect,
    };
    // The packet id of a QoS 0 PUBLISH is documented as not encoded.
    let packet = match built {
        Packet::Publish(p) if p.qos == QoS::AtMostOnce => Packet::Publish(Publish { pid: 0, ..p }),
        other => other,
    };
    let mut out = vec![0u8; 2048];
    let Ok(n) = packet.encode(&mut out) else {
        return;
    };
    assert_eq!(packet.encoded_len(), Ok(n));
    let bytes = &out[..n];
    assert_eq!(Packet::parse(bytes), Ok(Some((packet, n))), "{bytes:02x?}");
    let cut = usize::from(i.u8()) % n;
    assert_eq!(Packet::parse(&bytes[..cut]), Ok(None));
    if let Packet::Publish(p) = packet {
        let mut head = [0u8; 512];
        let h = p.encode_header(&mut head).unwrap();
        assert_eq!(h, p.header_len().unwrap());
        assert_eq!(&head[..h], &bytes[..h]);
        assert_eq!(h + p.payload.len(), n);
    }
}

fn roundtrip_v5(kind: u8, mut i: Input<'_>) {
    let props = i.properties();
    let will_props = i.properties();
    let props = Properties::from_list(&props);
    let will_props = Properties::from_list(&will_props);
    let mut subs: Vec<(&str, v5::SubscriptionOptions)> = Vec::new();
    let mut unsubs: Vec<&str> = Vec::new();
    for _ in 0..i.u8() % 5 {
        let f = i.str();
        let b = i.u8();
        let options = v5::SubscriptionOptions::from_byte(b)
            .unwrap_or(v5::SubscriptionOptions::new(QoS::AtMostOnce));
        subs.push((f, options));
        unsubs.push(f);
    }
    let ack = |i: &mut Input<'_>| v5::Ack {
        pid: i.u16(),
        reason: i.reason(),
        props,
    };
    let reason_only = |i: &mut Input<'_>| v5::ReasonOnly {
        reason: i.reason(),
        props,
    };
    let packet = match kind {
        0 => v5::Packet::Connect(v5::Connect {
            connect: Connect {
                client_id: i.str(),
                keepalive: i.u16(),
                clean_session: i.bool(),
                will: if i.bool() {
                    Some(Will {
                        topic: i.str(),
                        message: i.bytes(),
                        qos: i.qos(),
                        retain: i.bool(),
                    })
                } else {
                    None
                },
                username: if i.bool() { Some(i.str()) } else { None },
                password: if i.bool() { Some(i.bytes()) } else { None },
            },
            props,
            will_props,
        }),
        1 => v5::Packet::Connack(v5::Connack {
            session_present: i.bool(),
            reason: i.reason(),
            props,
        }),
        2 => {
            let qos = i.qos();
            let publish = Publish {
                topic: i.str(),
                qos,
                retain: i.bool(),
                dup: i.bool() && qos != QoS::AtMostOnce,
                pid: if qos == QoS::AtMostOnce { 0 } else { i.u16() },
                payload: i.bytes(),
            };
            v5::Packet::Publish(v5::Publish { publish, props })
        }
        3 => v5::Packet::Puback(ack(&mut i)),
        4 => v5::Packet::Pubrec(ack(&mut i)),
        5 => v5::Packet::Pubrel(ack(&mut i)),
        6 => v5::Packet::Pubcomp(ack(&mut i)),
        7 => v5::Packet::Subscribe(v5::Subscribe {
            pid: i.u16(),
            props,
            topics: v5::SubscribeTopics::List(&subs),
        }),
        8 => v5::Packet::Suback(v5::SubAck {
            pid: i.u16(),
            props,
            reasons: i.bytes(),
        }),
        9 => v5::Packet::Unsubscribe(v5::Unsubscribe {
            pid: i.u16(),
            props,
            topics: UnsubscribeTopics::List(&unsubs),
        }),
        10 => v5::Packet::Unsuback(v5::SubAck {
            pid: i.u16(),
            props,
            reasons: i.bytes(),
        }),
        11 => v5::Packet::Pingreq,
        12 => v5::Packet::Pingresp,
        13 => v5::Packet::Disconnect(reason_only(&mut i)),
        _ => v5::Packet::Auth(reason_only(&mut i)),
    };
    let mut out = vec![0u8; 4096];
    let Ok(n) = packet.encode(&mut out) else {
        return;
    };
    assert_eq!(packet.encoded_len(), Ok(n));
    let bytes = &out[..n];
    assert_eq!(
        v5::Packet::parse(bytes),
        Ok(Some((packet, n))),
        "{bytes:02x?}"
    );
    let cut = usize::from(i.u8()) % n;
    assert_eq!(v5::Packet::parse(&bytes[..cut]), Ok(None));
    if let v5::Packet::Publish(p) = packet {
        let len = p.publish.payload.len();
        let mut head = [0u8; 2048];
        let h = p.encode_header_for(len, &mut head).unwrap();
        assert_eq!(Ok(h), p.header_len_for(len));
        assert_eq!(&head[..h], &bytes[..h]);
        assert_eq!(h + len, n);
        // The receive side's view of the same header, for a payload in pieces.
        let fh = parse_fixed_header_for(bytes, Version::V5).unwrap().unwrap();
        let body = &bytes[fh.header_len..];
        let (got, var_len) = v5::Publish::parse_head(&fh, body).unwrap().unwrap();
        assert_eq!(fh.header_len + var_len, h);
        assert_eq!(got.props, p.props);
        assert_eq!(
            got.publish,
            Publish {
                payload: b"",
                ..p.publish
            }
        );
        let cut = usize::from(i.u8()) % (var_len + 1);
        if cut < var_len {
            assert_eq!(v5::Publish::parse_head(&fh, &body[..cut]), Ok(None));
        }
    }
}
