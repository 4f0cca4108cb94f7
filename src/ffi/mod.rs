//! The C ABI of `micropython-glue/umqtt_rs.h`: the only `unsafe` code.
//!
//! The glue owns all memory: a [`sys::umqtt_rs_client_t`] block holding
//! `State`, an rx buffer, a tx buffer, the message store and (when a broker
//! needs it) the held-id bitmap.  Every function here turns the raw pointers
//! into safe references once, then calls the safe [`Session`], [`RxBuf`],
//! [`TxBuf`] and `wire` code; no function keeps a borrow past its return, and
//! none calls back into C.
//!
//! The tx queue has a *tail*: the payload of a publish larger than the tx
//! buffer, written by the glue from the caller's object after the queued
//! bytes.  While a tail is pending the session sees a full tx buffer, so
//! nothing can be queued behind it and bytes never go out of order.  Each export is tied to the header's prototype at compile time
//! (see `abi_check`), so a mismatch between `umqtt_rs.h` and this file does not
//! build.
#![allow(unsafe_code)]
// The generated bindings follow C naming.
#![allow(non_camel_case_types)]

#[allow(
    dead_code,
    unused_imports,
    non_upper_case_globals,
    non_snake_case,
    clippy::all
)]
pub mod bindings;
#[cfg(feature = "mqtt5")]
mod v5;

use core::mem::{align_of, size_of};
use core::ptr;
use core::slice;

pub use bindings as sys;
use sys::{
    umqtt_rs_argument_error as Ae, umqtt_rs_bytes_t, umqtt_rs_client_t, umqtt_rs_connect_opts_t,
    umqtt_rs_decode_error as De, umqtt_rs_event_kind as Ek, umqtt_rs_event_t,
    umqtt_rs_protocol_error as Pe, umqtt_rs_session_error as Se, umqtt_rs_status as St,
    umqtt_rs_topic_error as Te, umqtt_rs_topic_t,
};

#[cfg(not(feature = "mqtt5"))]
use crate::session::Frame;
use crate::session::{
    Error, Event, OutgoingFlow, ProtocolError, RestoreError, RxBuf, RxParts, Session, Store, TxBuf,
};
#[cfg(not(feature = "mqtt5"))]
use crate::wire::Packet;
use crate::wire::{Connect, DecodeError, EncodeError, PacketType, Publish, QoS, TopicError, Will};

/// Most entries one SUBSCRIBE or UNSUBSCRIBE call may carry.
pub const MAX_TOPICS_PER_CALL: usize = 8;

/// The Rust state stored in the glue's `umqtt_rs_client_t` block.
struct State {
    session: Session,
    rx: *mut u8,
    rx_cap: usize,
    /// Where the rx bytes stand (the packet the last event borrows is lent).
    rx_at: RxParts,
    /// Payloads larger than this come in pieces (0: never).
    chunk: usize,
    tx: *mut u8,
    tx_cap: usize,
    tx_len: usize,
    /// Payload bytes still to write after `tx[..tx_len]` (see the module doc).
    tx_tail: usize,
    /// The message whose resend asked for the tail (0: the glue's publish).
    tail_pid: u16,
    store: *mut u8,
    store_cap: usize,
    store_used: usize,
    /// The held-id bitmap; null until the glue lends one.
    held: *mut u8,
    held_cap: usize,
    /// MQTT 5's incoming topic alias map; null until the glue lends one.
    #[cfg(feature = "mqtt5")]
    alias: *mut u8,
    #[cfg(feature = "mqtt5")]
    alias_cap: usize,
    /// MQTT 5's outgoing topic alias map; null: no aliases sent.
    #[cfg(feature = "mqtt5")]
    out_alias: *mut u8,
    #[cfg(feature = "mqtt5")]
    out_alias_cap: usize,
    detail: u32,
}

const _: () = assert!(size_of::<State>() <= size_of::<umqtt_rs_client_t>());
const _: () = assert!(align_of::<State>() <= align_of::<umqtt_rs_client_t>());

/// # Safety
/// `client` must point to a block initialised by [`umqtt_rs_init`], not used
/// by anyone else during the call.
unsafe fn state<'a>(client: *mut umqtt_rs_client_t) -> &'a mut State {
    // SAFETY: per the function contract, the block holds a valid State.
    unsafe { &mut *client.cast::<State>() }
}

/// # Safety
/// As [`state`], shared access.
unsafe fn state_ref<'a>(client: *const umqtt_rs_client_t) -> &'a State {
    // SAFETY: per the function contract, the block holds a valid State.
    unsafe { &*client.cast::<State>() }
}

/// A mutable slice, empty for a null pointer or length 0.
///
/// # Safety
/// `ptr` must point to `len` writable bytes used by nothing else, or `len`
/// must be 0.
unsafe fn raw_slice_mut<'a>(ptr: *mut u8, len: usize) -> &'a mut [u8] {
    if ptr.is_null() || len == 0 {
        &mut []
    } else {
        // SAFETY: per the function contract.
        unsafe { slice::from_raw_parts_mut(ptr, len) }
    }
}

/// # Safety
/// `b.ptr` must point to `b.len` readable bytes, or `b.len` must be 0.
unsafe fn bytes<'a>(b: umqtt_rs_bytes_t) -> &'a [u8] {
    if b.ptr.is_null() || b.len == 0 {
        &[]
    } else {
        // SAFETY: per the function contract.
        unsafe { slice::from_raw_parts(b.ptr, b.len) }
    }
}

/// # Safety
/// As [`bytes`]; `None` when `b.ptr` is null.
unsafe fn opt_bytes<'a>(b: umqtt_rs_bytes_t) -> Option<&'a [u8]> {
    if b.ptr.is_null() {
        None
    } else {
        // SAFETY: per the function contract.
        Some(unsafe { bytes(b) })
    }
}

