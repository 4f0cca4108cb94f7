//! The MQTT 5 exports of `micropython-glue/umqtt_rs.h` (its
//! `#if UMQTT_RS_MQTT5` block; the cargo feature `mqtt5`): the protocol
//! version, CONNECT / PUBLISH / DISCONNECT with properties, subscription
//! options, the CONNACK's limits, the incoming topic alias map, events with
//! their properties, and a reader of property sections for the glue.
//!
//! Properties cross the ABI as `umqtt_rs_prop_t` entries: the caller's are
//! turned into [`Property`] values on the stack (at most
//! [`MAX_PROPS`](sys::UMQTT_RS_MAX_PROPS)), checked by the encoder per
//! packet; received ones stay bytes in rx (the event's `props`), which the
//! glue walks with [`umqtt_rs_prop_next`], so no Rust frame is live while
//! it builds Python objects from them.

use core::ptr;
use core::slice;

use heapless::Vec;

use super::sys::{
    self, umqtt_rs_bytes_t, umqtt_rs_client_t, umqtt_rs_connect5_opts_t, umqtt_rs_connect_opts_t,
    umqtt_rs_event_t, umqtt_rs_prop_t, umqtt_rs_props_t, umqtt_rs_server_limits_t,
    umqtt_rs_topic_t,
};
use super::{
    arg, bytes, connect_of, fill_chunk, fill_event, qos, raw_slice_mut, saturate, state, state_ref,
    status_of as status_of_any, topic_str, Ae, Ek, Fail, Pe, Se, St, State, MAX_TOPICS_PER_CALL,
};
use crate::session::{ConnectOptions, Error, Event, FrameOf, OutgoingAliases, TopicAliases};
use crate::wire::v5::{self as wire5, RetainHandling, SubscriptionOptions};
use crate::wire::{
    EncodeError, Properties, Property, PropertyError, PropertyId, QoS, RawValue, ReasonCode,
    Version,
};

/// Most properties one call may send (`UMQTT_RS_MAX_PROPS`).
const MAX_PROPS: usize = sys::UMQTT_RS_MAX_PROPS as usize;

type PropList<'a> = Vec<Property<'a>, MAX_PROPS>;

/// The MQTT 5 session errors as ABI statuses (see [`super::status_of`]).
pub(super) fn status_of(err: Error) -> Fail {
    match err {
        Error::Refused5(code) => (St::UMQTT_RS_ERR_REFUSED, code as u32),
        Error::ServerDisconnect(code) => (St::UMQTT_RS_ERR_SERVER_DISCONNECT, code as u32),
        Error::QosNotSupported { .. } => arg(Ae::UMQTT_RS_ARG_QOS_NOT_SUPPORTED),
        Error::RetainNotSupported => arg(Ae::UMQTT_RS_ARG_RETAIN_NOT_SUPPORTED),
        Error::SubscribeNotSupported(ReasonCode::WildcardSubscriptionsNotSupported) => {
            arg(Ae::UMQTT_RS_ARG_WILDCARD_NOT_SUPPORTED)
        }
        Error::SubscribeNotSupported(ReasonCode::SharedSubscriptionsNotSupported) => {
            arg(Ae::UMQTT_RS_ARG_SHARED_NOT_SUPPORTED)
        }
        Error::SubscribeNotSupported(_) => arg(Ae::UMQTT_RS_ARG_SUBSCRIPTION_ID_NOT_SUPPORTED),
        Error::VersionMismatch => (
            St::UMQTT_RS_ERR_SESSION,
            Se::UMQTT_RS_SESSION_VERSION as u32,
        ),
        Error::AliasTableFull { needed } => (St::UMQTT_RS_ERR_ALIAS_FULL, saturate(needed)),
        Error::AuthNotExpected => arg(Ae::UMQTT_RS_ARG_AUTH_NOT_EXPECTED),
        _ => (St::UMQTT_RS_ERR_PROTOCOL, Pe::UMQTT_RS_PROTO_OTHER as u32),
    }
}

