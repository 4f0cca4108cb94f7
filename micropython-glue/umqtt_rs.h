// umqtt_rs.h: the ABI contract between the Rust core and the C glue.
//
// The Rust library is sans-IO: the glue owns the memory (one client state
// block, an rx buffer and a tx buffer, all allocated by MicroPython's GC), reads
// bytes from the socket into the window Rust lends it, writes the bytes Rust
// queued, and passes the time in milliseconds.  Rust never calls MicroPython and
// never keeps a Python object; every call returns before the glue runs Python.
//
// Every function returning umqtt_rs_status_t fills, on failure, a detail value
// readable with umqtt_rs_error_detail() (a CONNACK return code, a topic error,
// the size a packet needs).  Pointers in umqtt_rs_event_t borrow the rx buffer
// and stay valid until the next call on the same client.
//
// A message event (QoS 1/2) acknowledges nothing: once the application has
// the message, umqtt_rs_ack() queues its PUBACK/PUBREC; if it could not take
// it, umqtt_rs_abandon() drops it unacknowledged (the broker resends it
// after a reconnect).
//
// src/sys.rs is generated from this file by bindgen (make bindings); the Rust
// exports are checked against these prototypes at compile time.
#ifndef UMQTT_RS_H
#define UMQTT_RS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// Size in 64-bit words of the opaque client state block (checked by Rust).
#define UMQTT_RS_CLIENT_WORDS 146

// Incoming QoS 2 ids awaiting PUBREL held without a bitmap; beyond them the
// core asks for one of UMQTT_RS_HELD_BITMAP_BYTES (UMQTT_RS_ERR_HELD_FULL).
#define UMQTT_RS_INLINE_HELD 64
#define UMQTT_RS_HELD_BITMAP_BYTES 8192
// Messages that may be with the application unacknowledged at once.
#define UMQTT_RS_MAX_UNACKED 32

// Opaque storage for the Rust client state; 8-byte aligned.
typedef struct umqtt_rs_client {
    uint64_t opaque[UMQTT_RS_CLIENT_WORDS];
} umqtt_rs_client_t;

// Result of every fallible call.
typedef enum umqtt_rs_status {
    UMQTT_RS_OK = 0,
    // The call needs an accepted CONNACK first.
    UMQTT_RS_ERR_NOT_CONNECTED = 1,
    // The broker refused the connection; detail = CONNACK return code.
    UMQTT_RS_ERR_REFUSED = 2,
    // The broker sent malformed bytes; detail = umqtt_rs_decode_error_t.
    UMQTT_RS_ERR_DECODE = 3,
    // The broker broke the protocol; detail = umqtt_rs_protocol_error_t.
    UMQTT_RS_ERR_PROTOCOL = 4,
    // No PINGRESP (or CONNACK) in time: the broker is presumed dead.
    UMQTT_RS_ERR_TIMEOUT = 5,
    // The tx buffer is full: write the pending bytes and call again.
    // detail = bytes the packet needs; if above the tx capacity it never fits.
    UMQTT_RS_ERR_TX_FULL = 6,
    // The in-flight window (outgoing QoS 1/2 or incoming QoS 2) is full.
    UMQTT_RS_ERR_INFLIGHT_FULL = 7,
    // A topic name or filter is invalid; detail = umqtt_rs_topic_error_t.
    UMQTT_RS_ERR_TOPIC = 8,
    // A field is too long to encode (string over 65,535 bytes, packet over
    // 268,435,455 bytes, password without user name).
    UMQTT_RS_ERR_TOO_LONG = 9,
    // An incoming packet does not fit the rx buffer; detail = bytes needed.
    // Give a larger buffer with umqtt_rs_set_rx_buffer() and call again.
    UMQTT_RS_ERR_RX_TOO_SMALL = 10,
    // An argument is invalid; detail = umqtt_rs_argument_error_t.
    UMQTT_RS_ERR_ARGUMENT = 11,
    // A QoS 1/2 packet does not fit the free space of the message store;
    // detail = bytes it needs.  If that is above the store's capacity, give a
    // larger store (umqtt_rs_set_store_buffer); else wait for acknowledgements.
    UMQTT_RS_ERR_STORE_FULL = 12,
    // An incoming QoS 2 message would be held beside UMQTT_RS_INLINE_HELD
    // others and no held-id bitmap was lent: lend one
    // (umqtt_rs_set_held_buffer, UMQTT_RS_HELD_BITMAP_BYTES) and call again,
    // or close the connection.  Nothing was delivered nor acknowledged.
    UMQTT_RS_ERR_HELD_FULL = 13,
    // UMQTT_RS_MAX_UNACKED messages are with the application unacknowledged
    // (they arrived while a callback ran): close the connection.
    UMQTT_RS_ERR_UNACKED_FULL = 14,
    // An outgoing packet exceeds the maximum packet size; detail = its size.
    // Nothing was queued.
    UMQTT_RS_ERR_PACKET_TOO_LARGE = 15,
    // The broker announced a packet over the maximum packet size; detail = its
    // size.  Nothing of it was read: close the connection.
    UMQTT_RS_ERR_INCOMING_TOO_LARGE = 16,
    // Saved session bytes cannot be restored; detail = umqtt_rs_session_error_t.
    // Nothing changed.
    UMQTT_RS_ERR_SESSION = 17,
    // MQTT 5: the broker closed the connection with a DISCONNECT; detail =
    // its reason code, the event's props = its properties.
    UMQTT_RS_ERR_SERVER_DISCONNECT = 18,
    // MQTT 5: a property cannot be sent (not allowed in the packet,
    // repeated, a bad value or kind); detail = the property identifier.
    // Nothing was queued.
    UMQTT_RS_ERR_PROPERTY = 19,
    // MQTT 5: the broker set a topic alias whose topic does not fit the
    // alias map; detail = bytes it needs.  Lend a larger map
    // (umqtt_rs_set_alias_buffer, holding the same bytes) and call again.
    UMQTT_RS_ERR_ALIAS_FULL = 20,
} umqtt_rs_status_t;