impl State {
    /// Runs `f` with the session and the tx queue, store and held-id
    /// bitmap, keeping their fill levels.  While a tail is pending the
    /// queue is lent without free space: nothing may go behind the tail.
    fn with_tx<R>(&mut self, f: impl FnOnce(&mut Session, &mut TxBuf<'_>) -> R) -> R {
        // SAFETY: `tx` lives only in this call.
        let mut tx = unsafe { self.tx_buf() };
        let r = f(&mut self.session, &mut tx);
        self.keep_tx(&tx);
        r
    }

    /// [`with_tx`](Self::with_tx) with the `TxBuf` built inline: for the
    /// per-packet paths only (receive, publish), where the call costs more
    /// than the code.
    #[inline(always)]
    fn with_tx_inline<R>(&mut self, f: impl FnOnce(&mut Session, &mut TxBuf<'_>) -> R) -> R {
        // SAFETY: `tx` lives only in this call.
        let mut tx = unsafe { self.tx_buf_inline() };
        let r = f(&mut self.session, &mut tx);
        self.tx_len = tx.len();
        self.store_used = tx.store().used();
        (self.tx_tail, self.tail_pid) = tx.tail();
        r
    }

    /// The tx queue, store and held-id bitmap as a `TxBuf`, with an
    /// unbounded lifetime so that the session (a disjoint field) can be
    /// borrowed beside it.  Not inlined: every export uses it, and firmware
    /// size counts.
    ///
    /// # Safety
    /// The result must not outlive the call it is made in, and no other
    /// reference to these buffers may exist meanwhile.
    #[inline(never)]
    unsafe fn tx_buf<'a>(&self) -> TxBuf<'a> {
        // SAFETY: as this function's contract.
        unsafe { self.tx_buf_inline() }
    }

    /// See [`tx_buf`](Self::tx_buf).
    ///
    /// # Safety
    /// As [`tx_buf`](Self::tx_buf).
    #[inline(always)]
    unsafe fn tx_buf_inline<'a>(&self) -> TxBuf<'a> {
        let visible = if self.tx_tail > 0 {
            self.tx_len
        } else {
            self.tx_cap
        };
        // SAFETY: `tx`, `store` and `held` point to `tx_cap` / `store_cap` /
        // `held_cap` writable bytes owned by the glue for the life of the
        // client (umqtt_rs_init and the umqtt_rs_set_*_buffer calls), distinct
        // allocations used by nothing else during the call (the function
        // contract); `visible` is at most `tx_cap`.
        let (buf, store, held) = unsafe {
            (
                raw_slice_mut(self.tx, visible.min(self.tx_cap)),
                raw_slice_mut(self.store, self.store_cap),
                raw_slice_mut(self.held, self.held_cap),
            )
        };
        let mut tx = TxBuf::with_store(buf, self.tx_len, Store::new(store, self.store_used))
            .with_held_bitmap(held);
        tx.set_tail(self.tx_tail, self.tail_pid);
        tx
    }

    /// Keeps the fill levels of a `TxBuf` from [`tx_buf`](Self::tx_buf).
    #[inline(never)]
    fn keep_tx(&mut self, tx: &TxBuf<'_>) {
        self.tx_len = tx.len();
        self.store_used = tx.store().used();
        (self.tx_tail, self.tail_pid) = tx.tail();
    }

    /// The rx buffer, with an unbounded lifetime so that the session (a
    /// disjoint field) can be used while a packet is lent.
    ///
    /// # Safety
    /// The result must not outlive the call it is made in, and no other
    /// reference to the rx buffer may exist meanwhile.
    unsafe fn rx<'a>(&self) -> RxBuf<'a> {
        // SAFETY: `rx` points to `rx_cap` writable bytes owned by the glue
        // (see `with_tx`); per the function contract nothing else uses them.
        let mem = unsafe { raw_slice_mut(self.rx, self.rx_cap) };
        // The parts are the ones this RxBuf gave: no need to check them again.
        RxBuf::resume(mem, self.rx_at)
    }

    /// Drops every byte of the previous connection.
    fn reset_io(&mut self) {
        self.rx_at = RxParts::default();
        self.tx_len = 0;
        self.tx_tail = 0;
        self.tail_pid = 0;
    }

    /// Records `err`'s detail and returns its status.
    fn fail(&mut self, err: Error) -> St {
        self.report(Err(status_of(err)))
    }

    /// The status of `r`, recording a failure's detail.
    fn report(&mut self, r: Result<(), Fail>) -> St {
        match r {
            Ok(()) => St::UMQTT_RS_OK,
            Err((status, detail)) => {
                self.detail = detail;
                status
            }
        }
    }
}

/// A failure as the ABI reports it: a status and its detail.
type Fail = (St, u32);

/// Maps a session error to the header's status and detail: with
/// [`encode_status`] and [`arg`], the one place where Rust errors become ABI
/// values.
fn status_of(err: Error) -> Fail {
    match err {
        Error::NotConnected => (St::UMQTT_RS_ERR_NOT_CONNECTED, 0),
        Error::Refused(code) => (St::UMQTT_RS_ERR_REFUSED, code as u32),
        Error::Decode(e) => (St::UMQTT_RS_ERR_DECODE, decode_detail(e) as u32),
        Error::Protocol(e) => (St::UMQTT_RS_ERR_PROTOCOL, protocol_detail(e) as u32),
        Error::KeepaliveTimeout => (St::UMQTT_RS_ERR_TIMEOUT, 0),
        Error::TxFull { needed } => (St::UMQTT_RS_ERR_TX_FULL, saturate(needed)),
        Error::InflightFull => (St::UMQTT_RS_ERR_INFLIGHT_FULL, 0),
        Error::StoreFull { needed } => (St::UMQTT_RS_ERR_STORE_FULL, saturate(needed)),
        Error::RxTooSmall { needed } => (St::UMQTT_RS_ERR_RX_TOO_SMALL, saturate(needed)),
        Error::HeldFull => (St::UMQTT_RS_ERR_HELD_FULL, 0),
        Error::TooManyUnacked => (St::UMQTT_RS_ERR_UNACKED_FULL, 0),
        Error::TooLarge { size } => (St::UMQTT_RS_ERR_PACKET_TOO_LARGE, saturate(size)),
        Error::IncomingTooLarge { size } => (St::UMQTT_RS_ERR_INCOMING_TOO_LARGE, saturate(size)),
        Error::Encode(e) => encode_status(e),
        Error::Restore(e) => (St::UMQTT_RS_ERR_SESSION, session_detail(e) as u32),
        #[cfg(feature = "mqtt5")]
        e => v5::status_of(e),
        #[allow(unreachable_patterns)]
        _ => (St::UMQTT_RS_ERR_PROTOCOL, Pe::UMQTT_RS_PROTO_OTHER as u32),
    }
}

fn encode_status(e: EncodeError) -> Fail {
    match e {
        EncodeError::InvalidTopic(t) => (St::UMQTT_RS_ERR_TOPIC, topic_detail(t) as u32),
        EncodeError::BufferTooSmall { needed } => (St::UMQTT_RS_ERR_TX_FULL, saturate(needed)),
        EncodeError::TooLong => (St::UMQTT_RS_ERR_TOO_LONG, 0),
        EncodeError::PasswordWithoutUser => arg(Ae::UMQTT_RS_ARG_PASSWORD_WITHOUT_USER),
        EncodeError::EmptyClientId => arg(Ae::UMQTT_RS_ARG_EMPTY_CLIENT_ID),
        EncodeError::NulChar => arg(Ae::UMQTT_RS_ARG_NUL),
        #[cfg(feature = "mqtt5")]
        e @ (EncodeError::Property(_) | EncodeError::NotInVersion) => v5::encode_status(e),
        _ => arg(Ae::UMQTT_RS_ARG_OTHER),
    }
}

/// An invalid argument from the caller.
fn arg(detail: Ae) -> Fail {
    (St::UMQTT_RS_ERR_ARGUMENT, detail as u32)
}

fn topic_detail(t: TopicError) -> Te {
    match t {
        TopicError::Empty => Te::UMQTT_RS_TOPIC_EMPTY,
        TopicError::TooLong => Te::UMQTT_RS_TOPIC_TOO_LONG,
        TopicError::Wildcard => Te::UMQTT_RS_TOPIC_WILDCARD,
        TopicError::BadFilter => Te::UMQTT_RS_TOPIC_BAD_FILTER,
        TopicError::NulChar => Te::UMQTT_RS_TOPIC_NUL,
    }
}

fn protocol_detail(e: ProtocolError) -> Pe {
    match e {
        ProtocolError::UnexpectedPacket(_) => Pe::UMQTT_RS_PROTO_UNEXPECTED_PACKET,
        ProtocolError::UnknownPacketId(_) => Pe::UMQTT_RS_PROTO_UNKNOWN_PACKET_ID,
        ProtocolError::WrongAck { got, awaited, .. } => match (got, awaited) {
            (PacketType::Puback, _) => Pe::UMQTT_RS_PROTO_PUBACK_FOR_QOS2,
            (PacketType::Pubrec, OutgoingFlow::AwaitPuback) => Pe::UMQTT_RS_PROTO_PUBREC_FOR_QOS1,
            _ => Pe::UMQTT_RS_PROTO_EARLY_PUBCOMP,
        },
        #[cfg(feature = "mqtt5")]
        ProtocolError::TopicAlias(_) => Pe::UMQTT_RS_PROTO_TOPIC_ALIAS,
        #[cfg(feature = "mqtt5")]
        ProtocolError::ReceiveMaximumExceeded => Pe::UMQTT_RS_PROTO_RECEIVE_MAXIMUM,
        #[allow(unreachable_patterns)]
        _ => Pe::UMQTT_RS_PROTO_OTHER,
    }
}

fn session_detail(e: RestoreError) -> Se {
    match e {
        RestoreError::Foreign => Se::UMQTT_RS_SESSION_FOREIGN,
        RestoreError::Truncated => Se::UMQTT_RS_SESSION_TRUNCATED,
        RestoreError::Checksum => Se::UMQTT_RS_SESSION_CHECKSUM,
        RestoreError::Connected => Se::UMQTT_RS_SESSION_CONNECTED,
        _ => Se::UMQTT_RS_SESSION_INVALID,
    }
}

fn decode_detail(e: DecodeError) -> De {
    match e {
        DecodeError::UnknownPacketType(_) => De::UMQTT_RS_DECODE_PACKET_TYPE,
        DecodeError::ReservedFlags(_) => De::UMQTT_RS_DECODE_RESERVED_FLAGS,
        DecodeError::BadRemainingLength => De::UMQTT_RS_DECODE_REMAINING_LENGTH,
        DecodeError::BadLength(_) => De::UMQTT_RS_DECODE_LENGTH,
        DecodeError::BadQos => De::UMQTT_RS_DECODE_QOS,
        DecodeError::BadUtf8 => De::UMQTT_RS_DECODE_UTF8,
        DecodeError::BadConnackCode(_) => De::UMQTT_RS_DECODE_CONNACK_CODE,
        DecodeError::BadSubackCode(_) => De::UMQTT_RS_DECODE_SUBACK_CODE,
        DecodeError::ZeroPacketId => De::UMQTT_RS_DECODE_PACKET_ID,
        DecodeError::BadTopic => De::UMQTT_RS_DECODE_TOPIC,
        _ => De::UMQTT_RS_DECODE_OTHER,
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn qos(v: u8) -> Result<QoS, Fail> {
    QoS::from_u8(v).ok_or(arg(Ae::UMQTT_RS_ARG_QOS))
}

/// A string field (client id, user name) given by C as bytes.
fn utf8(b: &[u8]) -> Result<&str, Fail> {
    core::str::from_utf8(b).map_err(|_| arg(Ae::UMQTT_RS_ARG_UTF8))
}

/// A topic given by C as bytes must be UTF-8.
fn topic_str(b: &[u8]) -> Result<&str, Fail> {
    core::str::from_utf8(b).map_err(|_| (St::UMQTT_RS_ERR_TOPIC, Te::UMQTT_RS_TOPIC_UTF8 as u32))
}

/// Sets up a client.
///
/// # Safety
/// `client` must point to writable, 8-byte aligned storage of
/// `umqtt_rs_client_t`; `rx`, `tx` and `store` to `rx_cap` / `tx_cap` /
/// `store_cap` writable bytes (distinct allocations; `store` may be null with
/// `store_cap` 0) that outlive the client and are used by nothing else.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_init(
    client: *mut umqtt_rs_client_t,
    rx: *mut u8,
    rx_cap: usize,
    tx: *mut u8,
    tx_cap: usize,
    store: *mut u8,
    store_cap: usize,
) {
    let st = State {
        session: Session::new(),
        rx,
        rx_cap,
        rx_at: RxParts::default(),
        chunk: 0,
        tx,
        tx_cap,
        tx_len: 0,
        tx_tail: 0,
        tail_pid: 0,
        store,
        store_cap,
        store_used: 0,
        held: ptr::null_mut(),
        held_cap: 0,
        #[cfg(feature = "mqtt5")]
        alias: ptr::null_mut(),
        #[cfg(feature = "mqtt5")]
        alias_cap: 0,
        #[cfg(feature = "mqtt5")]
        out_alias: ptr::null_mut(),
        #[cfg(feature = "mqtt5")]
        out_alias_cap: 0,
        detail: 0,
    };
    // SAFETY: per the function contract; State fits (checked above).
    unsafe { ptr::write(client.cast::<State>(), st) };
}

/// Gives a new rx buffer holding the same unconsumed bytes.
///
/// # Safety
/// As [`umqtt_rs_init`]; the first `rx_end` bytes must equal the old buffer's.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_set_rx_buffer(
    client: *mut umqtt_rs_client_t,
    rx: *mut u8,
    rx_cap: usize,
) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    st.rx = rx;
    st.rx_cap = rx_cap;
    // SAFETY: the new buffer is valid (function contract); the slice lives
    // only here.  The parts are checked against the new size.
    let mem = unsafe { raw_slice_mut(st.rx, st.rx_cap) };
    st.rx_at = RxBuf::from_parts(mem, st.rx_at).parts();
}

/// Gives a new tx buffer holding the same pending bytes.
///
/// # Safety
/// As [`umqtt_rs_init`]; the first `tx_len` bytes must equal the old buffer's.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_set_tx_buffer(
    client: *mut umqtt_rs_client_t,
    tx: *mut u8,
    tx_cap: usize,
) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    st.tx = tx;
    st.tx_cap = tx_cap;
    st.tx_len = st.tx_len.min(tx_cap);
}