/// The MQTT 5 encoding errors as ABI statuses (see [`super::encode_status`]).
pub(super) fn encode_status(e: EncodeError) -> Fail {
    match e {
        EncodeError::Property(
            PropertyError::Unknown(id)
            | PropertyError::NotAllowed(id)
            | PropertyError::Repeated(id)
            | PropertyError::BadValue(id),
        ) => (St::UMQTT_RS_ERR_PROPERTY, u32::from(id)),
        _ => arg(Ae::UMQTT_RS_ARG_NOT_IN_VERSION),
    }
}

/// A property that cannot be what the caller gave.
fn bad_property(id: u8) -> Fail {
    (St::UMQTT_RS_ERR_PROPERTY, u32::from(id))
}

/// One caller property.
///
/// # Safety
/// The entry's byte strings must be readable for `'a`.
unsafe fn property_of<'a>(p: &umqtt_rs_prop_t) -> Result<Property<'a>, Fail> {
    let id = PropertyId::from_u8(p.id).ok_or(bad_property(p.id))?;
    let text = |b: &'a [u8]| core::str::from_utf8(b).map_err(|_| bad_property(p.id));
    // SAFETY: per the function contract.
    let (a, b) = unsafe { (bytes(p.a), bytes(p.b)) };
    let raw = match p.kind {
        k if k == sys::umqtt_rs_prop_kind::UMQTT_RS_PROP_INT as u8 => RawValue::Int(p.value),
        k if k == sys::umqtt_rs_prop_kind::UMQTT_RS_PROP_PAIR as u8 => {
            RawValue::Pair(text(a)?, text(b)?)
        }
        _ => match id {
            PropertyId::CorrelationData | PropertyId::AuthenticationData => RawValue::Binary(a),
            _ => RawValue::Str(text(a)?),
        },
    };
    Property::from_raw(id, raw).ok_or(bad_property(p.id))
}

/// The caller's properties into `list`, a list on the caller's stack
/// (filled in place: a list returned by value is a copy of its whole
/// capacity on every publish).
///
/// # Safety
/// `props.items` must point to `props.count` entries whose byte strings
/// are readable for `'a` (or `count` must be 0).
unsafe fn props_of<'a>(props: umqtt_rs_props_t, list: &mut PropList<'a>) -> Result<(), Fail> {
    if props.count == 0 || props.items.is_null() {
        return Ok(());
    }
    if props.count > MAX_PROPS {
        return Err(arg(Ae::UMQTT_RS_ARG_OTHER));
    }
    // SAFETY: per the function contract.
    let items = unsafe { slice::from_raw_parts(props.items, props.count) };
    for p in items {
        // SAFETY: per the function contract.
        let p = unsafe { property_of(p) }?;
        // The count was checked above.
        let _ = list.push(p);
    }
    Ok(())
}

/// Sets the protocol version of the next connection.
///
/// # Safety
/// `client` must be initialised.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_set_protocol(client: *mut umqtt_rs_client_t, level: u8) -> St {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    let version = match level {
        4 => Version::V311,
        5 => Version::V5,
        _ => return st.report(Err(arg(Ae::UMQTT_RS_ARG_PROTOCOL))),
    };
    st.session.set_version(version);
    St::UMQTT_RS_OK
}

/// Starts an MQTT 5 connection.
///
/// # Safety
/// As [`super::umqtt_rs_connect`]; `v5` must point to valid options whose
/// property entries are readable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_connect5(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    opts: *const umqtt_rs_connect_opts_t,
    v5: *const umqtt_rs_connect5_opts_t,
) -> St {
    // SAFETY: per the function contract.
    let (st, o, v) = unsafe { (state(client), &*opts, &*v5) };
    st.reset_io();
    let r = (|| {
        // SAFETY: per the function contract, every byte string is readable.
        let (mut props, mut will_props) = (PropList::new(), PropList::new());
        let connect = unsafe {
            props_of(v.props, &mut props)?;
            props_of(v.will_props, &mut will_props)?;
            connect_of(o)?
        };
        let options = ConnectOptions {
            session_expiry: v.session_expiry,
            receive_maximum: v.receive_maximum,
            request_problem_information: v.request_problem_information,
            topic_alias_maximum: v.topic_alias_maximum,
            props: &props,
            will_props: &will_props,
        };
        st.with_tx(|s, tx| s.connect_with(now_ms, &connect, &options, tx))
            .map_err(status_of_any)
    })();
    st.report(r)
}