// The Rust side returns statuses as 32-bit values.  Bare-metal ARM EABI
// compilers use short enums (1 byte here): a status is only ever a return
// value, which AAPCS passes in r0 zero-extended, so that is compatible too.
#if !defined(__ARM_SIZEOF_MINIMAL_ENUM) || __ARM_SIZEOF_MINIMAL_ENUM == 4
_Static_assert(sizeof(umqtt_rs_status_t) == 4, "umqtt_rs_status_t must be 32-bit");
#endif

// Detail of UMQTT_RS_ERR_TOPIC.
typedef enum umqtt_rs_topic_error {
    UMQTT_RS_TOPIC_EMPTY = 1,
    UMQTT_RS_TOPIC_TOO_LONG = 2,
    UMQTT_RS_TOPIC_WILDCARD = 3,
    UMQTT_RS_TOPIC_BAD_FILTER = 4,
    UMQTT_RS_TOPIC_NUL = 5,
    UMQTT_RS_TOPIC_UTF8 = 6,
} umqtt_rs_topic_error_t;

// Detail of UMQTT_RS_ERR_ARGUMENT.
typedef enum umqtt_rs_argument_error {
    UMQTT_RS_ARG_OTHER = 0,
    // QoS not 0, 1 or 2.
    UMQTT_RS_ARG_QOS = 1,
    // A client id or user name is not valid UTF-8.
    UMQTT_RS_ARG_UTF8 = 2,
    // U+0000 in a client id or user name.
    UMQTT_RS_ARG_NUL = 3,
    // An empty client id needs a clean session [MQTT-3.1.3-7].
    UMQTT_RS_ARG_EMPTY_CLIENT_ID = 4,
    // A password needs a user name in MQTT 3.1.1 [MQTT-3.1.2-22].
    UMQTT_RS_ARG_PASSWORD_WITHOUT_USER = 5,
    // 1 to 8 topics per SUBSCRIBE/UNSUBSCRIBE call.
    UMQTT_RS_ARG_TOPIC_COUNT = 6,
    // MQTT 5: a QoS above the broker's Maximum QoS (its CONNACK).
    UMQTT_RS_ARG_QOS_NOT_SUPPORTED = 7,
    // MQTT 5: retain to a broker whose CONNACK said Retain Available 0.
    UMQTT_RS_ARG_RETAIN_NOT_SUPPORTED = 8,
    // Something only MQTT 5 can say, in an MQTT 3.1.1 session.
    UMQTT_RS_ARG_NOT_IN_VERSION = 9,
    // Not 4 (MQTT 3.1.1) or, with MQTT 5 in the core, 5.
    UMQTT_RS_ARG_PROTOCOL = 10,
    // MQTT 5: an AUTH that may not be sent now (no Authentication Method in
    // it or in the CONNECT, no challenge to answer, a re-authentication
    // before the CONNACK or while one is under way).
    UMQTT_RS_ARG_AUTH_NOT_EXPECTED = 11,
    // MQTT 5: a SUBSCRIBE using what the broker's CONNACK said it does not
    // support: a wildcard filter, a shared subscription ($share/), a
    // Subscription Identifier.
    UMQTT_RS_ARG_WILDCARD_NOT_SUPPORTED = 12,
    UMQTT_RS_ARG_SHARED_NOT_SUPPORTED = 13,
    UMQTT_RS_ARG_SUBSCRIPTION_ID_NOT_SUPPORTED = 14,
} umqtt_rs_argument_error_t;