/// Gives a new message store holding the same stored bytes.
///
/// # Safety
/// As [`umqtt_rs_init`]; the first `store_used` bytes must equal the old
/// store's.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_set_store_buffer(
    client: *mut umqtt_rs_client_t,
    store: *mut u8,
    store_cap: usize,
) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    st.store = store;
    st.store_cap = store_cap;
    st.store_used = st.store_used.min(store_cap);
}

/// Lends the held-id bitmap.
///
/// # Safety
/// As [`umqtt_rs_init`]; while [`umqtt_rs_held_in_use`], a new bitmap must
/// hold the same bytes as the old one.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_set_held_buffer(
    client: *mut umqtt_rs_client_t,
    bits: *mut u8,
    cap: usize,
) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    st.held = bits;
    st.held_cap = if bits.is_null() { 0 } else { cap };
}

/// Whether the held-id bitmap holds ids.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_held_in_use(client: *const umqtt_rs_client_t) -> bool {
    // SAFETY: per the function contract.
    unsafe { state_ref(client) }.session.held_bitmap_in_use()
}

/// Sets the maximum packet size.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_set_max_packet_size(client: *mut umqtt_rs_client_t, size: usize) {
    // SAFETY: per the function contract.
    unsafe { state(client) }.session.set_max_packet_size(size);
}

