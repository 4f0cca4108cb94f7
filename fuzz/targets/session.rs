//! The client session fed an arbitrary broker byte stream, cut at arbitrary
//! points, with arbitrary time steps, interleaved with the application's
//! calls (publish, subscribe, unsubscribe, ping, disconnect, reconnect) --
//! all through the C ABI, driven as the MicroPython glue drives it
//! (`tests/harness`: rx window, next_event loop, buffer growth, flushes,
//! connection_lost after a fatal status).  The harness asserts on every step
//! that the client only writes valid client packets, that message events are
//! well-formed and that no packet id is ever in use twice.

use crate::harness::Driver;
use umqtt_rs::ffi::sys::umqtt_rs_status as St;

const TOPICS: [&[u8]; 6] = [b"a/b", b"t", b"\xc3\xa9/x", b"a/+", b"", b"\xff"];
const FILTERS: [&[u8]; 5] = [b"a/#", b"+/b", b"t", b"a/#/b", b""];

struct Input<'a>(&'a [u8]);

impl<'a> Input<'a> {
    fn u8(&mut self) -> Option<u8> {
        let (&b, rest) = self.0.split_first()?;
        self.0 = rest;
        Some(b)
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let (head, tail) = self.0.split_at(n.min(self.0.len()));
        self.0 = tail;
        head
    }
}

/// One input.
pub fn run(data: &[u8]) {
    let mut i = Input(data);
    let (Some(rx), Some(tx), Some(ka)) = (i.u8(), i.u8(), i.u8()) else {
        return;
    };
    // Bit 0 of the keepalive byte: no message store (no resend).
    let store = if ka & 1 == 1 {
        0
    } else {
        64 + usize::from(tx) * 4
    };
    let mut d = Driver::new(16 + usize::from(rx) * 2, 16 + usize::from(tx) * 2, store);
    let ka = ka >> 1;
    let mut now: u64 = 1_000;
    d.connect(now, true, u16::from(ka % 8));
    while let Some(op) = i.u8() {
        let arg = i.u8().unwrap_or(0);
        match op % 16 {
            // Broker bytes: a chunk of `arg` bytes, the common case.
            0..=6 => {
                let chunk = i.take(usize::from(arg));
                d.receive(now, chunk);
            }
            // Time passes, the timers run.
            7 => {
                now = now.saturating_add(u64::from(arg) * 97);
                if d.poll(now) == St::UMQTT_RS_OK {
                    if let Some(at) = d.poll_at() {
                        assert!(at > now, "a timer that ran is not due again at once");
                    }
                }
            }
            8 | 9 => {
                let topic = TOPICS[usize::from(arg) % TOPICS.len()];
                let len = usize::from(i.u8().unwrap_or(0)) * 3;
                let payload = vec![0x5a; len];
                d.publish(now, topic, &payload, (arg >> 4) % 3);
            }
            10 => {
                let f = FILTERS[usize::from(arg) % FILTERS.len()];
                d.request(now, f, (arg >> 4) % 3, arg & 0x80 == 0);
            }
            11 => {
                d.ping(now);
            }
            12 => {
                d.disconnect();
            }
            13 => {
                // Reconnect (the transport dropped or the app reconnects).
                d.lose();
                d.connect(now, arg & 1 == 1, u16::from(arg >> 5));
            }
            // A partial write: only some pending bytes go out.
            14 => d.flush(usize::from(arg)),
            _ => {
                // A large time jump (keepalive and CONNACK timeouts).
                now = now.saturating_add(u64::from(arg) * 10_000);
                d.poll(now);
            }
        }
    }
}
