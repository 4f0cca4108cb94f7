//! A host-side driver of the C ABI (`umqtt_rs_*`), doing what
//! `micropython-glue/modumqtt_rs.c` does with the socket replaced by byte
//! slices: lend the rx window, commit bytes, loop `umqtt_rs_next_event`, grow
//! a buffer on `RX_TOO_SMALL` / `TX_FULL`, flush the tx queue, and call
//! `umqtt_rs_connection_lost` after a fatal status, lend the held-id bitmap on
//! `HELD_FULL`, write a large payload as the tx tail, and acknowledge each
//! message after "delivering" it (`umqtt_rs_ack`).  Shared by the fuzz
//! target `session` (through `#[path]`) and `tests/session_props.rs`.
//!
//! It also checks, on every call, what must hold whatever the broker sends:
//! every byte the client writes parses as a client-to-server packet, message
//! events carry a valid topic, and an outgoing packet id is never in use
//! twice (the model's set of in-flight ids agrees with the core's).
#![allow(unsafe_code, dead_code)]

use std::collections::BTreeSet;
use std::vec::Vec;

use umqtt_rs::ffi::sys::{self, umqtt_rs_status as St};
use umqtt_rs::ffi::*;
use umqtt_rs::wire::{validate_topic_name, Packet};

/// Largest buffer the driver agrees to grow to (a stand-in for free memory).
pub const MEMORY_LIMIT: usize = 1 << 16;

/// What one `pump` saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Seen {
    pub connected: bool,
    pub messages: Vec<(Vec<u8>, Vec<u8>, u8, u16)>,
    pub published: Vec<u16>,
    pub subscribed: Vec<u16>,
    pub unsubscribed: Vec<u16>,
    pub pongs: usize,
    /// The fatal status that closed the connection, if any.
    pub closed_by: Option<St>,
}

pub struct Driver {
    client: Box<sys::umqtt_rs_client_t>,
    rx: Vec<u8>,
    tx: Vec<u8>,
    store: Vec<u8>,
    /// The held-id bitmap, once the core asked for it.
    held: Vec<u8>,
    /// The payload of a publish whose tail the core waits to see written.
    tail: Vec<u8>,
    /// Bytes the client wrote since the last `connect`.
    pub sent: Vec<u8>,
    /// How far `sent` has been checked (whole packets).
    checked: usize,
    /// Outgoing QoS 1/2 ids the model believes in flight.
    pub inflight: BTreeSet<u16>,
    /// SUBSCRIBE/UNSUBSCRIBE ids awaiting their ack on this connection.
    pub requests: BTreeSet<u16>,
    pub open: bool,
}

impl Driver {
    /// A client with the given buffer sizes (`store_cap` 0: no resend).
    pub fn new(rx_cap: usize, tx_cap: usize, store_cap: usize) -> Self {
        let mut d = Driver {
            client: Box::new(sys::umqtt_rs_client_t {
                opaque: [0; sys::UMQTT_RS_CLIENT_WORDS as usize],
            }),
            rx: vec![0; rx_cap.max(1)],
            tx: vec![0; tx_cap.max(1)],
            store: vec![0; store_cap],
            held: Vec::new(),
            tail: Vec::new(),
            sent: Vec::new(),
            checked: 0,
            inflight: BTreeSet::new(),
            requests: BTreeSet::new(),
            open: false,
        };
        // SAFETY: the block and both buffers live as long as the driver.
        unsafe {
            umqtt_rs_init(
                &mut *d.client,
                d.rx.as_mut_ptr(),
                d.rx.len(),
                d.tx.as_mut_ptr(),
                d.tx.len(),
                d.store.as_mut_ptr(),
                d.store.len(),
            )
        };
        d
    }

    fn c(&mut self) -> *mut sys::umqtt_rs_client_t {
        &mut *self.client
    }

    fn detail(&mut self) -> usize {
        // SAFETY: initialised in `new`.
        unsafe { umqtt_rs_error_detail(self.c()) as usize }
    }