/// Bytes of the message store in use.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_store_used(client: *const umqtt_rs_client_t) -> usize {
    // SAFETY: per the function contract.
    unsafe { state_ref(client) }.store_used
}

/// Sets the window of outgoing QoS 1/2 messages in flight.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_set_window(client: *mut umqtt_rs_client_t, window: usize) {
    // SAFETY: per the function contract.
    unsafe { state(client) }.session.set_window(window);
}

/// The detail of the last failure.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_error_detail(client: *const umqtt_rs_client_t) -> u32 {
    // SAFETY: per the function contract.
    unsafe { state_ref(client) }.detail
}

/// Starts a connection: drops buffered bytes of any previous one, queues
/// CONNECT.
///
/// # Safety
/// `client` must be initialised; `opts` must point to valid options whose
/// byte strings are readable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_connect(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    opts: *const umqtt_rs_connect_opts_t,
) -> St {
    // One connect path in an MQTT 5 build: MQTT 5's with the default
    // options (what `Session::connect` sends in either version).
    #[cfg(feature = "mqtt5")]
    {
        let none = sys::umqtt_rs_props_t {
            items: ptr::null(),
            count: 0,
        };
        let defaults = sys::umqtt_rs_connect5_opts_t {
            props: none,
            will_props: none,
            session_expiry: 0,
            receive_maximum: 0,
            topic_alias_maximum: 0,
            request_problem_information: true,
        };
        // SAFETY: per the function contract; no property entries.
        unsafe { v5::umqtt_rs_connect5(client, now_ms, opts, &defaults) }
    }
    #[cfg(not(feature = "mqtt5"))]
    {
        // SAFETY: per the function contract.
        let (st, o) = unsafe { (state(client), &*opts) };
        st.reset_io();
        let r = (|| {
            // SAFETY: per the function contract, every byte string is readable.
            let connect = unsafe { connect_of(o) }?;
            st.with_tx(|s, tx| s.connect(now_ms, &connect, tx))
                .map_err(status_of)
        })();
        st.report(r)
    }
}

/// The CONNECT fields of C's options.
///
/// # Safety
/// Every byte string of `o` must be readable for `'a`.
unsafe fn connect_of<'a>(o: &umqtt_rs_connect_opts_t) -> Result<Connect<'a>, Fail> {
    // SAFETY: per the function contract.
    let (id, user, password, will_topic, will_msg) = unsafe {
        (
            bytes(o.client_id),
            opt_bytes(o.user),
            opt_bytes(o.password),
            opt_bytes(o.will_topic),
            bytes(o.will_message),
        )
    };
    let username = match user {
        Some(u) => Some(utf8(u)?),
        None => None,
    };
    let will = match will_topic {
        Some(t) => Some(Will {
            topic: topic_str(t)?,
            message: will_msg,
            qos: qos(o.will_qos)?,
            retain: o.will_retain,
        }),
        None => None,
    };
    Ok(Connect {
        client_id: utf8(id)?,
        keepalive: o.keepalive_s,
        clean_session: o.clean_session,
        will,
        username,
        password,
    })
}