// Detail of UMQTT_RS_ERR_PROTOCOL.
typedef enum umqtt_rs_protocol_error {
    UMQTT_RS_PROTO_UNEXPECTED_PACKET = 1,
    UMQTT_RS_PROTO_UNKNOWN_PACKET_ID = 2,
    UMQTT_RS_PROTO_OTHER = 3,
    // PUBACK for a QoS 2 publish: the broker does not support QoS 2.
    UMQTT_RS_PROTO_PUBACK_FOR_QOS2 = 4,
    // PUBREC for a QoS 1 publish.
    UMQTT_RS_PROTO_PUBREC_FOR_QOS1 = 5,
    // PUBCOMP for a publish that awaits PUBACK or PUBREC.
    UMQTT_RS_PROTO_EARLY_PUBCOMP = 6,
    // MQTT 5: a topic alias above our maximum or never set.
    UMQTT_RS_PROTO_TOPIC_ALIAS = 7,
    // MQTT 5: more QoS 1/2 messages unacknowledged than our Receive Maximum.
    UMQTT_RS_PROTO_RECEIVE_MAXIMUM = 8,
} umqtt_rs_protocol_error_t;

// Detail of UMQTT_RS_ERR_DECODE.
typedef enum umqtt_rs_decode_error {
    UMQTT_RS_DECODE_PACKET_TYPE = 1,
    UMQTT_RS_DECODE_RESERVED_FLAGS = 2,
    UMQTT_RS_DECODE_REMAINING_LENGTH = 3,
    UMQTT_RS_DECODE_LENGTH = 4,
    UMQTT_RS_DECODE_QOS = 5,
    UMQTT_RS_DECODE_UTF8 = 6,
    UMQTT_RS_DECODE_CONNACK_CODE = 7,
    UMQTT_RS_DECODE_SUBACK_CODE = 8,
    UMQTT_RS_DECODE_PACKET_ID = 9,
    UMQTT_RS_DECODE_TOPIC = 10,
    UMQTT_RS_DECODE_OTHER = 11,
} umqtt_rs_decode_error_t;

// Detail of UMQTT_RS_ERR_SESSION.
typedef enum umqtt_rs_session_error {
    // Not session bytes, or another format version.
    UMQTT_RS_SESSION_FOREIGN = 1,
    UMQTT_RS_SESSION_TRUNCATED = 2,
    // The checksum does not match: damaged bytes.
    UMQTT_RS_SESSION_CHECKSUM = 3,
    // An impossible state (id 0 or twice, unknown flow, wrong stored packet).
    UMQTT_RS_SESSION_INVALID = 4,
    // The client is connected: restore before connecting.
    UMQTT_RS_SESSION_CONNECTED = 5,
    // Resuming (clean_session false) in another protocol version than the
    // messages in flight were stored in: connect in theirs, or clean.
    UMQTT_RS_SESSION_VERSION = 6,
} umqtt_rs_session_error_t;

