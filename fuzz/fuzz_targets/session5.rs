//! The MQTT 5 session fed an arbitrary broker byte stream, cut at arbitrary
//! points, with arbitrary time steps, interleaved with the application's
//! calls -- driven in safe Rust by `tests/driver5` (the C ABI is 3.1.1
//! only so far), which asserts that the client only queues valid MQTT 5
//! client packets and keeps to the broker's limits.
#![no_main]

#[path = "../../tests/driver5/mod.rs"]
mod driver5;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    driver5::run(data);
});