/// Queues a PUBLISH (see the header for `payload_separate`).
///
/// # Safety
/// `client` must be initialised; `topic` and `payload` readable; `pid` and
/// `payload_separate` writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_publish(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    topic: umqtt_rs_bytes_t,
    payload: umqtt_rs_bytes_t,
    qos_in: u8,
    retain: bool,
    pid: *mut u16,
    payload_separate: *mut bool,
) -> St {
    #[cfg(feature = "mqtt5")]
    {
        // One publish path in the firmware: MQTT 5's without properties
        // (the same bytes and checks in a 3.1.1 session).
        let none = sys::umqtt_rs_props_t {
            items: ptr::null(),
            count: 0,
        };
        // SAFETY: per the function contract; no property entries.
        unsafe {
            v5::umqtt_rs_publish5(
                client,
                now_ms,
                topic,
                payload,
                qos_in,
                retain,
                none,
                pid,
                payload_separate,
            )
        }
    }
    #[cfg(not(feature = "mqtt5"))]
    publish311(
        client,
        now_ms,
        topic,
        payload,
        qos_in,
        retain,
        pid,
        payload_separate,
    )
}

/// [`umqtt_rs_publish`] in a 3.1.1-only build.
///
/// # Safety
/// As [`umqtt_rs_publish`].
#[cfg(not(feature = "mqtt5"))]
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn publish311(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    topic: umqtt_rs_bytes_t,
    payload: umqtt_rs_bytes_t,
    qos_in: u8,
    retain: bool,
    pid: *mut u16,
    payload_separate: *mut bool,
) -> St {
    // SAFETY: per the function contract.
    let (st, topic, payload) = unsafe { (state(client), bytes(topic), bytes(payload)) };
    let r = (|| {
        let topic = topic_str(topic)?;
        let q = qos(qos_in)?;
        let header = crate::wire::Publish {
            topic,
            qos: q,
            retain,
            dup: false,
            pid: 1,
            payload,
        }
        .header_len()
        .map_err(encode_status)?;
        let (id, separate) = st.publish_in(header, payload.len(), |s, tx, separate| {
            if separate {
                s.publish_header(now_ms, topic, payload, q, retain, tx)
            } else {
                s.publish(now_ms, topic, payload, q, retain, tx)
            }
        })?;
        // SAFETY: per the function contract.
        unsafe {
            *pid = id;
            *payload_separate = separate;
        }
        Ok(())
    })();
    st.report(r)
}

impl State {
    /// The publish path of both versions: a payload whose packet (of
    /// `header` bytes before it) fits the whole tx buffer is copied into
    /// it (one write); a larger one goes out separately, as the tail,
    /// straight from the caller's memory.  `queue` queues the packet, or
    /// only its header when told the payload is separate.  Returns the
    /// packet id and whether the payload is separate.
    #[inline(always)]
    fn publish_in(
        &mut self,
        header: usize,
        payload_len: usize,
        queue: impl FnOnce(&mut Session, &mut TxBuf<'_>, bool) -> Result<u16, Error>,
    ) -> Result<(u16, bool), Fail> {
        let separate = header.saturating_add(payload_len) > self.tx_cap;
        let id = self
            .with_tx_inline(|s, tx| queue(s, tx, separate))
            .map_err(status_of)?;
        if separate {
            self.tx_tail = payload_len;
            self.tail_pid = 0;
        }
        Ok((id, separate))
    }
}

/// Queues the header of a PUBLISH whose payload the glue streams.
///
/// # Safety
/// `client` must be initialised; `topic` readable; `pid` writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_publish_stream(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    topic: umqtt_rs_bytes_t,
    length: usize,
    qos_in: u8,
    retain: bool,
    resendable: bool,
    pid: *mut u16,
) -> St {
    // SAFETY: per the function contract.
    let (st, topic, pid) = unsafe { (state(client), bytes(topic), &mut *pid) };
    queue_stream(st, topic, qos_in, length, pid, |st, topic, q| {
        st.with_tx(|s, tx| s.publish_streamed(now_ms, topic, length, q, retain, resendable, tx))
            .map_err(status_of)
    })
}

/// What the streamed-publish exports share around their session call
/// `queue(state, topic, qos)`: the topic and QoS checked, the payload's
/// length noted as the tail the glue writes, the packet id given.
fn queue_stream<'t>(
    st: &mut State,
    topic: &'t [u8],
    qos_in: u8,
    length: usize,
    pid: &mut u16,
    queue: impl FnOnce(&mut State, &'t str, QoS) -> Result<u16, Fail>,
) -> St {
    let r = (|| {
        let topic = topic_str(topic)?;
        let q = qos(qos_in)?;
        *pid = queue(st, topic, q)?;
        st.tx_tail = length;
        st.tail_pid = 0;
        Ok(())
    })();
    st.report(r)
}

/// Reads `count` C topic entries into a bounded list.
///
/// # Safety
/// `topics` must point to `count` entries whose filters are readable.
unsafe fn topic_list<'a>(
    topics: *const umqtt_rs_topic_t,
    count: usize,
) -> Result<heapless::Vec<(&'a str, QoS), MAX_TOPICS_PER_CALL>, Fail> {
    if count == 0 || topics.is_null() || count > MAX_TOPICS_PER_CALL {
        return Err(arg(Ae::UMQTT_RS_ARG_TOPIC_COUNT));
    }
    // SAFETY: per the function contract.
    let entries = unsafe { slice::from_raw_parts(topics, count) };
    let mut list = heapless::Vec::new();
    for e in entries {
        // SAFETY: per the function contract.
        let f = topic_str(unsafe { bytes(e.filter) })?;
        list.push((f, qos(e.qos)?))
            .map_err(|_| arg(Ae::UMQTT_RS_ARG_TOPIC_COUNT))?;
    }
    Ok(list)
}

/// Queues a SUBSCRIBE.
///
/// # Safety
/// `client` initialised; `topics` points to `count` readable entries; `pid`
/// writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_subscribe(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    topics: *const umqtt_rs_topic_t,
    count: usize,
    pid: *mut u16,
) -> St {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    let r = (|| {
        // SAFETY: per the function contract.
        let list = unsafe { topic_list(topics, count) }?;
        #[cfg(feature = "mqtt5")]
        if st.session.version().is_v5() {
            // SAFETY: `topics` holds the `count` entries `list` was read from.
            let options = unsafe { v5::with_options(topics, &list) };
            let id = st
                .with_tx(|s, tx| s.subscribe_with_options(now_ms, &options, &[], tx))
                .map_err(status_of)?;
            // SAFETY: per the function contract.
            unsafe { *pid = id };
            return Ok(());
        }
        let id = st
            .with_tx(|s, tx| s.subscribe(now_ms, &list, tx))
            .map_err(status_of)?;
        // SAFETY: per the function contract.
        unsafe { *pid = id };
        Ok(())
    })();
    st.report(r)
}