// What umqtt_rs_next_event() found.
typedef enum umqtt_rs_event_kind {
    // No complete packet is buffered: read more bytes.
    UMQTT_RS_EV_NONE = 0,
    // CONNACK accepted; session_present is set.
    UMQTT_RS_EV_CONNECTED = 1,
    // A message for the application: topic, payload, qos, retain, dup, pid.
    UMQTT_RS_EV_MESSAGE = 2,
    // An outgoing QoS 1/2 publish completed (PUBACK / PUBCOMP); pid is set.
    UMQTT_RS_EV_PUBLISHED = 3,
    // SUBACK; pid is set and payload holds the return codes.
    UMQTT_RS_EV_SUBSCRIBED = 4,
    // UNSUBACK; pid is set.
    UMQTT_RS_EV_UNSUBSCRIBED = 5,
    // PINGRESP.
    UMQTT_RS_EV_PONG = 6,
    // A piece of a message whose payload is larger than the chunk size
    // (umqtt_rs_set_chunk_size): topic, payload (this piece), offset, total,
    // qos, retain, dup, pid.  Acknowledge (umqtt_rs_ack) after the last
    // piece (offset + payload_len == total); umqtt_rs_stream_skip() drops
    // the rest of one the application gave up on.
    UMQTT_RS_EV_CHUNK = 7,
    // MQTT 5: the broker refused outgoing QoS 1/2 message pid (a PUBACK or
    // PUBREC with a failure reason code, in `reason`); its flow is over.
    UMQTT_RS_EV_PUBLISH_FAILED = 8,
    // MQTT 5: an AUTH from the broker (enhanced authentication): `reason`
    // Continue Authentication (0x18), a challenge to answer with
    // umqtt_rs_auth(), or Success (0x00), the end of a re-authentication;
    // `props` its properties (method, data, reason string).
    UMQTT_RS_EV_AUTH = 9,
} umqtt_rs_event_kind_t;

// A borrowed byte string; ptr may be NULL when len is 0.
typedef struct umqtt_rs_bytes {
    const uint8_t *ptr;
    size_t len;
} umqtt_rs_bytes_t;

// MQTT 5 differences: UMQTT_RS_EV_CONNECTED and UMQTT_RS_EV_MESSAGE carry
// their packet's properties in `props` (read them with
// umqtt_rs_prop_next()); UMQTT_RS_EV_UNSUBSCRIBED's payload holds the
// reason codes; UMQTT_RS_EV_SUBSCRIBED's are reason codes (granted QoS, or
// a failure from 0x80).  With UMQTT_RS_ERR_SERVER_DISCONNECT and
// UMQTT_RS_ERR_REFUSED, `props` holds the DISCONNECT's or CONNACK's
// properties (valid until the next call, as every pointer here).
typedef struct umqtt_rs_event {
    const uint8_t *topic;
    size_t topic_len;
    const uint8_t *payload;
    size_t payload_len;
    // UMQTT_RS_EV_CHUNK: where the piece starts, and the payload's length.
    size_t offset;
    size_t total;
    // MQTT 5: the packet's property section (empty in 3.1.1).
    umqtt_rs_bytes_t props;
    uint16_t pid;
    uint8_t kind; // umqtt_rs_event_kind_t
    uint8_t qos;
    bool retain;
    bool dup;
    bool session_present;
    // UMQTT_RS_EV_PUBLISH_FAILED, UMQTT_RS_EV_AUTH: the reason code.
    uint8_t reason;
} umqtt_rs_event_t;

// CONNECT options. user.ptr == NULL means no user name, password.ptr == NULL
// no password, will_topic.ptr == NULL no last will.
typedef struct umqtt_rs_connect_opts {
    umqtt_rs_bytes_t client_id;
    umqtt_rs_bytes_t user;
    umqtt_rs_bytes_t password;
    umqtt_rs_bytes_t will_topic;
    umqtt_rs_bytes_t will_message;
    uint16_t keepalive_s;
    uint8_t will_qos;
    bool will_retain;
    bool clean_session;
} umqtt_rs_connect_opts_t;

// One entry of a SUBSCRIBE or UNSUBSCRIBE (only the filter counts for the
// latter).  The MQTT 5 subscription options must be 0 (false) in 3.1.1.
typedef struct umqtt_rs_topic {
    umqtt_rs_bytes_t filter;
    uint8_t qos;
    // MQTT 5: not one's own messages; the RETAIN flag as published; when
    // retained messages are sent: 0 at every subscribe, 1 only for a new
    // subscription, 2 never.
    bool no_local;
    bool retain_as_published;
    uint8_t retain_handling;
} umqtt_rs_topic_t;

// Set up a client in `client` with the given buffers.  rx must hold the
// largest packet the application expects (it can grow later); tx holds the
// packets waiting to be written; store keeps the sent QoS 1/2 packets until
// they are acknowledged, for the resend after a reconnect (store_cap 0: no
// resend).
void umqtt_rs_init(umqtt_rs_client_t *client, uint8_t *rx, size_t rx_cap, uint8_t *tx, size_t tx_cap, uint8_t *store, size_t store_cap);

// Replace the message store (a copy holding the same first
// umqtt_rs_store_used() bytes, as after a realloc).
void umqtt_rs_set_store_buffer(umqtt_rs_client_t *client, uint8_t *store, size_t store_cap);

