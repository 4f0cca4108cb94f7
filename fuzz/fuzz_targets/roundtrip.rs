//! Fuzz target `roundtrip`: what it checks is in its body, `fuzz/targets/roundtrip.rs`,
//! which `tests/fuzz_corpus.rs` also runs (stable Rust, in `make test`)
//! over the committed corpus.
#![no_main]

#[path = "../targets/roundtrip.rs"]
mod roundtrip;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| roundtrip::run(data));
