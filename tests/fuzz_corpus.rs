//! The fuzz targets' bodies (`fuzz/targets/`, `tests/driver5`) run on stable
//! Rust in `make test`, so that CI checks them without a fuzzer: over every
//! input of the committed corpus (`fuzz/corpus/<target>/`), and over
//! mutations of each drawn by a fixed-seed generator (bits flipped, bytes
//! replaced, inserted and removed, the input cut short or spliced with
//! another), `MUTATIONS` per input.  A failure names the target, the corpus
//! file and the mutation; `make fuzz` (libFuzzer, nightly) searches further.
#![cfg(feature = "mqtt5")]

mod driver5;
mod harness;

#[path = "../fuzz/targets/decode.rs"]
mod decode;
#[path = "../fuzz/targets/restore.rs"]
mod restore;
#[path = "../fuzz/targets/roundtrip.rs"]
mod roundtrip;
#[path = "../fuzz/targets/session.rs"]
mod session;

use std::fs;
use std::panic;
use std::path::PathBuf;

/// Mutated inputs tried per corpus input.
const MUTATIONS: usize = 5000;

/// xorshift64*: the same inputs on every run and machine.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// 0..n (n > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A few random edits of `input`; `other` is another corpus input to
/// splice from.
fn mutate(rng: &mut Rng, input: &[u8], other: &[u8]) -> Vec<u8> {
    let mut v = input.to_vec();
    for _ in 0..=rng.below(4) {
        match rng.below(6) {
            0 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] ^= 1 << rng.below(8);
            }
            1 if !v.is_empty() => {
                let i = rng.below(v.len());
                v[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(v.len() + 1);
                v.insert(i, rng.next() as u8);
            }
            3 if !v.is_empty() => {
                let i = rng.below(v.len());
                v.remove(i);
            }
            4 => {
                let n = rng.below(v.len() + 1);
                v.truncate(n);
            }
            _ => {
                let at = rng.below(v.len() + 1);
                let from = rng.below(other.len() + 1);
                v.truncate(at);
                v.extend_from_slice(&other[from..]);
            }
        }
    }
    v
}

/// The committed corpus of `target`, sorted by name (never empty: the
/// seeds are part of the repository).
fn corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir: PathBuf = [env!("CARGO_MANIFEST_DIR"), "fuzz", "corpus", target]
        .iter()
        .collect();
    let mut inputs: Vec<(String, Vec<u8>)> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            )
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty(), "{}: no seeds", dir.display());
    inputs
}

/// Runs `body` on each corpus input of `target` and its mutations.
fn replay(target: &str, body: fn(&[u8])) {
    let inputs = corpus(target);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
    for (k, (name, input)) in inputs.iter().enumerate() {
        let other = &inputs[(k + 1) % inputs.len()].1;
        let run = |what: &str, data: &[u8]| {
            if panic::catch_unwind(|| body(data)).is_err() {
                panic!("fuzz target {target}, corpus {name}, {what}: input {data:02x?}");
            }
        };
        run("as committed", input);
        for m in 0..MUTATIONS {
            let data = mutate(&mut rng, input, other);
            run(&format!("mutation {m}"), &data);
        }
    }
}

#[test]
fn decode() {
    replay("decode", decode::run);
}

#[test]
fn roundtrip() {
    replay("roundtrip", roundtrip::run);
}

#[test]
fn restore() {
    replay("restore", restore::run);
}

#[test]
fn session() {
    replay("session", session::run);
}

#[test]
fn session5() {
    replay("session5", |data| {
        driver5::run(data);
    });
}