// Bytes of the message store in use.
size_t umqtt_rs_store_used(const umqtt_rs_client_t *client);

// How many outgoing QoS 1/2 messages may await acknowledgement at once
// (clamped to 1..32; default 16).
void umqtt_rs_set_window(umqtt_rs_client_t *client, size_t window);

// Replace the rx buffer (for example a larger copy); the first rx_len bytes of
// the new buffer must equal the old buffer's (as after a realloc).
void umqtt_rs_set_rx_buffer(umqtt_rs_client_t *client, uint8_t *rx, size_t rx_cap);

// Replace the tx buffer (for example a larger copy holding the same pending
// bytes, as after a realloc).
void umqtt_rs_set_tx_buffer(umqtt_rs_client_t *client, uint8_t *tx, size_t tx_cap);

// Lend the held-id bitmap (UMQTT_RS_HELD_BITMAP_BYTES, any content) after
// UMQTT_RS_ERR_HELD_FULL.  It stays the core's while umqtt_rs_held_in_use().
void umqtt_rs_set_held_buffer(umqtt_rs_client_t *client, uint8_t *bits, size_t cap);

// Whether the held-id bitmap holds ids (it must then not be taken back).
bool umqtt_rs_held_in_use(const umqtt_rs_client_t *client);

// The largest packet sent or accepted, fixed header included (0: MQTT's
// own limit).  A larger publish gives UMQTT_RS_ERR_PACKET_TOO_LARGE, a larger
// incoming packet UMQTT_RS_ERR_INCOMING_TOO_LARGE as soon as its header is in.
void umqtt_rs_set_max_packet_size(umqtt_rs_client_t *client, size_t size);

// Value describing the last failure (see umqtt_rs_status_t).
uint32_t umqtt_rs_error_detail(const umqtt_rs_client_t *client);

// Start a connection on a fresh transport: queues CONNECT, clears the rx
// buffer and any unsent bytes of the previous connection.
umqtt_rs_status_t umqtt_rs_connect(umqtt_rs_client_t *client, uint64_t now_ms, const umqtt_rs_connect_opts_t *opts);

// Queue a PUBLISH; *pid receives its packet id (0 for QoS 0).  When the whole
// packet does not fit the tx buffer, only the bytes before the payload are
// queued and *payload_separate is set: the payload is the tx tail
// (umqtt_rs_tx_tail), written from the caller's memory after the pending tx
// bytes; until it is all written nothing else is queued (UMQTT_RS_ERR_TX_FULL).
umqtt_rs_status_t umqtt_rs_publish(umqtt_rs_client_t *client, uint64_t now_ms, umqtt_rs_bytes_t topic, umqtt_rs_bytes_t payload, uint8_t qos, bool retain, uint16_t *pid, bool *payload_separate);

// Queue the header of a PUBLISH whose payload, `length` bytes, the caller
// writes from elsewhere (a stream) as the tx tail (umqtt_rs_tx_tail).  With
// `resendable` (the caller can read the payload again from its start) a
// QoS 1/2 message's header is stored: a resend after a reconnect queues it
// and asks for the payload again as the tail, naming the message
// (umqtt_rs_tx_tail_pid).  Without, a QoS 1/2 message is not resent.
umqtt_rs_status_t umqtt_rs_publish_stream(umqtt_rs_client_t *client, uint64_t now_ms, umqtt_rs_bytes_t topic, size_t length, uint8_t qos, bool retain, bool resendable, uint16_t *pid);

// Queue a SUBSCRIBE / UNSUBSCRIBE with `count` entries; *pid receives its id.
umqtt_rs_status_t umqtt_rs_subscribe(umqtt_rs_client_t *client, uint64_t now_ms, const umqtt_rs_topic_t *topics, size_t count, uint16_t *pid);
umqtt_rs_status_t umqtt_rs_unsubscribe(umqtt_rs_client_t *client, uint64_t now_ms, const umqtt_rs_topic_t *topics, size_t count, uint16_t *pid);

// Queue a PINGREQ.
umqtt_rs_status_t umqtt_rs_ping(umqtt_rs_client_t *client, uint64_t now_ms);

// Queue a DISCONNECT; the session is no longer connected.
umqtt_rs_status_t umqtt_rs_disconnect(umqtt_rs_client_t *client);

// The transport failed or closed: the connection state is reset.
void umqtt_rs_connection_lost(umqtt_rs_client_t *client);