/// Queues a PUBLISH with properties (see the header for `payload_separate`);
/// in an MQTT 5 build [`super::umqtt_rs_publish`] is this without them,
/// so the firmware has one publish path.
///
/// # Safety
/// As [`super::umqtt_rs_publish`]; `props` entries readable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_publish5(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    topic: umqtt_rs_bytes_t,
    payload: umqtt_rs_bytes_t,
    qos_in: u8,
    retain: bool,
    props: umqtt_rs_props_t,
    pid: *mut u16,
    payload_separate: *mut bool,
) -> St {
    // SAFETY: per the function contract.
    let (st, topic, payload) = unsafe { (state(client), bytes(topic), bytes(payload)) };
    let r = (|| {
        let topic = topic_str(topic)?;
        let q = qos(qos_in)?;
        let mut list = PropList::new();
        // SAFETY: per the function contract.
        unsafe { props_of(props, &mut list) }?;
        let props = &list[..];
        let packet = wire5::Publish {
            publish: crate::wire::Publish {
                topic,
                qos: q,
                retain,
                dup: false,
                pid: 1,
                payload,
            },
            props: crate::wire::Properties::from_list(props),
        };
        // The header in the session's version (`umqtt_rs_publish` comes
        // here too): a 3.1.1 one has no property length.
        let header = packet
            .header_len_in(payload.len(), st.session.version())
            .map_err(super::encode_status)?;
        // SAFETY: the glue lent the map and does not use it during the call.
        let out_aliases = unsafe { raw_slice_mut(st.out_alias, st.out_alias_cap) };
        let (id, separate) = st.publish_in(header, payload.len(), |s, tx, separate| {
            if !separate && !out_aliases.is_empty() {
                let mut map = OutgoingAliases::new(&mut *out_aliases);
                s.publish_aliased(now_ms, topic, payload, q, retain, props, &mut map, tx)
            } else if !separate && props.is_empty() {
                // (As fast as a 3.1.1-only build's `umqtt_rs_publish`.)
                s.publish(now_ms, topic, payload, q, retain, tx)
            } else {
                s.publish_in(now_ms, topic, payload, separate, q, retain, props, tx)
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

/// Queues the header of a PUBLISH with properties whose payload the glue
/// streams (see the header).
///
/// # Safety
/// As [`super::umqtt_rs_publish_stream`]; `props` entries readable.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn umqtt_rs_publish_stream5(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    topic: umqtt_rs_bytes_t,
    length: usize,
    qos_in: u8,
    retain: bool,
    resendable: bool,
    props: umqtt_rs_props_t,
    pid: *mut u16,
) -> St {
    // SAFETY: per the function contract.
    let (st, topic, pid) = unsafe { (state(client), bytes(topic), &mut *pid) };
    super::queue_stream(st, topic, qos_in, length, pid, |st, topic, q| {
        let mut given = PropList::new();
        // SAFETY: per the function contract.
        unsafe { props_of(props, &mut given) }?;
        st.with_tx(|s, tx| {
            s.publish_streamed_with(now_ms, topic, length, q, retain, resendable, &given, tx)
        })
        .map_err(status_of_any)
    })
}

/// Queues an MQTT 5 SUBSCRIBE with properties (see the header).
///
/// # Safety
/// As [`super::umqtt_rs_subscribe`]; `props` entries readable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_subscribe5(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    topics: *const umqtt_rs_topic_t,
    count: usize,
    props: umqtt_rs_props_t,
    pid: *mut u16,
) -> St {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    let r = (|| {
        // SAFETY: per the function contract: `topics` holds `count`
        // readable entries, `props` readable ones.
        let list = unsafe { super::topic_list(topics, count) }?;
        let mut given = PropList::new();
        // SAFETY: as above.
        unsafe { props_of(props, &mut given) }?;
        // SAFETY: `topics` holds the entries `list` was read from.
        let options = unsafe { with_options(topics, &list) };
        let id = st
            .with_tx(|s, tx| s.subscribe_with_options(now_ms, &options, &given, tx))
            .map_err(status_of_any)?;
        // SAFETY: per the function contract.
        unsafe { *pid = id };
        Ok(())
    })();
    st.report(r)
}

/// Queues an MQTT 5 DISCONNECT.
///
/// # Safety
/// `client` must be initialised; `props` entries readable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_disconnect5(
    client: *mut umqtt_rs_client_t,
    reason: u8,
    props: umqtt_rs_props_t,
) -> St {
    // SAFETY: per the function contract.
    unsafe { reason_packet(client, None, reason, props) }
}

/// DISCONNECT (`auth_at` None) or AUTH at `auth_at` ms with the caller's
/// reason code and properties: one body for both exports.
///
/// # Safety
/// As [`umqtt_rs_disconnect5`].
#[inline(never)]
unsafe fn reason_packet(
    client: *mut umqtt_rs_client_t,
    auth_at: Option<u64>,
    reason: u8,
    props: umqtt_rs_props_t,
) -> St {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    let r = (|| {
        let reason = ReasonCode::from_u8(reason).ok_or(arg(Ae::UMQTT_RS_ARG_OTHER))?;
        let mut props_list = PropList::new();
        // SAFETY: per the function contract.
        unsafe { props_of(props, &mut props_list) }?;
        let props = &props_list[..];
        st.with_tx(|s, tx| match auth_at {
            Some(now_ms) => s.auth(now_ms, reason, props, tx),
            None => s.disconnect_with(reason, props, tx),
        })
        .map_err(status_of_any)
    })();
    st.report(r)
}

/// Lends the incoming topic alias map.
///
/// # Safety
/// As [`super::umqtt_rs_init`]; a new map must hold the same bytes as the
/// old one.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_set_alias_buffer(
    client: *mut umqtt_rs_client_t,
    buf: *mut u8,
    cap: usize,
) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    st.alias = buf;
    st.alias_cap = if buf.is_null() { 0 } else { cap };
}

/// Lends the outgoing topic alias map (see the header).
///
/// # Safety
/// As [`super::umqtt_rs_init`]; `buf` writable for `cap` bytes while lent.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_set_out_alias_buffer(
    client: *mut umqtt_rs_client_t,
    buf: *mut u8,
    cap: usize,
) {
    // SAFETY: per the function contract.
    let st = unsafe { state(client) };
    st.out_alias = buf;
    st.out_alias_cap = if buf.is_null() { 0 } else { cap };
    // A new map holds none of the old one's aliases.
    st.session.forget_out_aliases();
}

