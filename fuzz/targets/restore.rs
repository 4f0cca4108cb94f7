//! Session restore from arbitrary bytes: each input is tried as it is and
//! behind a valid magic/version with a valid checksum (so the fuzzer reaches
//! the content checks).  Nothing may panic; a refused restore leaves the
//! session empty; what restores saves again to bytes that restore to the
//! same saved form (save is a fixed point after one round).

use umqtt_rs::session::{crc32, Session, Store, TxBuf, HELD_BITMAP_BYTES};

/// Restores `input` into a fresh session; the saved form when it worked.
fn restore_save(input: &[u8]) -> Option<Vec<u8>> {
    let (mut mem, mut store, mut bits) = ([0u8; 64], vec![0u8; 4096], vec![0u8; HELD_BITMAP_BYTES]);
    let mut tx =
        TxBuf::with_store(&mut mem, 0, Store::new(&mut store, 0)).with_held_bitmap(&mut bits);
    let mut s = Session::new();
    let extra = match s.restore(input, &mut tx) {
        Ok(extra) => extra,
        Err(_) => {
            assert_eq!(s.inflight_len(), 0, "a refused restore changes nothing");
            assert_eq!(s.held_len(), 0);
            return None;
        }
    };
    let mut out = vec![0u8; input.len() + 64];
    let n = s
        .save(&mut tx, extra, &mut out)
        .expect("fits: never longer than its input");
    out.truncate(n);
    Some(out)
}

/// One input.
pub fn run(data: &[u8]) {
    let mut framed = b"UMQS\x01".to_vec();
    framed.extend_from_slice(data);
    let crc = crc32(&framed);
    framed.extend_from_slice(&crc.to_be_bytes());
    for input in [data, &framed[..]] {
        if let Some(saved) = restore_save(input) {
            let again = restore_save(&saved).expect("a saved session restores");
            assert_eq!(again, saved);
        }
    }
}
