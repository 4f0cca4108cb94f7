//! Fuzz target `decode`: what it checks is in its body, `fuzz/targets/decode.rs`,
//! which `tests/fuzz_corpus.rs` also runs (stable Rust, in `make test`)
//! over the committed corpus.
#![no_main]

#[path = "../targets/decode.rs"]
mod decode;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| decode::run(data));