/// Queues an AUTH (see the header).
///
/// # Safety
/// `client` must be initialised; `props` entries readable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_auth(
    client: *mut umqtt_rs_client_t,
    now_ms: u64,
    reason: u8,
    props: umqtt_rs_props_t,
) -> St {
    // SAFETY: per the function contract.
    unsafe { reason_packet(client, Some(now_ms), reason, props) }
}

/// The CONNACK's limits.
///
/// # Safety
/// `client` must be initialised; `out` writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_server_limits(
    client: *const umqtt_rs_client_t,
    out: *mut umqtt_rs_server_limits_t,
) {
    // SAFETY: per the function contract.
    let s = &unsafe { state_ref(client) }.session;
    let (wildcards, ids, shared) = s.server_subscriptions_available();
    let limits = umqtt_rs_server_limits_t {
        maximum_packet_size: s.server_maximum_packet_size(),
        receive_maximum: s.server_receive_maximum(),
        topic_alias_maximum: s.server_topic_alias_maximum(),
        keepalive: s.server_keep_alive().unwrap_or(0),
        maximum_qos: s.server_maximum_qos() as u8,
        retain_available: s.server_retain_available(),
        server_keep_alive: s.server_keep_alive().is_some(),
        wildcard_available: wildcards,
        subscription_ids_available: ids,
        shared_available: shared,
    };
    // SAFETY: per the function contract.
    unsafe { ptr::write(out, limits) };
}

