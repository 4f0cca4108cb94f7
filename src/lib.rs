//! umqtt_rs: an MQTT 3.1.1 client core for MicroPython firmware.
//!
//! The crate is `no_std` and never allocates.  It is layered:
//! - [`wire`]: checked views over received bytes and encoders for every
//!   MQTT 3.1.1 packet (and, with the `mqtt5` feature, every MQTT 5 packet
//!   and property).  No panic is reachable from peer bytes.
//! - [`session`]: a sans-IO state machine.  Bytes and a millisecond timestamp
//!   go in; events and bytes come out.  It never reads a clock or a socket.
//! - [`client`]: a thin blocking driver over `embedded-io` traits.
//! - `ffi`: the C ABI used by the MicroPython module, the one module allowed
//!   to use raw pointers (the lint in Cargo.toml denies them elsewhere).
#![no_std]
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic,
        clippy::cast_possible_truncation
    )
)]

#[cfg(test)]
extern crate std;

pub mod client;
pub mod ffi;
pub mod session;
pub mod wire;