/// Queues an UNSUBSCRIBE.
///
/// # Safety
/// As [`umqtt_rs_subscribe`].
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_unsubscribe(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    topics: *const umqtt_rs_topic_t,
    count: usize,
    pid: *mut u16,
) -> St {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    let r = (|| {
        // SAFETY: per the function contract.
        let list = unsafe { topic_list(topics, count) }?;
        let names: heapless::Vec<&str, MAX_TOPICS_PER_CALL> =
            list.iter().map(|(f, _)| *f).collect();
        let id = st
            .with_tx(|s, tx| s.unsubscribe(now_ms, &names, tx))
            .map_err(status_of)?;
        // SAFETY: per the function contract.
        unsafe { *pid = id };
        Ok(())
    })();
    st.report(r)
}

/// Queues a PINGREQ.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_ping(client: *mut umqtt_rs_client_t, now_ms: u64) -> St {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    match st.with_tx(|s, tx| s.ping(now_ms, tx)) {
        Ok(()) => St::UMQTT_RS_OK,
        Err(e) => st.fail(e),
    }
}

/// Queues a DISCONNECT.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_disconnect(client: *mut umqtt_rs_client_t) -> St {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    match st.with_tx(|s, tx| s.disconnect(tx)) {
        Ok(()) => St::UMQTT_RS_OK,
        Err(e) => st.fail(e),
    }
}

/// The transport is gone.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_connection_lost(client: *mut umqtt_rs_client_t) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    st.session.connection_lost();
    st.reset_io();
}

/// Runs the timers.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_poll(client: *mut umqtt_rs_client_t, now_ms: u64) -> St {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    match st.with_tx(|s, tx| s.poll(now_ms, tx)) {
        Ok(()) => St::UMQTT_RS_OK,
        Err(e) => st.fail(e),
    }
}

/// When the timers next need to run.
///
/// # Safety
/// `client` must be initialised; `at_ms` writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_poll_at(
    client: *const umqtt_rs_client_t,
    at_ms: *mut u64,
) -> bool {
    // SAFETY: per the function contract.
    match unsafe { state_ref(client) }.session.poll_at() {
        Some(t) => {
            // SAFETY: per the function contract.
            unsafe { *at_ms = t };
            true
        }
        None => false,
    }
}

/// Lends the free part of the rx buffer.
///
/// # Safety
/// `client` must be initialised; `ptr` and `len` writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_rx_window(
    client: *mut umqtt_rs_client_t,
    ptr_out: *mut *mut u8,
    len_out: *mut usize,
) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    // SAFETY: the RxBuf lives only here; the window it lends is the glue's
    // to fill until the next call (the header's contract).
    let mut rx = unsafe { st.rx() };
    let window = rx.window();
    let (p, n) = (window.as_mut_ptr(), window.len());
    st.rx_at = rx.parts();
    // SAFETY: per the function contract.
    unsafe {
        *ptr_out = p;
        *len_out = n;
    }
}

/// Records `n` bytes read into the window.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_rx_commit(client: *mut umqtt_rs_client_t, n: usize) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    // SAFETY: the RxBuf lives only here.
    let mut rx = unsafe { st.rx() };
    rx.commit(n);
    st.rx_at = rx.parts();
}

/// Whether a complete packet (or a malformed or oversized header) is
/// buffered.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_rx_ready(client: *const umqtt_rs_client_t) -> bool {
    // SAFETY: per the function contract.
    let st = unsafe { state_ref(client) };
    // SAFETY: the RxBuf lives only here and is only read.
    let mut rx = unsafe { st.rx() };
    // A packet lent to the application by the last event is done with.
    rx.release();
    rx.ready(st.session.max_packet_size(), st.chunk)
}

/// Handles buffered packets until one matters to the application.
///
/// # Safety
/// `client` must be initialised; `ev` writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_next_event(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    ev: *mut umqtt_rs_event_t,
) -> St {
    // SAFETY: per the function contract.
    let (st, ev) = unsafe { (state(client), &mut *ev) };
    *ev = umqtt_rs_event_t {
        topic: ptr::null(),
        topic_len: 0,
        payload: ptr::null(),
        payload_len: 0,
        offset: 0,
        total: 0,
        props: umqtt_rs_bytes_t {
            ptr: ptr::null(),
            len: 0,
        },
        pid: 0,
        kind: Ek::UMQTT_RS_EV_NONE as u8,
        qos: 0,
        retain: false,
        dup: false,
        session_present: false,
        reason: 0,
    };
    // One receive loop for both versions in an MQTT 5 build (MQTT 5's,
    // which reads 3.1.1 into the same representation).
    #[cfg(feature = "mqtt5")]
    return v5::next_event(st, now_ms, ev);
    #[cfg(not(feature = "mqtt5"))]
    next_event311(st, now_ms, ev)
}

/// [`umqtt_rs_next_event`] in a 3.1.1-only build.
#[cfg(not(feature = "mqtt5"))]
#[inline(always)]
fn next_event311(st: &mut State, now_ms: u64, ev: &mut umqtt_rs_event_t) -> St {
    let (max, chunk) = (st.session.max_packet_size(), st.chunk);
    // SAFETY: the RxBuf lives only in this call; the packet an event borrows
    // stays lent (unmoved) until the next call, as the header promises.
    let mut rx = unsafe { st.rx() };
    let r = loop {
        let (packet, piece) = if chunk == 0 && !rx.streaming() {
            // Whole packets only (the common case): no pieces to tell apart.
            match rx.next_packet(max) {
                Ok(Some(p)) => (p, None),
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        } else {
            match rx.next_frame(max, chunk) {
                Ok(Some(Frame::Packet(p))) => (p, None),
                Ok(Some(Frame::Chunk(c))) if !c.is_first() => {
                    fill_chunk(ev, &c.publish, c.offset, c.total);
                    break Ok(());
                }
                // The first piece: the session decides (delivery, or a
                // resend of a held id: PUBREC and the rest dropped).
                Ok(Some(Frame::Chunk(c))) => {
                    (Packet::Publish(c.publish), Some((c.offset, c.total)))
                }
                Ok(None) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        match st.with_tx_inline(|s, tx| s.handle(now_ms, packet, tx)) {
            Ok(Some(Event::Message(p))) if piece.is_some() => {
                let (offset, total) = piece.unwrap_or_default();
                fill_chunk(ev, &p, offset, total);
                break Ok(());
            }
            Ok(None) if piece.is_some() => rx.skip_stream(),
            Ok(None) => {}
            Ok(Some(e)) => {
                fill_event(ev, &e);
                break Ok(());
            }
            Err(e) => {
                rx.keep();
                break Err(e);
            }
        }
    };
    st.rx_at = rx.parts();
    match r {
        Ok(()) => St::UMQTT_RS_OK,
        Err(e) => st.fail(e),
    }
}

/// The application has message `pid`: queues its ack.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_ack(client: *mut umqtt_rs_client_t, now_ms: u64, pid: u16) -> St {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    match st.with_tx(|s, tx| s.ack(now_ms, pid, tx)) {
        Ok(()) => St::UMQTT_RS_OK,
        Err(e) => st.fail(e),
    }
}

/// Sets the size above which payloads come in pieces.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_set_chunk_size(client: *mut umqtt_rs_client_t, size: usize) {
    // SAFETY: per the function contract.
    unsafe { state(client) }.chunk = size;
}