/// Reads one property of a section.
///
/// # Safety
/// `props` readable; `at` and `out` writable.
#[no_mangle]
pub unsafe extern "C" fn umqtt_rs_prop_next(
    props: umqtt_rs_bytes_t,
    at: *mut usize,
    out: *mut umqtt_rs_prop_t,
) -> bool {
    // SAFETY: per the function contract.
    let (section, at) = unsafe { (bytes(props), &mut *at) };
    let Some((p, next)) = Property::read_at(section, *at) else {
        return false;
    };
    *at = next;
    let none = umqtt_rs_bytes_t {
        ptr: ptr::null(),
        len: 0,
    };
    let of = |b: &[u8]| umqtt_rs_bytes_t {
        ptr: b.as_ptr(),
        len: b.len(),
    };
    use sys::umqtt_rs_prop_kind as K;
    let (kind, value, a, b) = match p.raw() {
        RawValue::Int(v) => (K::UMQTT_RS_PROP_INT, v, none, none),
        RawValue::Str(s) => (K::UMQTT_RS_PROP_STR, 0, of(s.as_bytes()), none),
        RawValue::Binary(d) => (K::UMQTT_RS_PROP_BIN, 0, of(d), none),
        RawValue::Pair(k, v) => (K::UMQTT_RS_PROP_PAIR, 0, of(k.as_bytes()), of(v.as_bytes())),
    };
    let id = p.id();
    let prop = umqtt_rs_prop_t {
        a,
        b,
        value,
        id: id as u8,
        kind: kind as u8,
        many: id.repeatable_in(crate::wire::Context::Publish),
    };
    // SAFETY: per the function contract.
    unsafe { ptr::write(out, prop) };
    true
}

