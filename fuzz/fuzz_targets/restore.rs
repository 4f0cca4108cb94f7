//! Fuzz target `restore`: what it checks is in its body, `fuzz/targets/restore.rs`,
//! which `tests/fuzz_corpus.rs` also runs (stable Rust, in `make test`)
//! over the committed corpus.
#![no_main]

#[path = "../targets/restore.rs"]
mod restore;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| restore::run(data));
