//! Fuzz target `session`: what it checks is in its body, `fuzz/targets/session.rs`,
//! which `tests/fuzz_corpus.rs` also runs (stable Rust, in `make test`)
//! over the committed corpus.
#![no_main]

#[path = "../../tests/harness/mod.rs"]
mod harness;
#[path = "../targets/session.rs"]
mod session;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| session::run(data));