/// The SUBSCRIBE entries of `list` (read from `topics`) with their MQTT 5
/// options.
///
/// # Safety
/// `topics` must point to at least `list.len()` entries.
pub(super) unsafe fn with_options<'a>(
    topics: *const umqtt_rs_topic_t,
    list: &[(&'a str, QoS)],
) -> Vec<(&'a str, SubscriptionOptions), MAX_TOPICS_PER_CALL> {
    // SAFETY: per the function contract.
    let entries = unsafe { slice::from_raw_parts(topics, list.len()) };
    let mut out = Vec::new();
    for (&(filter, qos), e) in list.iter().zip(entries) {
        let retain_handling = match e.retain_handling {
            0 => RetainHandling::SendAtSubscribe,
            1 => RetainHandling::SendIfNew,
            _ => RetainHandling::DoNotSend,
        };
        let options = SubscriptionOptions {
            qos,
            no_local: e.no_local,
            retain_as_published: e.retain_as_published,
            retain_handling,
        };
        // `list` holds at most as many.
        let _ = out.push((filter, options));
    }
    out
}

/// [`super::umqtt_rs_next_event`] in an MQTT 5 build, for both versions:
/// packets read in the session's version into the MQTT 5 representation
/// (a 3.1.1 session's give the 3.1.1 events), incoming topic aliases in
/// the lent map, and a message in pieces, with its properties on each.
pub(super) fn next_event(st: &mut State, now_ms: u64, ev: &mut umqtt_rs_event_t) -> St {
    let (max, chunk, version) = (st.session.max_packet_size(), st.chunk, st.session.version());
    // SAFETY: the RxBuf and the alias map live only in this call (the glue
    // lent both and uses neither meanwhile); the packet an event borrows
    // stays lent (unmoved) until the next call, as the header promises.
    let (mut rx, alias_mem) = unsafe { (st.rx(), raw_slice_mut(st.alias, st.alias_cap)) };
    let mut aliases = TopicAliases::new(alias_mem);
    let r = loop {
        let (packet, piece) = match rx.next_frame_v5(max, chunk, version) {
            Ok(Some(FrameOf::Packet(p))) => (p, None),
            Ok(Some(FrameOf::Chunk(mut c))) if !c.is_first() => {
                // A topic sent as an alias alone: the map has it (the first
                // piece went through the session, which resolved it).
                if let (true, Some(a)) = (c.publish.topic.is_empty(), c.props.topic_alias()) {
                    c.publish.topic = aliases.get(a).unwrap_or_default();
                }
                fill_chunk(ev, &c.publish, c.offset, c.total);
                fill_props(ev, c.props);
                break Ok(());
            }
            // The first piece: the session decides (delivery, or a resend
            // of a held id: PUBREC and the rest dropped).
            Ok(Some(FrameOf::Chunk(c))) => {
                let publish = wire5::Publish {
                    publish: c.publish,
                    props: c.props,
                };
                (wire5::Packet::Publish(publish), Some((c.offset, c.total)))
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        };
        // What an error ending the connection carries (None in 3.1.1).
        let closing = match &packet {
            wire5::Packet::Disconnect(d) => d.props.as_bytes(),
            wire5::Packet::Connack(c) => c.props.as_bytes(),
            _ => None,
        }
        .filter(|p| !p.is_empty());
        match st.with_tx_inline(|s, tx| s.handle_v5_aliased(now_ms, packet, &mut aliases, tx)) {
            Ok(Some(Event::Message(p))) if piece.is_some() => {
                let (offset, total) = piece.unwrap_or_default();
                fill_chunk(ev, &p, offset, total);
                break Ok(());
            }
            Ok(Some(Event::Message5 { publish, props })) if piece.is_some() => {
                let (offset, total) = piece.unwrap_or_default();
                fill_chunk(ev, &publish, offset, total);
                fill_props(ev, props);
                break Ok(());
            }
            Ok(None) if piece.is_some() => rx.skip_stream(),
            Ok(None) => {}
            Ok(Some(e)) => {
                fill_event5(ev, &e);
                break Ok(());
            }
            Err(e) => {
                if let Some(props) = closing {
                    ev.props = umqtt_rs_bytes_t {
                        ptr: props.as_ptr(),
                        len: props.len(),
                    };
                }
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

/// An event's property section (a piece's: every piece of a message has
/// its PUBLISH's).
fn fill_props(ev: &mut umqtt_rs_event_t, props: Properties<'_>) {
    if let Some(p) = props.as_bytes() {
        ev.props = umqtt_rs_bytes_t {
            ptr: p.as_ptr(),
            len: p.len(),
        };
    }
}

/// [`fill_event`] for the MQTT 5 events.
fn fill_event5(ev: &mut umqtt_rs_event_t, e: &Event<'_>) {
    let props = match *e {
        Event::Connected5 {
            session_present,
            props,
        } => {
            fill_event(ev, &Event::Connected { session_present });
            props.as_bytes()
        }
        Event::Message5 { publish, props } => {
            fill_event(ev, &Event::Message(publish));
            props.as_bytes()
        }
        Event::Unsubscribed5 { pid, reason_codes } => {
            fill_event(ev, &Event::Unsubscribed { pid });
            ev.payload = reason_codes.as_ptr();
            ev.payload_len = reason_codes.len();
            None
        }
        Event::PublishFailed { pid, reason } => {
            ev.kind = Ek::UMQTT_RS_EV_PUBLISH_FAILED as u8;
            ev.pid = pid;
            ev.reason = reason as u8;
            None
        }
        Event::Auth { reason, props } => {
            ev.kind = Ek::UMQTT_RS_EV_AUTH as u8;
            ev.reason = reason as u8;
            props.as_bytes()
        }
        _ => {
            fill_event(ev, e);
            None
        }
    };
    if let Some(p) = props {
        ev.props = umqtt_rs_bytes_t {
            ptr: p.as_ptr(),
            len: p.len(),
        };
    }
}

/// Binds the MQTT 5 exports to their header prototypes (as
/// `super::abi_check`).
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
        umqtt_rs_set_protocol(_, _);
        umqtt_rs_connect5(_, _, _, _);
        umqtt_rs_publish5(_, _, _, _, _, _, _, _, _);
        umqtt_rs_subscribe5(_, _, _, _, _, _);
        umqtt_rs_publish_stream5(_, _, _, _, _, _, _, _, _);
        umqtt_rs_disconnect5(_, _, _);
        umqtt_rs_set_alias_buffer(_, _, _);
        umqtt_rs_set_out_alias_buffer(_, _, _);
        umqtt_rs_auth(_, _, _, _);
        umqtt_rs_server_limits(_, _);
        umqtt_rs_prop_next(_, _, _);
    }
}