// Run the timers: may queue a PINGREQ; UMQTT_RS_ERR_TIMEOUT when the broker
// is presumed dead.
umqtt_rs_status_t umqtt_rs_poll(umqtt_rs_client_t *client, uint64_t now_ms);

// When umqtt_rs_poll() must next run (absolute ms); false when no timer runs.
bool umqtt_rs_poll_at(const umqtt_rs_client_t *client, uint64_t *at_ms);

// The free part of the rx buffer: read up to *len bytes into *ptr, then
// report how many with umqtt_rs_rx_commit().  *len is 0 when the buffer is
// full (a packet larger than it: umqtt_rs_next_event() says how much it needs).
void umqtt_rs_rx_window(umqtt_rs_client_t *client, uint8_t **ptr, size_t *len);
void umqtt_rs_rx_commit(umqtt_rs_client_t *client, size_t n);

// Whether umqtt_rs_next_event() has something to do without reading: a
// complete packet (or a malformed header) is buffered.
bool umqtt_rs_rx_ready(const umqtt_rs_client_t *client);

// Handle the next complete buffered packet, if any, and describe it in *ev.
// On UMQTT_RS_ERR_TX_FULL write the pending bytes and call again (the packet
// is kept); on UMQTT_RS_ERR_RX_TOO_SMALL give a larger rx buffer, on
// UMQTT_RS_ERR_HELD_FULL the held-id bitmap, and call again.  Any other error
// means the connection must be closed.
umqtt_rs_status_t umqtt_rs_next_event(umqtt_rs_client_t *client, uint64_t now_ms, umqtt_rs_event_t *ev);

// Bytes queued for the transport, oldest first; report what was written with
// umqtt_rs_tx_consume().
void umqtt_rs_tx_pending(const umqtt_rs_client_t *client, const uint8_t **ptr, size_t *len);
void umqtt_rs_tx_consume(umqtt_rs_client_t *client, size_t n);

// Bytes of the tail still to write: the last bytes of the payload of a
// publish that set *payload_separate, to be written once umqtt_rs_tx_pending
// is empty.  umqtt_rs_tx_consume() counts the pending bytes first, then these.
size_t umqtt_rs_tx_tail(const umqtt_rs_client_t *client);

// The message whose resend asked for the tail (a streamed payload to write
// again from its start), or 0 when the tail is the caller's own publish.
uint16_t umqtt_rs_tx_tail_pid(const umqtt_rs_client_t *client);

// The application has message `pid` of a message event: queue its PUBACK /
// PUBREC (a QoS 2 id is held from now on).  An ack that does not fit now is
// queued by a later call; nothing to do for a message no longer awaited.
umqtt_rs_status_t umqtt_rs_ack(umqtt_rs_client_t *client, uint64_t now_ms, uint16_t pid);

// The application could not take message `pid`: it stays unacknowledged.
void umqtt_rs_abandon(umqtt_rs_client_t *client, uint16_t pid);

// Messages whose payload is larger than `size` bytes come as
// UMQTT_RS_EV_CHUNK pieces of `size` bytes; the rx buffer then needs only
// the header and one piece (0: whole messages only, the default).  Such a
// message is not held to the maximum packet size.
void umqtt_rs_set_chunk_size(umqtt_rs_client_t *client, size_t size);

// Drop the rest of the message being passed on in pieces (its bytes are
// read and discarded).
void umqtt_rs_stream_skip(umqtt_rs_client_t *client);

// Write the session's durable state (packet-id counter, resendable QoS 1/2
// messages, held QoS 2 ids; format in src/session/persist.rs) and the
// application's `extra` bytes (at most 65,535) into out; *len receives its
// length.  UMQTT_RS_ERR_TX_FULL (detail = bytes needed) when cap is too small.
umqtt_rs_status_t umqtt_rs_session_save(umqtt_rs_client_t *client, umqtt_rs_bytes_t extra, uint8_t *out, size_t cap, size_t *len);

// A number that changes whenever what umqtt_rs_session_save() writes does.
uint32_t umqtt_rs_session_generation(const umqtt_rs_client_t *client);

// Replace the durable state with saved bytes, before connecting; the next
// connect with clean_session false resends the saved messages.  On
// UMQTT_RS_ERR_STORE_FULL give a store of `detail` bytes, on
// UMQTT_RS_ERR_HELD_FULL the held-id bitmap, and call again.  The extra bytes
// saved with it are bytes[*extra_at .. *extra_at + *extra_len].
umqtt_rs_status_t umqtt_rs_session_restore(umqtt_rs_client_t *client, umqtt_rs_bytes_t bytes, size_t *extra_at, size_t *extra_len);

