//! Encode -> decode round trip: a packet built from fuzz bytes (any field
//! values, including invalid ones) either is refused by the encoder, or
//! encodes to `encoded_len` bytes that parse back to the same packet, whole
//! and (every prefix) as "need more".  A PUBLISH header encoded alone matches
//! the start of the whole packet.
#![no_main]

use libfuzzer_sys::fuzz_target;
use umqtt_rs::wire::{
    Connack, Connect, ConnectReturnCode, Packet, Publish, QoS, Suback, Subscribe, SubscribeTopics,
    Unsubscribe, UnsubscribeTopics, Will,
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
    /// A string: the longest valid UTF-8 prefix of some bytes.
    fn str(&mut self) -> &'a str {
        let b = self.bytes();
        match core::str::from_utf8(b) {
            Ok(s) => s,
            Err(e) => core::str::from_utf8(&b[..e.valid_up_to()]).unwrap(),
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut i = Input(data);
    let kind = i.u8() % 14;
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
});
