//! The packet decoder on arbitrary bytes: framing with `parse_fixed_header`,
//! `parse_body` on the framed body, and `Packet::parse` on the whole input.
//! Nothing may panic; the two paths agree; whatever parses re-encodes to the
//! same bytes' meaning (parse(encode(p)) == p).
#![no_main]

use libfuzzer_sys::fuzz_target;
use umqtt_rs::wire::{parse_fixed_header, EncodeError, Packet};

fuzz_target!(|data: &[u8]| {
    let whole = Packet::parse(data);
    match parse_fixed_header(data) {
        Err(e) => assert_eq!(whole, Err(e)),
        Ok(None) => assert_eq!(whole, Ok(None)),
        Ok(Some(h)) => {
            assert!((2..=5).contains(&h.header_len));
            match data.get(h.header_len..h.packet_len()) {
                None => assert_eq!(whole, Ok(None)),
                Some(body) => {
                    let framed = Packet::parse_body(&h, body).map(|p| Some((p, h.packet_len())));
                    assert_eq!(whole, framed);
                }
            }
        }
    }
    if let Ok(Some((packet, n))) = whole {
        assert!(n <= data.len());
        let mut out = vec![0u8; n + 8];
        match packet.encode(&mut out) {
            Ok(m) => {
                assert_eq!(packet.encoded_len(), Ok(m));
                assert_eq!(Packet::parse(&out[..m]), Ok(Some((packet, m))));
            }
            // A server decides itself about an empty client id without
            // clean session; the encoder (a client) refuses it.
            Err(EncodeError::EmptyClientId) => {}
            Err(e) => panic!("{packet:?} parsed but does not encode: {e:?}"),
        }
    }
});
