//! The packet decoders on arbitrary bytes, in both protocol versions:
//! framing with `parse_fixed_header_for`, `parse_body` on the framed body,
//! and `parse` on the whole input.  Nothing may panic; the two paths agree;
//! whatever parses re-encodes to the same bytes' meaning
//! (parse(encode(p)) == p), for MQTT 3.1.1 (`Packet`) and MQTT 5
//! (`v5::Packet`, properties and reason codes included); and `v5::Packet`
//! read as 3.1.1 agrees with `Packet` on everything.

use umqtt_rs::wire::{parse_fixed_header_for, v5, EncodeError, Packet, Version};

/// Run one version's decoder over `data` with the same checks.
macro_rules! check_version {
    ($data:expr, $version:expr, $packet:ty) => {{
        let data: &[u8] = $data;
        let whole = <$packet>::parse(data);
        match parse_fixed_header_for(data, $version) {
            Err(e) => assert_eq!(whole, Err(e)),
            Ok(None) => assert_eq!(whole, Ok(None)),
            Ok(Some(h)) => {
                assert!((2..=5).contains(&h.header_len));
                match data.get(h.header_len..h.packet_len()) {
                    None => assert_eq!(whole, Ok(None)),
                    Some(body) => {
                        let framed =
                            <$packet>::parse_body(&h, body).map(|p| Some((p, h.packet_len())));
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
                    assert_eq!(<$packet>::parse(&out[..m]), Ok(Some((packet, m))));
                }
                // A server decides itself about an empty client id without
                // clean session; the encoder (a client) refuses it.
                Err(EncodeError::EmptyClientId) => {}
                // A failure code outside the packet's list is read
                // (ReasonCode::received_in), never sent.
                Err(EncodeError::BadReturnCode(c)) if c >= 0x80 => {}
                Err(e) => panic!("{packet:?} parsed but does not encode: {e:?}"),
            }
        }
    }};
}

/// One input.
pub fn run(data: &[u8]) {
    check_version!(data, Version::V311, Packet<'_>);
    check_version!(data, Version::V5, v5::Packet<'_>);
    // One representation for both versions: `v5::Packet` with V311 reads
    // what `Packet` reads, refuses what it refuses, writes the same bytes.
    let generic = v5::Packet::parse_for(data, Version::V311);
    match Packet::parse(data) {
        Ok(Some((p, n))) => {
            let Ok(Some((g, m))) = generic else {
                panic!("{p:?} parsed, not as v5::Packet: {generic:?}")
            };
            assert_eq!(m, n);
            let (mut a, mut b) = (vec![0u8; n + 8], vec![0u8; n + 8]);
            let a = p.encode(&mut a).map(|k| a[..k].to_vec());
            let b = g.encode_for(&mut b, Version::V311).map(|k| b[..k].to_vec());
            assert_eq!(a, b);
        }
        other => assert_eq!(other.map(|_| None::<()>), generic.map(|_| None)),
    }
}