/// Drops the rest of the message passed on in pieces.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_stream_skip(client: *mut umqtt_rs_client_t) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    // SAFETY: the RxBuf lives only here.
    let mut rx = unsafe { st.rx() };
    rx.skip_stream();
    st.rx_at = rx.parts();
}

/// Saves the durable state.
///
/// # Safety
/// `client` must be initialised; `extra` readable; `out` writable for `cap`
/// bytes (or `cap` 0), not overlapping `extra`; `len` writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_session_save(
    client: *mut umqtt_rs_client_t,
    extra: umqtt_rs_bytes_t,
    out: *mut u8,
    cap: usize,
    len: *mut usize,
) -> St {
    // SAFETY: per the function contract.
    let (st, extra, out) = unsafe { (state(client), bytes(extra), raw_slice_mut(out, cap)) };
    match st.with_tx(|s, tx| s.save(tx, extra, out)) {
        Ok(n) => {
            // SAFETY: per the function contract.
            unsafe { *len = n };
            St::UMQTT_RS_OK
        }
        Err(e) => st.fail(e),
    }
}

/// Changes of the durable state so far.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_session_generation(client: *const umqtt_rs_client_t) -> u32 {
    // SAFETY: per the function contract.
    unsafe { state_ref(client) }.session.generation()
}

/// Restores saved durable state.
///
/// # Safety
/// `client` must be initialised; `bytes` readable; `extra_at` and
/// `extra_len` writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_session_restore(
    client: *mut umqtt_rs_client_t,
    saved: umqtt_rs_bytes_t,
    extra_at: *mut usize,
    extra_len: *mut usize,
) -> St {
    // SAFETY: per the function contract.
    let (st, saved) = unsafe { (state(client), bytes(saved)) };
    match st.with_tx(|s, tx| s.restore(saved, tx)) {
        Ok(extra) => {
            // SAFETY: per the function contract.
            unsafe {
                *extra_at = (extra.as_ptr() as usize).wrapping_sub(saved.as_ptr() as usize);
                *extra_len = extra.len();
            }
            St::UMQTT_RS_OK
        }
        Err(e) => st.fail(e),
    }
}

/// The application could not take message `pid`.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_abandon(client: *mut umqtt_rs_client_t, pid: u16) {
    // SAFETY: per the function contract.
    unsafe { state(client) }.session.abandon(pid);
}

/// A piece of a message passed on in chunks.
fn fill_chunk(ev: &mut umqtt_rs_event_t, p: &Publish<'_>, offset: usize, total: usize) {
    fill_event(ev, &Event::Message(*p));
    ev.kind = Ek::UMQTT_RS_EV_CHUNK as u8;
    ev.offset = offset;
    ev.total = total;
}

#[inline]
pub(crate) fn fill_event(ev: &mut umqtt_rs_event_t, e: &Event<'_>) {
    match *e {
        Event::Connected { session_present } => {
            ev.kind = Ek::UMQTT_RS_EV_CONNECTED as u8;
            ev.session_present = session_present;
        }
        Event::Message(p) => {
            ev.kind = Ek::UMQTT_RS_EV_MESSAGE as u8;
            ev.topic = p.topic.as_ptr();
            ev.topic_len = p.topic.len();
            ev.payload = p.payload.as_ptr();
            ev.payload_len = p.payload.len();
            ev.pid = p.pid;
            ev.qos = p.qos as u8;
            ev.retain = p.retain;
            ev.dup = p.dup;
        }
        Event::Published { pid } => {
            ev.kind = Ek::UMQTT_RS_EV_PUBLISHED as u8;
            ev.pid = pid;
        }
        Event::Subscribed { pid, return_codes } => {
            ev.kind = Ek::UMQTT_RS_EV_SUBSCRIBED as u8;
            ev.pid = pid;
            ev.payload = return_codes.as_ptr();
            ev.payload_len = return_codes.len();
        }
        Event::Unsubscribed { pid } => {
            ev.kind = Ek::UMQTT_RS_EV_UNSUBSCRIBED as u8;
            ev.pid = pid;
        }
        Event::Pong => ev.kind = Ek::UMQTT_RS_EV_PONG as u8,
        #[allow(unreachable_patterns)]
        _ => ev.kind = Ek::UMQTT_RS_EV_NONE as u8,
    }
}

/// The bytes waiting to be written.
///
/// # Safety
/// `client` must be initialised; `ptr_out` and `len_out` writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_tx_pending(
    client: *const umqtt_rs_client_t,
    ptr_out: *mut *const u8,
    len_out: *mut usize,
) {
    // SAFETY: per the function contract.
    let st = unsafe { state_ref(client) };
    // SAFETY: per the function contract.
    unsafe {
        *ptr_out = st.tx;
        *len_out = st.tx_len;
    }
}

/// Drops `n` written bytes from the tx queue.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_tx_consume(client: *mut umqtt_rs_client_t, n: usize) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    let from_queue = n.min(st.tx_len);
    // SAFETY: `tx` points to `tx_cap` writable bytes owned by the glue (see
    // `tx_buf`); `tx_len` is at most `tx_cap`.  Only the queue is needed
    // here, not the store or the bitmap (a publish's hot path).
    let queue = unsafe { raw_slice_mut(st.tx, st.tx_len.min(st.tx_cap)) };
    let mut tx = TxBuf::new(queue, st.tx_len);
    tx.consume(from_queue);
    st.tx_len = tx.len();
    st.tx_tail = st.tx_tail.saturating_sub(n - from_queue);
}