    /// Starts a connection as `connect()` does (the transport is "open").
    pub fn connect(&mut self, now: u64, clean: bool, keepalive: u16) -> St {
        let id = b"fuzz";
        let opts = sys::umqtt_rs_connect_opts_t {
            client_id: sys::umqtt_rs_bytes_t {
                ptr: id.as_ptr(),
                len: id.len(),
            },
            user: sys::umqtt_rs_bytes_t {
                ptr: std::ptr::null(),
                len: 0,
            },
            password: sys::umqtt_rs_bytes_t {
                ptr: std::ptr::null(),
                len: 0,
            },
            will_topic: sys::umqtt_rs_bytes_t {
                ptr: std::ptr::null(),
                len: 0,
            },
            will_message: sys::umqtt_rs_bytes_t {
                ptr: std::ptr::null(),
                len: 0,
            },
            keepalive_s: keepalive,
            will_qos: 0,
            will_retain: false,
            clean_session: clean,
        };
        // SAFETY: initialised; opts and its strings outlive the call.
        let st = unsafe { umqtt_rs_connect(self.c(), now, &opts) };
        if st == St::UMQTT_RS_OK {
            self.sent.clear();
            self.checked = 0;
            self.requests.clear();
            self.open = true;
            if clean {
                self.inflight.clear();
            }
        }
        self.forget_dropped();
        st
    }

    /// Messages the core cannot resend (no store) end with the connection:
    /// the model forgets what the core forgot, never the other way round.
    fn forget_dropped(&mut self) {
        let c = self.c();
        // SAFETY: initialised.
        self.inflight
            .retain(|&pid| unsafe { umqtt_rs_is_inflight(c, pid) });
        self.check_counts();
    }

    /// The transport failed or was closed.
    pub fn lose(&mut self) {
        // SAFETY: initialised.
        unsafe { umqtt_rs_connection_lost(self.c()) };
        self.open = false;
        self.requests.clear();
        self.forget_dropped();
    }

    /// Writes up to `limit` pending bytes to the "transport": the tx queue,
    /// then the tail (the rest of a large payload), as the glue's flush().
    pub fn flush(&mut self, limit: usize) {
        let mut p = std::ptr::null();
        let mut n = 0;
        // SAFETY: initialised; out-pointers valid.
        unsafe { umqtt_rs_tx_pending(self.c(), &mut p, &mut n) };
        let n = n.min(limit);
        if n > 0 {
            // SAFETY: the core lends `n` readable bytes until the next call.
            let bytes = unsafe { std::slice::from_raw_parts(p, n) };
            self.sent.extend_from_slice(bytes);
            // SAFETY: initialised.
            unsafe { umqtt_rs_tx_consume(self.c(), n) };
        }
        // SAFETY: initialised.
        let tail = unsafe { umqtt_rs_tx_tail(self.c()) };
        let room = limit - n;
        if tail > 0 && room > 0 && n == 0 {
            assert!(tail <= self.tail.len(), "the tail is part of the payload");
            let from = self.tail.len() - tail;
            let m = tail.min(room);
            self.sent.extend_from_slice(&self.tail[from..from + m]);
            // SAFETY: initialised.
            unsafe { umqtt_rs_tx_consume(self.c(), m) };
        }
        self.check_sent();
    }

    /// Bytes waiting to be written, the tail included.
    pub fn pending(&mut self) -> usize {
        let mut p = std::ptr::null();
        let mut n = 0;
        // SAFETY: initialised; out-pointers valid.
        unsafe { umqtt_rs_tx_pending(self.c(), &mut p, &mut n) };
        // SAFETY: initialised.
        n + unsafe { umqtt_rs_tx_tail(self.c()) }
    }

    fn grow_tx(&mut self, need: usize) -> bool {
        if need > MEMORY_LIMIT {
            return false;
        }
        let mut tx = vec![0; need];
        tx[..self.tx.len()].copy_from_slice(&self.tx);
        self.tx = tx;
        // SAFETY: the new buffer starts with the old one's bytes.
        unsafe { umqtt_rs_set_tx_buffer(self.c(), self.tx.as_mut_ptr(), self.tx.len()) };
        true
    }

    fn grow_store(&mut self, need: usize) -> bool {
        if need > MEMORY_LIMIT {
            return false;
        }
        let mut store = vec![0; need];
        store[..self.store.len()].copy_from_slice(&self.store);
        self.store = store;
        // SAFETY: the new buffer starts with the old one's bytes.
        unsafe { umqtt_rs_set_store_buffer(self.c(), self.store.as_mut_ptr(), self.store.len()) };
        true
    }

    fn grow_rx(&mut self, need: usize) -> bool {
        if need > MEMORY_LIMIT {
            return false;
        }
        let mut rx = vec![0; need];
        let keep = self.rx.len().min(need);
        rx[..keep].copy_from_slice(&self.rx[..keep]);
        self.rx = rx;
        // SAFETY: the new buffer starts with the old one's bytes.
        unsafe { umqtt_rs_set_rx_buffer(self.c(), self.rx.as_mut_ptr(), self.rx.len()) };
        true
    }