// Whether `topic` matches the subscription `filter` (MQTT 3.1.1 section 4.7:
// '+', '#', and wildcards at the start do not match '$' topics).  False when
// either is not valid UTF-8 or not a valid name / filter.
bool umqtt_rs_topic_matches(umqtt_rs_bytes_t filter, umqtt_rs_bytes_t topic);

// State queries.
bool umqtt_rs_is_connected(const umqtt_rs_client_t *client);
size_t umqtt_rs_inflight(const umqtt_rs_client_t *client);
bool umqtt_rs_is_inflight(const umqtt_rs_client_t *client, uint16_t pid);

// ---- MQTT 5 ----------------------------------------------------------------
// The types are always here; the functions exist only in a core built with
// MQTT 5 (make ... MQTT5=1, cargo feature mqtt5), where the glue is
// compiled with UMQTT_RS_MQTT5 defined to 1.

// How a property's value is given (umqtt_rs_prop_t.kind).
typedef enum umqtt_rs_prop_kind {
    // An integer (byte, two- or four-byte, variable byte integer): value.
    UMQTT_RS_PROP_INT = 0,
    // A UTF-8 string: a.
    UMQTT_RS_PROP_STR = 1,
    // Binary data: a.  (Given by the caller, it may stand for a string.)
    UMQTT_RS_PROP_BIN = 2,
    // A UTF-8 string pair (User Property): name a, value b.
    UMQTT_RS_PROP_PAIR = 3,
} umqtt_rs_prop_kind_t;

// One property: id is the MQTT 5 property identifier (0x01 Payload Format
// Indicator ... 0x2A Shared Subscription Available).
typedef struct umqtt_rs_prop {
    umqtt_rs_bytes_t a;
    umqtt_rs_bytes_t b;
    uint32_t value;
    uint8_t id;
    uint8_t kind; // umqtt_rs_prop_kind_t
    // Read: the property may appear more than once in its packet (User
    // Property; Subscription Identifier in PUBLISH).
    bool many;
} umqtt_rs_prop_t;

// Properties the caller sends: `count` entries at `items`, at most
// UMQTT_RS_MAX_PROPS.
#define UMQTT_RS_MAX_PROPS 16
typedef struct umqtt_rs_props {
    const umqtt_rs_prop_t *items;
    size_t count;
} umqtt_rs_props_t;

// What an MQTT 5 CONNECT says besides umqtt_rs_connect_opts_t.  The core
// adds Maximum Packet Size (umqtt_rs_set_max_packet_size) itself.
typedef struct umqtt_rs_connect5_opts {
    // More CONNECT properties (User Property, Request Response
    // Information, Authentication Method/Data) and the will's.
    umqtt_rs_props_t props;
    umqtt_rs_props_t will_props;
    // Seconds the session outlives the connection (0: none).
    uint32_t session_expiry;
    // Incoming QoS 1/2 messages held unacknowledged at once (0: the most,
    // UMQTT_RS_MAX_UNACKED; more is clamped to it).
    uint16_t receive_maximum;
    // The highest topic alias the broker may use (0: none; above, lend an
    // alias map with umqtt_rs_set_alias_buffer before the CONNACK).
    uint16_t topic_alias_maximum;
    bool request_problem_information;
} umqtt_rs_connect5_opts_t;

// The CONNACK's limits the core keeps to (MQTT 5; the defaults of the
// protocol when the broker said nothing).
typedef struct umqtt_rs_server_limits {
    // 0: none announced.
    uint32_t maximum_packet_size;
    uint16_t receive_maximum;
    uint16_t topic_alias_maximum;
    // The keepalive in force, in seconds (the broker's Server Keep Alive
    // when it sent one).
    uint16_t keepalive;
    uint8_t maximum_qos;
    bool retain_available;
    bool server_keep_alive;
    // Wildcard Subscription, Subscription Identifier and Shared
    // Subscription Available.
    bool wildcard_available;
    bool subscription_ids_available;
    bool shared_available;
} umqtt_rs_server_limits_t;

#if UMQTT_RS_MQTT5

// The protocol version of the next connection: 4 (MQTT 3.1.1, the default)
// or 5.  Set it before umqtt_rs_session_restore and connecting.
umqtt_rs_status_t umqtt_rs_set_protocol(umqtt_rs_client_t *client, uint8_t level);