/// The message whose resend asked for the tail.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_tx_tail_pid(client: *const umqtt_rs_client_t) -> u16 {
    // SAFETY: per the function contract.
    let st = unsafe { state_ref(client) };
    if st.tx_tail > 0 {
        st.tail_pid
    } else {
        0
    }
}

/// Bytes of the tail still to write.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_tx_tail(client: *const umqtt_rs_client_t) -> usize {
    // SAFETY: per the function contract.
    unsafe { state_ref(client) }.tx_tail
}

/// MQTT topic matching for the glue's per-filter callbacks.
///
/// # Safety
/// `filter` and `topic` must be readable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_topic_matches(
    filter: umqtt_rs_bytes_t,
    topic: umqtt_rs_bytes_t,
) -> bool {
    // SAFETY: per the function contract.
    let (f, t) = unsafe { (bytes(filter), bytes(topic)) };
    match (core::str::from_utf8(f), core::str::from_utf8(t)) {
        (Ok(f), Ok(t)) => crate::wire::topic_matches(f, t),
        _ => false,
    }
}

/// Whether a CONNACK was accepted and the connection not lost since.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_is_connected(client: *const umqtt_rs_client_t) -> bool {
    // SAFETY: per the function contract.
    unsafe { state_ref(client) }.session.is_connected()
}

/// Outgoing QoS 1/2 messages awaiting their acknowledgement.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_inflight(client: *const umqtt_rs_client_t) -> usize {
    // SAFETY: per the function contract.
    unsafe { state_ref(client) }.session.inflight_len()
}

/// Whether `pid` is still awaiting its acknowledgement.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_is_inflight(client: *const umqtt_rs_client_t, pid: u16) -> bool {
    // SAFETY: per the function contract.
    unsafe { state_ref(client) }.session.is_inflight(pid)
}

/// Binds every export to the prototype bindgen read from `umqtt_rs.h`: each
/// pair must have exactly the same type, or this does not compile.
#[allow(dead_code, unused_assignments)]
fn abi_check() {
    macro_rules! same {
        ($($name:ident($($a:tt),*);)*) => {$(
            let mut f = sys::$name as unsafe extern "C" fn($($a),*) -> _;
            f = $name;
            let _ = f;
        )*};
    }
    same! {
        umqtt_rs_init(_, _, _, _, _, _, _);
        umqtt_rs_set_rx_buffer(_, _, _);
        umqtt_rs_set_tx_buffer(_, _, _);
        umqtt_rs_set_store_buffer(_, _, _);
        umqtt_rs_set_held_buffer(_, _, _);
        umqtt_rs_held_in_use(_);
        umqtt_rs_set_max_packet_size(_, _);
        umqtt_rs_store_used(_);
        umqtt_rs_set_window(_, _);
        umqtt_rs_error_detail(_);
        umqtt_rs_connect(_, _, _);
        umqtt_rs_publish(_, _, _, _, _, _, _, _);
        umqtt_rs_publish_stream(_, _, _, _, _, _, _, _);
        umqtt_rs_subscribe(_, _, _, _, _);
        umqtt_rs_unsubscribe(_, _, _, _, _);
        umqtt_rs_ping(_, _);
        umqtt_rs_disconnect(_);
        umqtt_rs_connection_lost(_);
        umqtt_rs_poll(_, _);
        umqtt_rs_poll_at(_, _);
        umqtt_rs_rx_window(_, _, _);
        umqtt_rs_rx_commit(_, _);
        umqtt_rs_rx_ready(_);
        umqtt_rs_next_event(_, _, _);
        umqtt_rs_tx_pending(_, _, _);
        umqtt_rs_tx_consume(_, _);
        umqtt_rs_tx_tail(_);
        umqtt_rs_tx_tail_pid(_);
        umqtt_rs_ack(_, _, _);
        umqtt_rs_abandon(_, _);
        umqtt_rs_session_save(_, _, _, _, _);
        umqtt_rs_set_chunk_size(_, _);
        umqtt_rs_stream_skip(_);
        umqtt_rs_session_restore(_, _, _, _);
        umqtt_rs_session_generation(_);
        umqtt_rs_topic_matches(_, _);
        umqtt_rs_is_connected(_);
        umqtt_rs_inflight(_);
        umqtt_rs_is_inflight(_, _);
    }
}

/// In firmware a panic must not unwind into C: it executes the target's
/// undefined instruction, which every port already handles as a fault (a
/// reset on a board, SIGILL on unix), without needing a C library's
/// `abort()` (bare-metal ports lack one).  No panic is reachable from peer
/// bytes by design.
#[cfg(all(feature = "firmware", not(test)))]
#[panic_handler]
fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
    loop {
        // SAFETY: each instruction only raises the CPU's illegal-instruction
        // trap; nothing is read or written.
        unsafe {
            #[cfg(any(target_arch = "arm", target_arch = "aarch64"))]
            core::arch::asm!("udf #0");
            #[cfg(any(target_arch = "riscv32", target_arch = "riscv64"))]
            core::arch::asm!("unimp");
            #[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
            core::arch::asm!("ud2");
            #[cfg(target_arch = "xtensa")]
            core::arch::asm!("ill");
        }
    }
}

#[cfg(test)]
mod tests {
    use core::mem::size_of;

    extern "C" {
        /// `tests/c/abi_test.c`, compiled by `build.rs`.
        fn umqtt_rs_c_abi_test() -> i32;
    }

    /// The state block is not much larger than the state (RAM is scarce).
    #[test]
    fn state_block_size() {
        let (state, block) = (
            size_of::<super::State>(),
            size_of::<super::umqtt_rs_client_t>(),
        );
        std::println!("State {state} B, block {block} B");
        assert!(block - state < 256, "shrink UMQTT_RS_CLIENT_WORDS");
    }

    /// A C program drives the Rust exports through `umqtt_rs.h` exactly as
    /// the MicroPython glue does (byte fixtures in the C file).
    #[test]
    fn c_program_drives_the_core_through_the_header() {
        // SAFETY: the C test takes no arguments and uses only its own statics.
        let failed = unsafe { umqtt_rs_c_abi_test() };
        assert_eq!(failed, 0, "check {failed} of tests/c/abi_test.c failed");
    }
}