    /// Closes the connection after a fatal status, as the glue does.
    fn fatal(&mut self, seen: &mut Seen, st: St) {
        seen.closed_by = Some(st);
        self.lose();
    }

    /// Feeds broker bytes and handles every complete packet, as
    /// `check_msg()` does.  Returns what the application would see.
    pub fn receive(&mut self, now: u64, mut bytes: &[u8]) -> Seen {
        let mut seen = Seen::default();
        if !self.open {
            return seen;
        }
        loop {
            self.pump(now, &mut seen);
            if !self.open || bytes.is_empty() {
                return seen;
            }
            let mut win = std::ptr::null_mut();
            let mut len = 0;
            // SAFETY: initialised; out-pointers valid.
            unsafe { umqtt_rs_rx_window(self.c(), &mut win, &mut len) };
            assert!(
                len > 0,
                "the core asks for a larger buffer before the window is empty"
            );
            let n = len.min(bytes.len());
            // SAFETY: the window is `len` writable bytes.
            unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), win, n) };
            // SAFETY: initialised.
            unsafe { umqtt_rs_rx_commit(self.c(), n) };
            bytes = &bytes[n..];
        }
    }

    /// Handles buffered packets until none is complete.
    fn pump(&mut self, now: u64, seen: &mut Seen) {
        for _ in 0..100_000 {
            self.flush(usize::MAX);
            let mut ev = sys::umqtt_rs_event_t {
                topic: std::ptr::null(),
                topic_len: 0,
                payload: std::ptr::null(),
                payload_len: 0,
                offset: 0,
                total: 0,
                props: sys::umqtt_rs_bytes_t {
                    ptr: std::ptr::null(),
                    len: 0,
                },
                pid: 0,
                kind: 0,
                qos: 0,
                retain: false,
                dup: false,
                session_present: false,
                reason: 0,
            };
            // SAFETY: initialised; ev writable.
            let st = unsafe { umqtt_rs_next_event(self.c(), now, &mut ev) };
            match st {
                St::UMQTT_RS_OK => {}
                St::UMQTT_RS_ERR_TX_FULL => {
                    let need = self.detail();
                    if need > self.tx.len() && !self.grow_tx(need) {
                        return self.fatal(seen, st);
                    }
                    continue;
                }
                St::UMQTT_RS_ERR_RX_TOO_SMALL => {
                    let need = self.detail();
                    assert!(need > self.rx.len(), "RX_TOO_SMALL asks for more");
                    if !self.grow_rx(need) {
                        return self.fatal(seen, st);
                    }
                    continue;
                }
                St::UMQTT_RS_ERR_HELD_FULL => {
                    assert!(self.held.is_empty(), "the bitmap is asked for once");
                    self.held = vec![0xa5; sys::UMQTT_RS_HELD_BITMAP_BYTES as usize];
                    // SAFETY: the bitmap lives as long as the driver.
                    unsafe {
                        umqtt_rs_set_held_buffer(self.c(), self.held.as_mut_ptr(), self.held.len())
                    };
                    continue;
                }
                _ => return self.fatal(seen, st),
            }
            self.check_event(&ev, seen);
            if ev.kind == sys::umqtt_rs_event_kind::UMQTT_RS_EV_MESSAGE as u8 && ev.qos > 0 {
                // Delivered: acknowledge, as the glue does after the callbacks.
                // SAFETY: initialised.
                let st = unsafe { umqtt_rs_ack(self.c(), now, ev.pid) };
                assert_eq!(st, St::UMQTT_RS_OK, "an ack never fails");
            }
            if ev.kind == sys::umqtt_rs_event_kind::UMQTT_RS_EV_NONE as u8 {
                // As the glue's run(): the timers (and the resends waiting
                // for tx space) run before waiting for the transport.
                self.flush(usize::MAX);
                // SAFETY: initialised.
                let st = unsafe { umqtt_rs_poll(self.c(), now) };
                match st {
                    St::UMQTT_RS_OK | St::UMQTT_RS_ERR_TX_FULL => {}
                    _ => return self.fatal(seen, st),
                }
                let before = self.sent.len();
                self.flush(usize::MAX);
                if self.sent.len() == before {
                    return;
                }
            }
        }
        panic!("next_event never ran out of packets");
    }

    fn check_event(&mut self, ev: &sys::umqtt_rs_event_t, seen: &mut Seen) {
        use sys::umqtt_rs_event_kind as K;
        let bytes = |p: *const u8, n: usize| {
            if n == 0 {
                Vec::new()
            } else {
                // SAFETY: the event borrows the rx buffer until the next call.
                unsafe { std::slice::from_raw_parts(p, n) }.to_vec()
            }
        };
        match ev.kind {
            k if k == K::UMQTT_RS_EV_NONE as u8 => {}
            k if k == K::UMQTT_RS_EV_CONNECTED as u8 => seen.connected = true,
            k if k == K::UMQTT_RS_EV_MESSAGE as u8 => {
                let topic = bytes(ev.topic, ev.topic_len);
                let t = std::str::from_utf8(&topic).expect("message topic is UTF-8");
                assert_eq!(validate_topic_name(t), Ok(()), "message topic is valid");
                assert!(ev.qos <= 2);
                assert_eq!(ev.qos == 0, ev.pid == 0, "packet id iff QoS > 0");
                let payload = bytes(ev.payload, ev.payload_len);
                seen.messages.push((topic, payload, ev.qos, ev.pid));
            }
            k if k == K::UMQTT_RS_EV_PUBLISHED as u8 => {
                assert!(
                    self.inflight.remove(&ev.pid),
                    "PUBLISHED {} was in flight",
                    ev.pid
                );
                seen.published.push(ev.pid);
            }
            k if k == K::UMQTT_RS_EV_SUBSCRIBED as u8 => {
                assert!(
                    self.requests.remove(&ev.pid),
                    "SUBACK {} was awaited",
                    ev.pid
                );
                let codes = bytes(ev.payload, ev.payload_len);
                assert!(!codes.is_empty() && codes.iter().all(|c| matches!(c, 0..=2 | 0x80)));
                seen.subscribed.push(ev.pid);
            }
            k if k == K::UMQTT_RS_EV_UNSUBSCRIBED as u8 => {
                assert!(
                    self.requests.remove(&ev.pid),
                    "UNSUBACK {} was awaited",
                    ev.pid
                );
                seen.unsubscribed.push(ev.pid);
            }
            k if k == K::UMQTT_RS_EV_PONG as u8 => seen.pongs += 1,
            k => panic!("unknown event kind {k}"),
        }
        self.check_counts();
    }

    /// Publishes as `publish()` does (a payload larger than the tx buffer
    /// goes out separately).  Returns the status and the packet id.
    pub fn publish(&mut self, now: u64, topic: &[u8], payload: &[u8], qos: u8) -> (St, u16) {
        let mut pid = 0;
        let mut separate = false;
        let mut st;
        loop {
            // SAFETY: initialised; topic and payload readable; outs writable.
            st = unsafe {
                umqtt_rs_publish(
                    self.c(),
                    now,
                    sys::umqtt_rs_bytes_t {
                        ptr: topic.as_ptr(),
                        len: topic.len(),
                    },
                    sys::umqtt_rs_bytes_t {
                        ptr: payload.as_ptr(),
                        len: payload.len(),
                    },
                    qos,
                    false,
                    &mut pid,
                    &mut separate,
                )
            };
            let need = self.detail();
            match st {
                St::UMQTT_RS_ERR_TX_FULL if need > self.tx.len() => {
                    if !self.grow_tx(need) {
                        return (st, 0);
                    }
                }
                St::UMQTT_RS_ERR_TX_FULL => self.flush(usize::MAX),
                St::UMQTT_RS_ERR_STORE_FULL if need > self.store.len() => {
                    if !self.grow_store(need) {
                        return (st, 0);
                    }
                }
                // INFLIGHT_FULL, STORE_FULL: the application waits for acks.
                _ => break,
            }
        }
        if st == St::UMQTT_RS_OK {
            if separate {
                // SAFETY: initialised.
                assert_eq!(unsafe { umqtt_rs_tx_tail(self.c()) }, payload.len());
                self.tail = payload.to_vec();
            }
            while self.pending() > 0 {
                self.flush(usize::MAX);
            }
            if qos > 0 {
                self.take_id(pid);
                assert!(
                    self.inflight.insert(pid),
                    "publish id {pid} already in flight"
                );
            } else {
                assert_eq!(pid, 0);
            }
        }
        self.check_counts();
        (st, pid)
    }

    /// Subscribes (or unsubscribes) one filter; returns the status and id.
    pub fn request(&mut self, now: u64, filter: &[u8], qos: u8, sub: bool) -> (St, u16) {
        let entry = sys::umqtt_rs_topic_t {
            filter: sys::umqtt_rs_bytes_t {
                ptr: filter.as_ptr(),
                len: filter.len(),
            },
            qos,
            no_local: false,
            retain_as_published: false,
            retain_handling: 0,
        };
        let mut pid = 0;
        let mut st;
        loop {
            // SAFETY: initialised; entry readable; pid writable.
            st = unsafe {
                if sub {
                    umqtt_rs_subscribe(self.c(), now, &entry, 1, &mut pid)
                } else {
                    umqtt_rs_unsubscribe(self.c(), now, &entry, 1, &mut pid)
                }
            };
            if st != St::UMQTT_RS_ERR_TX_FULL {
                break;
            }
            let need = self.detail();
            if need > self.tx.len() {
                if !self.grow_tx(need) {
                    return (st, 0);
                }
            } else {
                self.flush(usize::MAX);
            }
        }
        if st == St::UMQTT_RS_OK {
            self.flush(usize::MAX);
            self.take_id(pid);
            assert!(self.requests.insert(pid));
        }
        (st, pid)
    }

    /// A new id must be nonzero and used by nothing awaiting an ack.
    fn take_id(&self, pid: u16) {
        assert_ne!(pid, 0, "packet id 0");
        assert!(
            !self.inflight.contains(&pid),
            "id {pid} reused while in flight"
        );
        assert!(
            !self.requests.contains(&pid),
            "id {pid} reused while a request awaits it"
        );
    }

    pub fn ping(&mut self, now: u64) -> St {
        // SAFETY: initialised.
        let st = unsafe { umqtt_rs_ping(self.c(), now) };
        self.flush(usize::MAX);
        st
    }

    pub fn disconnect(&mut self) -> St {
        // SAFETY: initialised.
        let st = unsafe { umqtt_rs_disconnect(self.c()) };
        self.flush(usize::MAX);
        self.lose();
        st
    }

    /// Runs the timers; a fatal status closes the connection.
    pub fn poll(&mut self, now: u64) -> St {
        // SAFETY: initialised.
        let st = unsafe { umqtt_rs_poll(self.c(), now) };
        match st {
            St::UMQTT_RS_OK | St::UMQTT_RS_ERR_NOT_CONNECTED => {}
            St::UMQTT_RS_ERR_TX_FULL => self.flush(usize::MAX),
            _ => self.lose(),
        }
        self.flush(usize::MAX);
        st
    }

    pub fn poll_at(&mut self) -> Option<u64> {
        let mut at = 0;
        // SAFETY: initialised; at writable.
        unsafe { umqtt_rs_poll_at(self.c(), &mut at) }.then_some(at)
    }

    pub fn is_connected(&mut self) -> bool {
        // SAFETY: initialised.
        unsafe { umqtt_rs_is_connected(self.c()) }
    }

    /// The core and the model agree on the in-flight ids.
    fn check_counts(&mut self) {
        // SAFETY: initialised.
        let n = unsafe { umqtt_rs_inflight(self.c()) };
        assert_eq!(n, self.inflight.len(), "in-flight count");
        let c = self.c();
        for &pid in &self.inflight {
            // SAFETY: initialised.
            assert!(unsafe { umqtt_rs_is_inflight(c, pid) }, "{pid} in flight");
        }
    }

    /// Every complete packet the client wrote is a valid client packet.
    fn check_sent(&mut self) {
        loop {
            let rest = &self.sent[self.checked..];
            match Packet::parse(rest) {
                Ok(Some((p, n))) => {
                    assert!(
                        matches!(
                            p,
                            Packet::Connect(_)
                                | Packet::Publish(_)
                                | Packet::Puback(_)
                                | Packet::Pubrec(_)
                                | Packet::Pubrel(_)
                                | Packet::Pubcomp(_)
                                | Packet::Subscribe(_)
                                | Packet::Unsubscribe(_)
                                | Packet::Pingreq
                                | Packet::Disconnect
                        ),
                        "client sent {p:?}"
                    );
                    self.checked += n;
                }
                Ok(None) => return,
                Err(e) => panic!("client sent malformed bytes ({e}): {rest:02x?}"),
            }
        }
    }

    /// Complete packets the client sent since `from` (an offset into `sent`).
    pub fn sent_packets(&self, from: usize) -> Vec<(Vec<u8>, usize)> {
        let mut out = Vec::new();
        let mut at = from;
        while let Ok(Some((_, n))) = Packet::parse(&self.sent[at..]) {
            out.push((self.sent[at..at + n].to_vec(), at + n));
            at += n;
        }
        out
    }
}