// umqtt_rs_connect with MQTT 5's CONNECT and will properties.
umqtt_rs_status_t umqtt_rs_connect5(umqtt_rs_client_t *client, uint64_t now_ms, const umqtt_rs_connect_opts_t *opts, const umqtt_rs_connect5_opts_t *v5);

// umqtt_rs_publish with PUBLISH properties (Payload Format Indicator,
// Message Expiry Interval, Content Type, Response Topic, Correlation Data,
// User Property).  Refused before anything is queued: a QoS above the
// broker's Maximum QoS, retain when it has none (UMQTT_RS_ERR_ARGUMENT), a
// packet over its Maximum Packet Size (UMQTT_RS_ERR_PACKET_TOO_LARGE).
umqtt_rs_status_t umqtt_rs_publish5(umqtt_rs_client_t *client, uint64_t now_ms, umqtt_rs_bytes_t topic, umqtt_rs_bytes_t payload, uint8_t qos, bool retain, umqtt_rs_props_t props, uint16_t *pid, bool *payload_separate);

// umqtt_rs_publish_stream with PUBLISH properties (as umqtt_rs_publish5;
// stored with the header and resent with it).
umqtt_rs_status_t umqtt_rs_publish_stream5(umqtt_rs_client_t *client, uint64_t now_ms, umqtt_rs_bytes_t topic, size_t length, uint8_t qos, bool retain, bool resendable, umqtt_rs_props_t props, uint16_t *pid);

// umqtt_rs_subscribe with SUBSCRIBE properties (Subscription Identifier,
// User Property).  Refused before anything is queued
// (UMQTT_RS_ERR_ARGUMENT): a wildcard filter, a shared subscription or a
// Subscription Identifier the broker's CONNACK said it does not support.
// The incoming messages of a subscription with an identifier carry it
// (PUBLISH property 0x0B, one per matching subscription).
umqtt_rs_status_t umqtt_rs_subscribe5(umqtt_rs_client_t *client, uint64_t now_ms, const umqtt_rs_topic_t *topics, size_t count, umqtt_rs_props_t props, uint16_t *pid);

// Queue an MQTT 5 DISCONNECT with a reason code and properties (Session
// Expiry Interval, Reason String, User Property); then as
// umqtt_rs_disconnect.
umqtt_rs_status_t umqtt_rs_disconnect5(umqtt_rs_client_t *client, uint8_t reason, umqtt_rs_props_t props);

// Lend the incoming topic alias map (any content; at least 2 bytes).  It
// stays the core's for the client's life or until replaced by a copy.
void umqtt_rs_set_alias_buffer(umqtt_rs_client_t *client, uint8_t *buf, size_t cap);

// Lend the outgoing topic alias map (any content; NULL or cap 0: none).
// With it, umqtt_rs_publish5 sends a topic the broker allows an alias for
// (its CONNACK's Topic Alias Maximum) once with the alias and then the alias
// alone; when the broker's maximum or the map is full, the least recently
// used topic gives way.  Lending another map (or none) at any time is safe:
// topics not in it are sent whole again.
void umqtt_rs_set_out_alias_buffer(umqtt_rs_client_t *client, uint8_t *buf, size_t cap);

// Queue an AUTH (enhanced authentication): `reason` 0x18 (Continue
// Authentication) answers the broker's UMQTT_RS_EV_AUTH challenge, 0x19
// (Re-authenticate) starts a re-authentication once connected; `props`
// carry the Authentication Method (required, the CONNECT's) and Data.
// UMQTT_RS_ERR_ARGUMENT (UMQTT_RS_ARG_AUTH_NOT_EXPECTED) when that AUTH may
// not be sent now; nothing is queued then.
umqtt_rs_status_t umqtt_rs_auth(umqtt_rs_client_t *client, uint64_t now_ms, uint8_t reason, umqtt_rs_props_t props);

// The CONNACK's limits of the current connection.
void umqtt_rs_server_limits(const umqtt_rs_client_t *client, umqtt_rs_server_limits_t *out);

// Read the property at *at of a property section (an event's props) into
// *out and move *at past it; false at the end or at bytes that are not a
// property (never reads outside `props`).
bool umqtt_rs_prop_next(umqtt_rs_bytes_t props, size_t *at, umqtt_rs_prop_t *out);

#endif // UMQTT_RS_MQTT5

#ifdef __cplusplus
}
#endif

#endif // UMQTT_RS_H
