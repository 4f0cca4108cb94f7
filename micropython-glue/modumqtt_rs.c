// modumqtt_rs.c: the `umqtt_rs` MicroPython module, a drop-in for
// umqtt.simple's MQTTClient driven by the Rust core (see umqtt_rs.h).
//
// Data flow: bytes from the socket are read straight into the window the Rust
// core lends; Rust frames, parses and updates the session in place and returns
// an event borrowing its rx buffer; this file builds the `bytes` objects, calls
// Python, and only when the callbacks returned acknowledges the message
// (umqtt_rs_ack; a raising callback abandons it, so the broker sends it
// again after a reconnect).  No Rust frame is live while Python runs, so a
// callback may call any method of the client and an exception simply
// propagates.  Pointers into Python objects and into the rx buffer are
// re-taken after anything that can run Python.  Everything the GC must see
// lives in the client object.

#include <string.h>

#include "py/runtime.h"
#include "py/stream.h"
#include "py/objstr.h"
#include "py/objlist.h"
#include "py/objarray.h"
#include "py/objtype.h"
#include "py/mphal.h"
#include "py/mperrno.h"

#include "umqtt_rs.h"

#if defined(__unix__) || defined(__APPLE__)
#include <errno.h>
#include <poll.h>
#define UMQTT_RS_HAVE_POSIX_POLL (1)
#else
#define UMQTT_RS_HAVE_POSIX_POLL (0)
#endif

#define DEFAULT_RX_SIZE (1024)
#define DEFAULT_TX_SIZE (1024)
#define DEFAULT_STORE_SIZE (2048)
#define DEFAULT_WINDOW (16)
#define MAX_SUBSCRIBE_TOPICS (8)
// The largest packet sent or accepted unless max_packet_size= says otherwise.
#ifndef UMQTT_RS_DEFAULT_MAX_PACKET_SIZE
#define UMQTT_RS_DEFAULT_MAX_PACKET_SIZE (65536)
#endif

// Pseudo event kinds for run(): never satisfied / any event.
#define WANT_NOTHING (-1)
#define WANT_ANY (-2)

MP_DEFINE_EXCEPTION(MQTTException, Exception)

#if defined(__ARM_EABI__)
// The Rust core (built without its own copies of the memory functions) calls
// the ARM EABI memory helpers.  Most C libraries define them; MicroPython's
// own lib/libc/string0.c does not, so weak fallbacks are here.
MP_WEAK void __aeabi_memcpy(void *d, const void *s, size_t n) {
    memcpy(d, s, n);
}
MP_WEAK void __aeabi_memcpy4(void *d, const void *s, size_t n) {
    memcpy(d, s, n);
}
MP_WEAK void __aeabi_memcpy8(void *d, const void *s, size_t n) {
    memcpy(d, s, n);
}
MP_WEAK void __aeabi_memmove(void *d, const void *s, size_t n) {
    memmove(d, s, n);
}
MP_WEAK void __aeabi_memmove4(void *d, const void *s, size_t n) {
    memmove(d, s, n);
}
MP_WEAK void __aeabi_memmove8(void *d, const void *s, size_t n) {
    memmove(d, s, n);
}
MP_WEAK void __aeabi_memset(void *d, size_t n, int c) {
    memset(d, c, n);
}
MP_WEAK void __aeabi_memclr(void *d, size_t n) {
    memset(d, 0, n);
}
MP_WEAK void __aeabi_memclr4(void *d, size_t n) {
    memset(d, 0, n);
}
MP_WEAK void __aeabi_memclr8(void *d, size_t n) {
    memset(d, 0, n);
}
#endif

typedef struct _mqtt_client_obj_t {
    mp_obj_base_t base;
    umqtt_rs_client_t core;
    mp_obj_t client_id;
    mp_obj_t server;
    mp_obj_t user;
    mp_obj_t pswd;
    mp_obj_t ssl;
    mp_obj_t ssl_params;
    mp_obj_t sock;
    mp_obj_t cb;
    mp_obj_t lw_topic;
    mp_obj_t lw_msg;
    uint8_t *rx;
    size_t rx_cap;
    size_t rx_default;
    uint8_t *tx;
    size_t tx_cap;
    // Sent QoS 1/2 packets kept until acknowledged (resent after a reconnect).
    uint8_t *store;
    size_t store_cap;
    size_t store_default;
    // Held incoming QoS 2 ids beyond the core's inline set (8 KB, lent on
    // the first need and kept).
    uint8_t *held;
    // The payload object of a publish whose tail (the part not yet written)
    // the core is waiting to see written; None when there is none.  With
    // tail_stream, a stream read into `piece` (publish(..., length=n)).
    mp_obj_t tx_tail;
    bool tail_stream;
    uint8_t *piece;
    size_t piece_cap;
    size_t piece_pos;
    size_t piece_fill;
    // Messages that arrived while a callback ran: a list of (topic, msg,
    // retained, qos, dup, pid), or None.
    mp_obj_t deferred;
    // set_callback(..., view=True): the two memoryviews (topic, msg) lent to
    // the callbacks over the rx buffer, made once; None until first used.
    mp_obj_t views;
    size_t max_packet_size;
    mp_obj_t ack_cb;
    // Per-filter callbacks: dict of filter (bytes) -> callable.
    mp_obj_t filters;
    // Non-blocking mode: SUBACK return codes by packet id, for suback().
    mp_obj_t subacks;
    uint64_t now;
    mp_uint_t last_ticks;
    mp_int_t port;
    uint16_t keepalive;
    uint8_t lw_qos;
    bool lw_retain;
    bool cb_flags;
    bool session_present;
    // setblocking(False): no call waits for the broker.
    bool nonblocking;
    // A message callback is running.
    bool delivering;
    // Callbacks get memoryviews into rx instead of bytes objects.
    bool cb_view;
    // The views point into rx now.
    bool views_lent;
} mqtt_client_obj_t;

static umqtt_rs_bytes_t buf_of(mp_obj_t o);
static void take_views_back(mqtt_client_obj_t *self);
static void restore_session(mqtt_client_obj_t *self, mp_obj_t saved);
static size_t read_source(mqtt_client_obj_t *self, size_t want);
static void deliver_piece(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev, mp_obj_t *f);

// ---- time -------------------------------------------------------------

// Milliseconds on a clock that does not wrap (ticks_ms may).
static uint64_t now_ms(mqtt_client_obj_t *self) {
    mp_uint_t t = mp_hal_ticks_ms();
    self->now += (uint32_t)(t - self->last_ticks);
    self->last_ticks = t;
    return self->now;
}

// ---- connection teardown and errors -----------------------------------

// Close the transport (errors ignored) and reset the connection state.
static void close_transport(mqtt_client_obj_t *self) {
    mp_obj_t sock = self->sock;
    self->sock = mp_const_none;
    self->tx_tail = mp_const_none;
    self->tail_stream = false;
    self->piece_pos = self->piece_fill = 0;
    take_views_back(self);
    umqtt_rs_connection_lost(&self->core);
    if (sock != mp_const_none) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            mp_stream_close(sock);
            nlr_pop();
        }
    }
}

static NORETURN void raise_os(mqtt_client_obj_t *self, int err) {
    close_transport(self);
    mp_raise_OSError(err);
}

static const char *topic_error_text(uint32_t d) {
    switch (d) {
        case UMQTT_RS_TOPIC_EMPTY:
            return "topic is empty";
        case UMQTT_RS_TOPIC_TOO_LONG:
            return "topic is over 65535 bytes";
        case UMQTT_RS_TOPIC_WILDCARD:
            return "wildcard in a topic name";
        case UMQTT_RS_TOPIC_BAD_FILTER:
            return "misplaced wildcard in a topic filter";
        case UMQTT_RS_TOPIC_NUL:
            return "NUL character in topic";
        default:
            return "topic is not valid UTF-8";
    }
}

static const char *argument_error_text(uint32_t d) {
    switch (d) {
        case UMQTT_RS_ARG_QOS:
            return "qos must be 0, 1 or 2";
        case UMQTT_RS_ARG_UTF8:
            return "client id and user name must be UTF-8";
        case UMQTT_RS_ARG_NUL:
            return "NUL character in client id or user name";
        case UMQTT_RS_ARG_EMPTY_CLIENT_ID:
            return "an empty client id needs clean_session=True";
        case UMQTT_RS_ARG_PASSWORD_WITHOUT_USER:
            return "a password needs a user name";
        case UMQTT_RS_ARG_TOPIC_COUNT:
            return "1 to 8 topics per call";
        default:
            return "invalid argument";
    }
}

static const char *decode_error_text(uint32_t d) {
    static const char *const text[] = {
        "malformed packet",
        "unknown packet type",
        "reserved flag bits set",
        "bad remaining length",
        "bad packet length",
        "bad QoS",
        "invalid UTF-8",
        "bad CONNACK",
        "bad SUBACK return code",
        "packet id 0",
        "bad topic",
    };
    return text[d < MP_ARRAY_SIZE(text) ? d : 0];
}

static const char *protocol_error_text(uint32_t d) {
    switch (d) {
        case UMQTT_RS_PROTO_UNKNOWN_PACKET_ID:
            return "acknowledgement for an unknown packet id";
        case UMQTT_RS_PROTO_UNEXPECTED_PACKET:
            return "unexpected packet";
        case UMQTT_RS_PROTO_PUBACK_FOR_QOS2:
            return "broker acknowledged a QoS 2 publish with PUBACK: it does not support QoS 2 (use QoS 1)";
        case UMQTT_RS_PROTO_PUBREC_FOR_QOS1:
            return "broker answered a QoS 1 publish with PUBREC";
        case UMQTT_RS_PROTO_EARLY_PUBCOMP:
            return "broker sent PUBCOMP for a publish it had not received";
        default:
            return "invalid packet";
    }
}

// The one place where core statuses become Python exceptions.  Errors that
// leave the stream in an unknown state close the connection first.
static NORETURN void raise_status(mqtt_client_obj_t *self, umqtt_rs_status_t st) {
    uint32_t d = umqtt_rs_error_detail(&self->core);
    switch (st) {
        case UMQTT_RS_ERR_TOPIC:
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("invalid topic: %s"), topic_error_text(d));
        case UMQTT_RS_ERR_TOO_LONG:
            mp_raise_ValueError(MP_ERROR_TEXT("field too long for MQTT"));
        case UMQTT_RS_ERR_ARGUMENT:
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("%s"), argument_error_text(d));
        case UMQTT_RS_ERR_NOT_CONNECTED:
            mp_raise_OSError(MP_ENOTCONN);
        case UMQTT_RS_ERR_INFLIGHT_FULL:
        case UMQTT_RS_ERR_STORE_FULL:
            mp_raise_OSError(MP_EAGAIN);
        case UMQTT_RS_ERR_TIMEOUT:
            raise_os(self, MP_ETIMEDOUT);
        case UMQTT_RS_ERR_REFUSED:
            close_transport(self);
            mp_raise_type_arg(&mp_type_MQTTException, MP_OBJ_NEW_SMALL_INT(d));
        case UMQTT_RS_ERR_DECODE:
            close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("protocol error: %s"), decode_error_text(d));
        case UMQTT_RS_ERR_PROTOCOL:
            close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("protocol error: %s"), protocol_error_text(d));
        case UMQTT_RS_ERR_PACKET_TOO_LARGE:
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("packet of %u bytes exceeds max_packet_size (%u)"),
                (unsigned)d, (unsigned)self->max_packet_size);
        case UMQTT_RS_ERR_INCOMING_TOO_LARGE:
            close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("broker sent a packet of %u bytes, over max_packet_size (%u)"),
                (unsigned)d, (unsigned)self->max_packet_size);
        case UMQTT_RS_ERR_HELD_FULL:
            close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException,
                MP_ERROR_TEXT("more than %d unreleased QoS 2 messages and no memory (%d bytes) to hold their ids"),
                UMQTT_RS_INLINE_HELD, UMQTT_RS_HELD_BITMAP_BYTES);
        case UMQTT_RS_ERR_UNACKED_FULL:
            close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException,
                MP_ERROR_TEXT("more than %d QoS 1/2 messages arrived while a callback ran"), UMQTT_RS_MAX_UNACKED);
        default:
            close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("internal error %d"), (int)st);
    }
}

static const mp_stream_p_t *stream_of(mqtt_client_obj_t *self) {
    if (self->sock == mp_const_none) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    return mp_get_stream(self->sock);
}

// ---- buffers ----------------------------------------------------------

typedef void (*set_buffer_fn)(umqtt_rs_client_t *client, uint8_t *buf, size_t cap);

// Resize one of the client's buffers to `size` bytes, keeping its content,
// and hand it to the core; false when the memory is not there.
static bool resize(mqtt_client_obj_t *self, uint8_t **buf, size_t *cap, size_t size, set_buffer_fn set) {
    uint8_t *p = m_renew_maybe(uint8_t, *buf, *cap, size, true);
    if (p == NULL) {
        return false;
    }
    *buf = p;
    *cap = size;
    set(&self->core, p, size);
    return true;
}

static void grow_rx(mqtt_client_obj_t *self, size_t need) {
    if (!resize(self, &self->rx, &self->rx_cap, need, umqtt_rs_set_rx_buffer)) {
        // The packet cannot be read: drop the connection rather than the
        // stream's framing.
        close_transport(self);
        mp_raise_msg_varg(&mp_type_MQTTException,
            MP_ERROR_TEXT("incoming packet of %u bytes does not fit in free memory"), (unsigned)need);
    }
}

static void grow_tx(mqtt_client_obj_t *self, size_t need) {
    if (!resize(self, &self->tx, &self->tx_cap, need, umqtt_rs_set_tx_buffer)) {
        mp_raise_msg_varg(&mp_type_MemoryError,
            MP_ERROR_TEXT("packet of %u bytes does not fit in free memory"), (unsigned)need);
    }
}

static void grow_store(mqtt_client_obj_t *self, size_t need) {
    if (!resize(self, &self->store, &self->store_cap, need, umqtt_rs_set_store_buffer)) {
        mp_raise_msg_varg(&mp_type_MemoryError,
            MP_ERROR_TEXT("message of %u bytes does not fit in free memory"), (unsigned)need);
    }
}

// Give back what a large message took once nothing is stored.
static void shrink_buffers(mqtt_client_obj_t *self) {
    if (self->store_cap > self->store_default && umqtt_rs_store_used(&self->core) == 0) {
        resize(self, &self->store, &self->store_cap, self->store_default, umqtt_rs_set_store_buffer);
    }
}

// ---- waiting and I/O ----------------------------------------------------

// Wait until the transport is ready for `flags` or timeout_ms passed
// (timeout_ms < 0: no limit).  Returns early on any readiness or error.
static void wait_io(mqtt_client_obj_t *self, mp_uint_t flags, mp_int_t timeout_ms) {
    const mp_stream_p_t *stream = stream_of(self);
    int err;
    #if UMQTT_RS_HAVE_POSIX_POLL
    mp_uint_t fd = stream->ioctl(self->sock, MP_STREAM_GET_FILENO, 0, &err);
    if (fd != MP_STREAM_ERROR) {
        struct pollfd pfd = { .fd = (int)fd, .events = (flags & MP_STREAM_POLL_RD ? POLLIN : 0) | (flags & MP_STREAM_POLL_WR ? POLLOUT : 0) };
        MP_THREAD_GIL_EXIT();
        int r = poll(&pfd, 1, timeout_ms < 0 ? -1 : (int)timeout_ms);
        MP_THREAD_GIL_ENTER();
        if (r < 0 && errno == EINTR) {
            mp_handle_pending(true);
        }
        return;
    }
    #endif
    // Any stream: ask it, and let the port idle (and run its scheduler)
    // between questions.
    mp_uint_t start = mp_hal_ticks_ms();
    for (;;) {
        mp_uint_t r = stream->ioctl(self->sock, MP_STREAM_POLL, flags, &err);
        if (r == MP_STREAM_ERROR || (r & (flags | MP_STREAM_POLL_ERR | MP_STREAM_POLL_HUP | MP_STREAM_POLL_NVAL))) {
            return;
        }
        mp_uint_t elapsed = mp_hal_ticks_ms() - start;
        if (timeout_ms >= 0 && elapsed >= (mp_uint_t)timeout_ms) {
            return;
        }
        mp_event_wait_ms(1);
    }
}

// publish(..., length=n): up to `want` bytes of the source stream into
// `piece`; 0 when it has none now (non-blocking mode).  A source that fails
// or ends early leaves a packet that cannot be finished: the connection is
// closed before the error propagates.
static size_t read_source(mqtt_client_obj_t *self, size_t want) {
    size_t got = 0;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        for (;;) {
            int err;
            mp_uint_t r = mp_get_stream(self->tx_tail)->read(self->tx_tail, self->piece, want, &err);
            if (r == MP_STREAM_ERROR) {
                if (!mp_is_nonblocking_error(err)) {
                    mp_raise_OSError(err);
                }
                if (self->nonblocking) {
                    break;
                }
                mp_event_wait_ms(1);
                continue;
            }
            if (r == 0) {
                mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("stream ended %u bytes before length"),
                    (unsigned)umqtt_rs_tx_tail(&self->core));
            }
            got = r;
            break;
        }
        nlr_pop();
    } else {
        close_transport(self);
        nlr_jump(nlr.ret_val);
    }
    return got;
}

// The next bytes the core wants written: its tx queue, then the tail (the
// rest of a large payload, re-taken from its object each time: Python may
// have run since).  False when nothing is pending.
static bool next_out(mqtt_client_obj_t *self, const uint8_t **p, size_t *n) {
    umqtt_rs_tx_pending(&self->core, p, n);
    if (*n > 0) {
        return true;
    }
    size_t tail = umqtt_rs_tx_tail(&self->core);
    if (tail == 0) {
        self->tx_tail = mp_const_none;
        self->tail_stream = false;
        return false;
    }
    if (self->tail_stream) {
        if (self->piece_pos == self->piece_fill) {
            size_t got = read_source(self, tail < self->piece_cap ? tail : self->piece_cap);
            if (got == 0) {
                return false; // the source has nothing now (non-blocking)
            }
            self->piece_pos = 0;
            self->piece_fill = got;
        }
        *p = self->piece + self->piece_pos;
        *n = self->piece_fill - self->piece_pos;
        return true;
    }
    mp_buffer_info_t info;
    mp_get_buffer_raise(self->tx_tail, &info, MP_BUFFER_READ);
    if (info.len < tail) {
        // The payload shrank while it was being sent: the packet's length
        // is on the wire already, so the stream cannot be kept in step.
        close_transport(self);
        mp_raise_ValueError(MP_ERROR_TEXT("payload changed while being sent"));
    }
    *p = (const uint8_t *)info.buf + (info.len - tail);
    *n = tail;
    return true;
}

static size_t tx_pending(mqtt_client_obj_t *self) {
    const uint8_t *p;
    size_t n;
    umqtt_rs_tx_pending(&self->core, &p, &n);
    return n + umqtt_rs_tx_tail(&self->core);
}

// Write what the core queued, in order (the queue, then a tail), in as few
// writes as the transport allows.  Blocking mode writes it all; non-blocking
// mode what the transport takes now (the rest is state: it goes with a later
// call).  Returns the bytes written.
static size_t flush(mqtt_client_obj_t *self) {
    size_t total = 0;
    const uint8_t *p;
    size_t n;
    while (next_out(self, &p, &n)) {
        const mp_stream_p_t *stream = stream_of(self);
        int err;
        mp_uint_t w = stream->write(self->sock, p, n, &err);
        if (w == MP_STREAM_ERROR) {
            if (!mp_is_nonblocking_error(err)) {
                raise_os(self, err);
            }
            if (self->nonblocking) {
                break;
            }
            wait_io(self, MP_STREAM_POLL_WR, -1);
            continue;
        }
        if (w == 0) {
            raise_os(self, MP_ECONNRESET);
        }
        // The core moves the unwritten rest of its queue to the front.
        if (self->tail_stream && p == self->piece + self->piece_pos) {
            self->piece_pos += w;
        }
        umqtt_rs_tx_consume(&self->core, w);
        total += w;
    }
    return total;
}

// Make room in the tx buffer for a packet of `need` bytes that did not fit.
// False when it cannot now without waiting (non-blocking mode, the transport
// takes nothing): the caller stops and tries again later.
static bool make_tx_room(mqtt_client_obj_t *self, size_t need) {
    if (need > self->tx_cap && umqtt_rs_tx_tail(&self->core) == 0) {
        grow_tx(self, need);
        return true;
    }
    return flush(self) > 0 || !self->nonblocking;
}

// As make_tx_room, for a call that must not return without queueing:
// non-blocking mode raises OSError(EAGAIN) (publish, subscribe, ping).
static void need_tx_room(mqtt_client_obj_t *self, size_t need) {
    if (!make_tx_room(self, need)) {
        mp_raise_OSError(MP_EAGAIN);
    }
}

// Lend the core the held-id bitmap when a broker keeps more QoS 2 messages
// unreleased than the core holds inline; without the memory the connection
// is closed (the messages are not acknowledged: the broker keeps them).
static void lend_held(mqtt_client_obj_t *self) {
    if (self->held == NULL) {
        self->held = m_new_maybe(uint8_t, UMQTT_RS_HELD_BITMAP_BYTES);
    }
    if (self->held == NULL) {
        raise_status(self, UMQTT_RS_ERR_HELD_FULL);
    }
    umqtt_rs_set_held_buffer(&self->core, self->held, UMQTT_RS_HELD_BITMAP_BYTES);
}

// Read what the transport has, without blocking.  Returns the number of bytes
// read, 0 when nothing is available; raises on error or end of stream.
static size_t read_some(mqtt_client_obj_t *self) {
    uint8_t *win;
    size_t len;
    umqtt_rs_rx_window(&self->core, &win, &len);
    if (len == self->rx_cap && self->rx_cap > self->rx_default
        && resize(self, &self->rx, &self->rx_cap, self->rx_default, umqtt_rs_set_rx_buffer)) {
        // Nothing was buffered: the memory a large message took is back.
        umqtt_rs_rx_window(&self->core, &win, &len);
    }
    if (len == 0) {
        // next_event() asks for a larger buffer before this can happen.
        raise_status(self, UMQTT_RS_ERR_PROTOCOL);
    }
    const mp_stream_p_t *stream = stream_of(self);
    int err;
    mp_uint_t n = stream->read(self->sock, win, len, &err);
    if (n == MP_STREAM_ERROR) {
        if (mp_is_nonblocking_error(err)) {
            return 0;
        }
        raise_os(self, err);
    }
    if (n == 0) {
        raise_os(self, MP_ECONNRESET);
    }
    umqtt_rs_rx_commit(&self->core, n);
    return n;
}

// A bytes object holding a copy of data.  Its hash is left to be computed
// when first needed (0 means "not yet" to MicroPython): most received topics
// and payloads are never hashed.  (Object and data in one heap block looked
// cheaper but is not: MicroPython's allocator finds a run of several free
// blocks by scanning, which cost ~80,000 instructions per message in
// `make bench`'s receive case.)
static mp_obj_t new_bytes(const uint8_t *data, size_t len) {
    mp_obj_str_t *o = mp_obj_malloc(mp_obj_str_t, &mp_type_bytes);
    byte *p = m_new(byte, len + 1);
    memcpy(p, data, len);
    p[len] = '\0';
    o->hash = 0;
    o->len = len;
    o->data = p;
    return MP_OBJ_FROM_PTR(o);
}

// Messages go to the callback of every subscription filter they match
// (subscribe(..., cb=f)), else to set_callback's function.  `args` are the
// callback's arguments: topic, msg (bytes), retained, qos, dup.
#define MAX_MATCHES (8)
static void call_callbacks(mqtt_client_obj_t *self, const mp_obj_t *args) {
    // The callbacks to run are collected first: one may subscribe or
    // unsubscribe, changing the dict.
    mp_obj_t matched[MAX_MATCHES];
    mp_obj_t more = MP_OBJ_NULL; // a list, when over MAX_MATCHES match
    size_t n = 0;
    mp_map_t *map = mp_obj_dict_get_map(self->filters);
    umqtt_rs_bytes_t topic = map->used > 0 ? buf_of(args[0]) : (umqtt_rs_bytes_t) {NULL, 0};
    for (size_t i = 0; map->used > 0 && i < map->alloc; ++i) {
        if (!mp_map_slot_is_filled(map, i) || !umqtt_rs_topic_matches(buf_of(map->table[i].key), topic)) {
            continue;
        }
        if (n < MAX_MATCHES) {
            matched[n++] = map->table[i].value;
        } else {
            if (more == MP_OBJ_NULL) {
                more = mp_obj_new_list(0, NULL);
            }
            mp_obj_list_append(more, map->table[i].value);
        }
    }
    if (n == 0) {
        if (self->cb == mp_const_none) {
            return;
        }
        matched[n++] = self->cb;
    }
    size_t n_args = self->cb_flags ? 5 : 2;
    for (size_t i = 0; i < n; ++i) {
        mp_call_function_n_kw(matched[i], n_args, 0, args);
    }
    if (more != MP_OBJ_NULL) {
        size_t len;
        mp_obj_t *items;
        mp_obj_list_get(more, &len, &items);
        for (size_t i = 0; i < len; ++i) {
            mp_call_function_n_kw(items[i], n_args, 0, args);
        }
    }
}

// view=True: point the two memoryviews at the message in rx (no allocation
// per message).  They are read-only and valid while the callback runs and
// does not call into the client: take_views_back() empties them before rx
// can move (any run(), a closed connection) and after the callbacks.
static void lend_views(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev, mp_obj_t *args) {
    if (self->views == mp_const_none) {
        mp_obj_t v[2] = { mp_obj_new_memoryview('B', 0, NULL), mp_obj_new_memoryview('B', 0, NULL) };
        self->views = mp_obj_new_tuple(2, v);
    }
    size_t n;
    mp_obj_t *v;
    mp_obj_tuple_get(self->views, &n, &v);
    mp_obj_array_t *topic = MP_OBJ_TO_PTR(v[0]), *msg = MP_OBJ_TO_PTR(v[1]);
    topic->items = (void *)ev->topic;
    topic->len = ev->topic_len;
    msg->items = (void *)ev->payload;
    msg->len = ev->payload_len;
    args[0] = v[0];
    args[1] = v[1];
    self->views_lent = true;
}

static void take_views_back(mqtt_client_obj_t *self) {
    if (!self->views_lent) {
        return;
    }
    static const uint8_t nothing[1];
    size_t n;
    mp_obj_t *v;
    mp_obj_tuple_get(self->views, &n, &v);
    for (size_t i = 0; i < 2; ++i) {
        mp_obj_array_t *view = MP_OBJ_TO_PTR(v[i]);
        view->items = (void *)nothing;
        view->len = 0;
    }
    self->views_lent = false;
}

// Give one message to the application, then acknowledge it: only when every
// callback returned normally is its PUBACK/PUBREC queued (and a QoS 2 id
// held).  When `ev` is given the message objects are built from it (a
// MemoryError there is the application not getting it, too).  A callback
// that raises abandons the message: nothing is acknowledged, and the broker
// sends it again after the next reconnect.
static void deliver_one(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev, mp_obj_t *args, uint16_t pid) {
    bool acked = MP_OBJ_SMALL_INT_VALUE(args[3]) > 0;
    nlr_buf_t nlr;
    self->delivering = true;
    if (nlr_push(&nlr) == 0) {
        if (ev != NULL && self->cb_view) {
            lend_views(self, ev, args);
        } else if (ev != NULL) {
            args[0] = new_bytes(ev->topic, ev->topic_len);
            args[1] = new_bytes(ev->payload, ev->payload_len);
        }
        call_callbacks(self, args);
        nlr_pop();
        take_views_back(self);
    } else {
        take_views_back(self);
        self->delivering = false;
        if (acked) {
            umqtt_rs_abandon(&self->core, pid);
        }
        nlr_jump(nlr.ret_val);
    }
    self->delivering = false;
    if (acked) {
        // Never fails for space: an ack that does not fit is queued later.
        umqtt_rs_status_t st = umqtt_rs_ack(&self->core, now_ms(self), pid);
        if (st != UMQTT_RS_OK) {
            raise_status(self, st);
        }
    }
}

// After a piece's callback raised: the rest of its message is not wanted.
// Later pieces already kept are dropped; if the last one is not among them,
// the core still passes the message on and drops its remaining bytes.
static void drop_rest_of_message(mqtt_client_obj_t *self, bool last_seen) {
    if (self->deferred != mp_const_none) {
        mp_obj_list_t *list = MP_OBJ_TO_PTR(self->deferred);
        while (list->len > 0 && !last_seen) {
            size_t len;
            mp_obj_t *f;
            mp_obj_tuple_get(list->items[0], &len, &f);
            if (len != 8 || MP_OBJ_SMALL_INT_VALUE(f[6]) == 0) {
                break; // another message
            }
            last_seen = mp_obj_get_int(f[6]) + mp_obj_get_int(mp_obj_len(f[1])) >= mp_obj_get_int(f[7]);
            memmove(&list->items[0], &list->items[1], (list->len - 1) * sizeof(mp_obj_t));
            list->items[--list->len] = MP_OBJ_NULL;
        }
    }
    if (!last_seen) {
        umqtt_rs_stream_skip(&self->core);
    }
}

// A piece of a message larger than the chunk size (set_callback(...,
// chunks=N)): f(topic, chunk, offset, total) on set_callback's function,
// topic and chunk memoryviews valid during the call; acknowledged after the
// last piece's callback returned.  When a callback raises, the message is
// abandoned (not acknowledged, the broker sends it again after a
// reconnect) and the rest of it dropped.  `ev` is the live event, else `f`
// the kept piece: (topic, chunk, retained, qos, dup, pid, offset, total).
static void deliver_piece(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev, mp_obj_t *f) {
    uint8_t qos = ev != NULL ? ev->qos : (uint8_t)MP_OBJ_SMALL_INT_VALUE(f[3]);
    uint16_t pid = ev != NULL ? ev->pid : (uint16_t)MP_OBJ_SMALL_INT_VALUE(f[5]);
    size_t offset = ev != NULL ? ev->offset : (size_t)mp_obj_get_int(f[6]);
    size_t total = ev != NULL ? ev->total : (size_t)mp_obj_get_int(f[7]);
    mp_obj_t args[5] = { mp_const_none, mp_const_none, mp_obj_new_int_from_uint(offset), mp_obj_new_int_from_uint(total) };
    size_t size = 0;
    nlr_buf_t nlr;
    self->delivering = true;
    if (nlr_push(&nlr) == 0) {
        if (ev != NULL) {
            lend_views(self, ev, args);
            size = ev->payload_len;
        } else {
            args[0] = f[0];
            args[1] = f[1];
            size = mp_obj_get_int(mp_obj_len(f[1]));
        }
        if (self->cb != mp_const_none) {
            mp_call_function_n_kw(self->cb, 4, 0, args);
        }
        nlr_pop();
    } else {
        take_views_back(self);
        self->delivering = false;
        if (qos > 0) {
            umqtt_rs_abandon(&self->core, pid);
        }
        drop_rest_of_message(self, offset + size >= total);
        nlr_jump(nlr.ret_val);
    }
    take_views_back(self);
    self->delivering = false;
    if (qos > 0 && offset + size >= total) {
        umqtt_rs_status_t st = umqtt_rs_ack(&self->core, now_ms(self), pid);
        if (st != UMQTT_RS_OK) {
            raise_status(self, st);
        }
    }
}

// A piece event: delivered now, or, while a callback runs, kept as a copy.
static void on_piece(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev) {
    if (!self->delivering) {
        deliver_piece(self, ev, NULL);
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t f[8] = {
            new_bytes(ev->topic, ev->topic_len),
            new_bytes(ev->payload, ev->payload_len),
            mp_obj_new_bool(ev->retain),
            MP_OBJ_NEW_SMALL_INT(ev->qos),
            mp_obj_new_bool(ev->dup),
            MP_OBJ_NEW_SMALL_INT(ev->pid),
            mp_obj_new_int_from_uint(ev->offset),
            mp_obj_new_int_from_uint(ev->total),
        };
        if (self->deferred == mp_const_none) {
            self->deferred = mp_obj_new_list(0, NULL);
        }
        mp_obj_list_append(self->deferred, mp_obj_new_tuple(8, f));
        nlr_pop();
    } else {
        if (ev->qos > 0) {
            umqtt_rs_abandon(&self->core, ev->pid);
        }
        if (ev->offset + ev->payload_len < ev->total) {
            umqtt_rs_stream_skip(&self->core);
        }
        nlr_jump(nlr.ret_val);
    }
}

// Messages that arrived while a callback ran (it called back into the
// client), in order, one callback at a time.
static void deliver_deferred(mqtt_client_obj_t *self) {
    while (!self->delivering && self->deferred != mp_const_none) {
        mp_obj_list_t *list = MP_OBJ_TO_PTR(self->deferred);
        if (list->len == 0) {
            self->deferred = mp_const_none;
            return;
        }
        // Oldest first.
        mp_obj_t m = list->items[0];
        memmove(&list->items[0], &list->items[1], (list->len - 1) * sizeof(mp_obj_t));
        list->items[--list->len] = MP_OBJ_NULL;
        size_t len;
        mp_obj_t *f;
        mp_obj_tuple_get(m, &len, &f);
        if (len == 8) {
            deliver_piece(self, NULL, f);
            continue;
        }
        mp_obj_t args[5] = { f[0], f[1], f[2], f[3], f[4] };
        deliver_one(self, NULL, args, (uint16_t)MP_OBJ_SMALL_INT_VALUE(f[5]));
    }
}

// A message event: delivered now, or, while a callback runs, kept (copied
// out of rx, unacknowledged) for when it has returned.  Callbacks never
// nest, so the stack stays flat however fast messages arrive.
static void on_message(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev) {
    mp_obj_t args[6] = {
        mp_const_none,
        mp_const_none,
        mp_obj_new_bool(ev->retain),
        MP_OBJ_NEW_SMALL_INT(ev->qos),
        mp_obj_new_bool(ev->dup),
        MP_OBJ_NEW_SMALL_INT(ev->pid),
    };
    if (!self->delivering) {
        deliver_one(self, ev, args, ev->pid);
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        args[0] = new_bytes(ev->topic, ev->topic_len);
        args[1] = new_bytes(ev->payload, ev->payload_len);
        if (self->deferred == mp_const_none) {
            self->deferred = mp_obj_new_list(0, NULL);
        }
        mp_obj_list_append(self->deferred, mp_obj_new_tuple(6, args));
        nlr_pop();
    } else {
        if (ev->qos > 0) {
            umqtt_rs_abandon(&self->core, ev->pid);
        }
        nlr_jump(nlr.ret_val);
    }
}

// What an event means besides a message: ack callbacks, SUBACK codes, the
// CONNACK's session flag.  `codes` is the SUBACK's return codes, copied.
static void note_event(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev, mp_obj_t codes) {
    if (ev->kind == UMQTT_RS_EV_PUBLISHED) {
        shrink_buffers(self);
        if (self->ack_cb != mp_const_none) {
            mp_call_function_1(self->ack_cb, MP_OBJ_NEW_SMALL_INT(ev->pid));
        }
    } else if (ev->kind == UMQTT_RS_EV_CONNECTED) {
        self->session_present = ev->session_present;
        if (self->nonblocking && self->ack_cb != mp_const_none) {
            mp_call_function_1(self->ack_cb, MP_OBJ_NEW_SMALL_INT(0));
        }
    } else if (ev->kind == UMQTT_RS_EV_SUBSCRIBED || ev->kind == UMQTT_RS_EV_UNSUBSCRIBED) {
        // Filed by packet id for the call waiting for it (blocking mode) or
        // for suback() (non-blocking mode; an UNSUBACK files None).
        mp_map_t *map = mp_obj_dict_get_map(self->subacks);
        if (self->nonblocking && map->used >= 16) {
            mp_map_clear(map); // never collected: stale
        }
        mp_obj_dict_store(self->subacks, MP_OBJ_NEW_SMALL_INT(ev->pid), codes);
        if (self->nonblocking && self->ack_cb != mp_const_none) {
            mp_call_function_1(self->ack_cb, MP_OBJ_NEW_SMALL_INT(ev->pid));
        }
    }
}

// Drive the connection until an event of kind `want` (with packet id
// `want_pid` when nonzero) has been handled, or WANT_ANY event, or until
// timeout_ms passed (0: never block, < 0: no limit).  Messages met on the way
// go to the callback.  Returns the event kind reached, or
// UMQTT_RS_EV_NONE on timeout.  Non-blocking mode does what it can without
// waiting and returns: a full transport is "not yet", never an error.
static int run(mqtt_client_obj_t *self, int want, uint16_t want_pid, mp_int_t timeout_ms) {
    uint64_t start = now_ms(self);
    // Called from a view=True callback: rx may move from here on.
    take_views_back(self);
    // Messages kept while a callback ran, if a raising callback left some.
    if (self->deferred != mp_const_none) {
        deliver_deferred(self);
    }
    for (;;) {
        flush(self);
        umqtt_rs_event_t ev;
        // One clock read a turn: the timers are kept to the millisecond.
        uint64_t now = now_ms(self);
        umqtt_rs_status_t st = umqtt_rs_next_event(&self->core, now, &ev);
        if (st == UMQTT_RS_ERR_TX_FULL) {
            if (!make_tx_room(self, umqtt_rs_error_detail(&self->core))) {
                return UMQTT_RS_EV_NONE; // the packet waits in rx
            }
            continue;
        }
        if (st == UMQTT_RS_ERR_RX_TOO_SMALL) {
            grow_rx(self, umqtt_rs_error_detail(&self->core));
            continue;
        }
        if (st == UMQTT_RS_ERR_HELD_FULL) {
            lend_held(self);
            continue;
        }
        if (st != UMQTT_RS_OK) {
            raise_status(self, st);
        }
        if (ev.kind != UMQTT_RS_EV_NONE) {
            // Everything needed from the event is copied before Python runs:
            // a callback may call back into this client, which moves rx.
            mp_obj_t codes = ev.kind == UMQTT_RS_EV_SUBSCRIBED ? new_bytes(ev.payload, ev.payload_len) : mp_const_none;
            if (ev.kind == UMQTT_RS_EV_MESSAGE || ev.kind == UMQTT_RS_EV_CHUNK) {
                if (ev.kind == UMQTT_RS_EV_MESSAGE) {
                    on_message(self, &ev);
                } else {
                    on_piece(self, &ev);
                }
                if (self->deferred != mp_const_none) {
                    deliver_deferred(self);
                }
            }
            ev.topic = ev.payload = NULL;
            if (self->sock == mp_const_none) {
                // A callback disconnected.
                if (want == WANT_ANY || want == WANT_NOTHING) {
                    return ev.kind;
                }
                mp_raise_OSError(MP_ENOTCONN);
            }
            flush(self);
            note_event(self, &ev, codes);
            if (want == WANT_ANY || (ev.kind == want && (want_pid == 0 || ev.pid == want_pid))) {
                return ev.kind;
            }
            continue;
        }
        st = umqtt_rs_poll(&self->core, now);
        if (st == UMQTT_RS_ERR_TX_FULL) {
            if (!make_tx_room(self, umqtt_rs_error_detail(&self->core))) {
                return UMQTT_RS_EV_NONE;
            }
            continue;
        }
        if (st != UMQTT_RS_OK) {
            raise_status(self, st);
        }
        // Blocking mode writes what is queued at the top of the loop;
        // non-blocking mode goes on only while the transport takes bytes.
        size_t pending = tx_pending(self);
        if (pending > 0 && (!self->nonblocking || flush(self) > 0)) {
            continue;
        }
        if (read_some(self) > 0) {
            continue;
        }
        if (self->nonblocking) {
            return UMQTT_RS_EV_NONE;
        }
        // Nothing to do until the transport is readable or a timer is due.
        mp_int_t wait = -1;
        if (timeout_ms >= 0) {
            uint64_t elapsed = now - start;
            if (elapsed >= (uint64_t)timeout_ms) {
                return UMQTT_RS_EV_NONE;
            }
            wait = timeout_ms - (mp_int_t)elapsed;
        }
        uint64_t at;
        if (umqtt_rs_poll_at(&self->core, &at)) {
            mp_int_t due = at > now ? (mp_int_t)(at - now) : 0;
            if (wait < 0 || due < wait) {
                wait = due;
            }
        }
        wait_io(self, MP_STREAM_POLL_RD | (pending > 0 ? MP_STREAM_POLL_WR : 0), wait);
    }
}

// ---- argument helpers ---------------------------------------------------

static umqtt_rs_bytes_t buf_of(mp_obj_t o) {
    mp_buffer_info_t info;
    mp_get_buffer_raise(o, &info, MP_BUFFER_READ);
    return (umqtt_rs_bytes_t) {(const uint8_t *)info.buf, info.len};
}

static umqtt_rs_bytes_t opt_buf_of(mp_obj_t o) {
    if (o == mp_const_none) {
        return (umqtt_rs_bytes_t) {NULL, 0};
    }
    return buf_of(o);
}

static uint8_t qos_of(mp_int_t q) {
    if (q < 0 || q > 2) {
        mp_raise_ValueError(MP_ERROR_TEXT("qos must be 0, 1 or 2"));
    }
    return (uint8_t)q;
}

// ---- Python API -----------------------------------------------------------

static mp_obj_t mqtt_client_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args) {
    enum { ARG_client_id, ARG_server, ARG_port, ARG_user, ARG_password, ARG_keepalive, ARG_ssl, ARG_ssl_params, ARG_rx_size, ARG_tx_size, ARG_store_size, ARG_window, ARG_max_packet_size, ARG_session };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_client_id, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_server, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_port, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_user, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_password, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_keepalive, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_ssl, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_ssl_params, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_rx_size, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = DEFAULT_RX_SIZE} },
        { MP_QSTR_tx_size, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = DEFAULT_TX_SIZE} },
        { MP_QSTR_store_size, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = DEFAULT_STORE_SIZE} },
        { MP_QSTR_window, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = DEFAULT_WINDOW} },
        { MP_QSTR_max_packet_size, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = UMQTT_RS_DEFAULT_MAX_PACKET_SIZE} },
        { MP_QSTR_session, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_int_t keepalive = args[ARG_keepalive].u_int;
    if (keepalive < 0 || keepalive > 65535) {
        mp_raise_ValueError(MP_ERROR_TEXT("keepalive must be 0..65535"));
    }
    mp_int_t rx_size = args[ARG_rx_size].u_int, tx_size = args[ARG_tx_size].u_int;
    mp_int_t store_size = args[ARG_store_size].u_int, window = args[ARG_window].u_int;
    if (rx_size < 16 || tx_size < 16 || store_size < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("buffer size must be at least 16"));
    }
    if (window < 1 || window > 32) {
        mp_raise_ValueError(MP_ERROR_TEXT("window must be 1..32"));
    }
    mp_int_t max_packet_size = args[ARG_max_packet_size].u_int;
    if (max_packet_size < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("max_packet_size must be 0 (no limit) or more"));
    }
    // The id and server are checked now rather than at connect().
    buf_of(args[ARG_client_id].u_obj);
    mp_obj_str_get_str(args[ARG_server].u_obj);

    mqtt_client_obj_t *self = mp_obj_malloc(mqtt_client_obj_t, type);
    self->client_id = args[ARG_client_id].u_obj;
    self->server = args[ARG_server].u_obj;
    self->user = args[ARG_user].u_obj;
    self->pswd = args[ARG_password].u_obj;
    self->ssl = args[ARG_ssl].u_obj;
    self->ssl_params = args[ARG_ssl_params].u_obj;
    self->sock = mp_const_none;
    self->cb = mp_const_none;
    self->lw_topic = mp_const_none;
    self->lw_msg = mp_const_none;
    self->lw_qos = 0;
    self->lw_retain = false;
    self->cb_flags = false;
    self->nonblocking = false;
    self->session_present = false;
    self->keepalive = (uint16_t)keepalive;
    self->port = args[ARG_port].u_int;
    if (self->port == 0) {
        self->port = self->ssl != mp_const_none && self->ssl != mp_const_false ? 8883 : 1883;
    }
    self->rx_default = self->rx_cap = (size_t)rx_size;
    self->tx_cap = (size_t)tx_size;
    self->store_default = self->store_cap = (size_t)store_size;
    self->ack_cb = mp_const_none;
    self->filters = mp_obj_new_dict(0);
    self->subacks = mp_obj_new_dict(0);
    self->rx = m_new(uint8_t, self->rx_cap);
    self->tx = m_new(uint8_t, self->tx_cap);
    self->store = store_size > 0 ? m_new(uint8_t, self->store_cap) : NULL;
    self->held = NULL;
    self->tx_tail = mp_const_none;
    self->tail_stream = false;
    self->piece = NULL;
    self->piece_cap = self->piece_pos = self->piece_fill = 0;
    self->deferred = mp_const_none;
    self->delivering = false;
    self->views = mp_const_none;
    self->cb_view = false;
    self->views_lent = false;
    // 0: MQTT's own limit, 268,435,460 bytes.
    self->max_packet_size = max_packet_size == 0 ? 268435460 : (size_t)max_packet_size;
    self->now = 0;
    self->last_ticks = mp_hal_ticks_ms();
    umqtt_rs_init(&self->core, self->rx, self->rx_cap, self->tx, self->tx_cap, self->store, self->store_cap);
    umqtt_rs_set_window(&self->core, (size_t)window);
    umqtt_rs_set_max_packet_size(&self->core, self->max_packet_size);
    if (args[ARG_session].u_obj != mp_const_none) {
        restore_session(self, args[ARG_session].u_obj);
    }
    return MP_OBJ_FROM_PTR(self);
}

static const char *session_error_text(uint32_t d) {
    switch (d) {
        case UMQTT_RS_SESSION_FOREIGN:
            return "not umqtt_rs session bytes (or another version)";
        case UMQTT_RS_SESSION_TRUNCATED:
            return "session bytes are truncated";
        case UMQTT_RS_SESSION_CHECKSUM:
            return "session bytes are damaged (checksum)";
        case UMQTT_RS_SESSION_CONNECTED:
            return "restore a session before connecting";
        default:
            return "session bytes hold an impossible state";
    }
}

// MQTTClient(..., session=b): the durable state saved by session_bytes()
// (RTC memory across deep sleep, a file), taking the memory it needs.
static void restore_session(mqtt_client_obj_t *self, mp_obj_t saved) {
    for (;;) {
        umqtt_rs_status_t st = umqtt_rs_session_restore(&self->core, buf_of(saved));
        size_t need = umqtt_rs_error_detail(&self->core);
        if (st == UMQTT_RS_ERR_STORE_FULL) {
            grow_store(self, need);
        } else if (st == UMQTT_RS_ERR_HELD_FULL) {
            lend_held(self);
        } else if (st == UMQTT_RS_ERR_SESSION) {
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("session: %s"), session_error_text(need));
        } else if (st != UMQTT_RS_OK) {
            raise_status(self, st);
        } else {
            return;
        }
    }
}

// session_bytes(): the durable state as bytes, for MQTTClient(...,
// session=b) in a later process: the packet-id counter, every QoS 1/2
// message not yet completed, the held QoS 2 ids.  15 bytes with nothing in
// flight, plus 7 and the PUBLISH per message.
static mp_obj_t mqtt_client_session_bytes(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    size_t len = 0;
    umqtt_rs_status_t st = umqtt_rs_session_save(&self->core, NULL, 0, &len);
    if (st != UMQTT_RS_ERR_TX_FULL) {
        raise_status(self, st);
    }
    vstr_t vstr;
    vstr_init_len(&vstr, umqtt_rs_error_detail(&self->core));
    st = umqtt_rs_session_save(&self->core, (uint8_t *)vstr.buf, vstr.len, &len);
    if (st != UMQTT_RS_OK) {
        raise_status(self, st);
    }
    vstr.len = len;
    return mp_obj_new_bytes_from_vstr(&vstr);
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_session_bytes_obj, mqtt_client_session_bytes);

// An ssl_params entry, or MP_OBJ_NULL.
static mp_obj_t ssl_param(mqtt_client_obj_t *self, qstr key) {
    if (self->ssl_params == mp_const_none) {
        return MP_OBJ_NULL;
    }
    mp_map_elem_t *e = mp_map_lookup(mp_obj_dict_get_map(self->ssl_params), MP_OBJ_NEW_QSTR(key), MP_MAP_LOOKUP);
    return e == NULL ? MP_OBJ_NULL : e->value;
}

// ssl=True: ssl.wrap_socket(sock, **ssl_params) as umqtt.simple does, with
// micropython-lib's `ssl` module.  Firmware without it gets the same through
// its `tls` module: an SSLContext set up from the same parameters.
static mp_obj_t wrap_ssl_params(mqtt_client_obj_t *self, mp_obj_t sock) {
    mp_obj_t call[1 + 2 * 8] = { sock };
    size_t n_kw = 0;
    mp_map_t *params = self->ssl_params == mp_const_none ? NULL : mp_obj_dict_get_map(self->ssl_params);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t ssl_mod = mp_import_name(MP_QSTR_ssl, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
        nlr_pop();
        for (size_t i = 0; params != NULL && i < params->alloc; ++i) {
            if (!mp_map_slot_is_filled(params, i)) {
                continue;
            }
            if (n_kw == 8) {
                mp_raise_ValueError(MP_ERROR_TEXT("too many ssl_params"));
            }
            call[1 + 2 * n_kw] = params->table[i].key;
            call[2 + 2 * n_kw] = params->table[i].value;
            ++n_kw;
        }
        return mp_call_function_n_kw(mp_load_attr(ssl_mod, MP_QSTR_wrap_socket), 1, n_kw, call);
    }
    if (!mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(((mp_obj_base_t *)nlr.ret_val)->type), MP_OBJ_FROM_PTR(&mp_type_ImportError))) {
        nlr_jump(nlr.ret_val);
    }
    static const qstr known[] = {
        MP_QSTR_cert_reqs, MP_QSTR_cadata, MP_QSTR_key, MP_QSTR_cert, MP_QSTR_server_hostname, MP_QSTR_do_handshake,
    };
    for (size_t i = 0; params != NULL && i < params->alloc; ++i) {
        if (!mp_map_slot_is_filled(params, i)) {
            continue;
        }
        qstr k = mp_obj_str_get_qstr(params->table[i].key);
        bool ok = false;
        for (size_t j = 0; j < MP_ARRAY_SIZE(known); ++j) {
            ok |= k == known[j];
        }
        if (!ok) {
            mp_raise_msg_varg(&mp_type_TypeError, MP_ERROR_TEXT("unexpected ssl_params key '%q'"), k);
        }
    }
    mp_obj_t tls = mp_import_name(MP_QSTR_tls, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    mp_obj_t ctx = mp_call_function_1(mp_load_attr(tls, MP_QSTR_SSLContext), mp_load_attr(tls, MP_QSTR_PROTOCOL_TLS_CLIENT));
    mp_obj_t v = ssl_param(self, MP_QSTR_cert_reqs);
    mp_store_attr(ctx, MP_QSTR_verify_mode, v != MP_OBJ_NULL ? v : mp_load_attr(tls, MP_QSTR_CERT_NONE));
    if ((v = ssl_param(self, MP_QSTR_cadata)) != MP_OBJ_NULL && v != mp_const_none) {
        mp_obj_t dest[3];
        mp_load_method(ctx, MP_QSTR_load_verify_locations, dest);
        dest[2] = v;
        mp_call_method_n_kw(1, 0, dest);
    }
    mp_obj_t cert = ssl_param(self, MP_QSTR_cert), key = ssl_param(self, MP_QSTR_key);
    if ((cert != MP_OBJ_NULL && cert != mp_const_none) || (key != MP_OBJ_NULL && key != mp_const_none)) {
        mp_obj_t dest[4];
        mp_load_method(ctx, MP_QSTR_load_cert_chain, dest);
        dest[2] = cert == MP_OBJ_NULL ? mp_const_none : cert;
        dest[3] = key == MP_OBJ_NULL ? mp_const_none : key;
        mp_call_method_n_kw(2, 0, dest);
    }
    mp_obj_t wrap[2 + 2 * 2];
    mp_load_method(ctx, MP_QSTR_wrap_socket, wrap);
    wrap[2] = sock;
    n_kw = 0;
    if ((v = ssl_param(self, MP_QSTR_server_hostname)) != MP_OBJ_NULL) {
        wrap[3 + 2 * n_kw] = MP_OBJ_NEW_QSTR(MP_QSTR_server_hostname);
        wrap[4 + 2 * n_kw++] = v;
    }
    if ((v = ssl_param(self, MP_QSTR_do_handshake)) != MP_OBJ_NULL) {
        wrap[3 + 2 * n_kw] = MP_OBJ_NEW_QSTR(MP_QSTR_do_handshake_on_connect);
        wrap[4 + 2 * n_kw++] = v;
    }
    return mp_call_method_n_kw(1, n_kw, wrap);
}

// Open the TCP connection (and TLS when asked) as umqtt.simple does.
static mp_obj_t open_transport(mqtt_client_obj_t *self, mp_obj_t timeout) {
    mp_obj_t socket_mod = mp_import_name(MP_QSTR_socket, mp_const_none, MP_OBJ_NEW_SMALL_INT(0));
    mp_obj_t gai_args[2] = { self->server, MP_OBJ_NEW_SMALL_INT(self->port) };
    mp_obj_t infos = mp_call_function_n_kw(mp_load_attr(socket_mod, MP_QSTR_getaddrinfo), 2, 0, gai_args);
    mp_obj_t info = mp_obj_subscr(infos, MP_OBJ_NEW_SMALL_INT(0), MP_OBJ_SENTINEL);
    mp_obj_t addr = mp_obj_subscr(info, MP_OBJ_NEW_SMALL_INT(-1), MP_OBJ_SENTINEL);
    mp_obj_t sock = mp_call_function_0(mp_load_attr(socket_mod, MP_QSTR_socket));

    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t dest[4];
        if (timeout != mp_const_none) {
            mp_load_method(sock, MP_QSTR_settimeout, dest);
            dest[2] = timeout;
            mp_call_method_n_kw(1, 0, dest);
        }
        mp_load_method(sock, MP_QSTR_connect, dest);
        dest[2] = addr;
        mp_call_method_n_kw(1, 0, dest);
        // Each packet goes out in one write; Nagle would hold it back.
        mp_load_method_maybe(sock, MP_QSTR_setsockopt, dest);
        if (dest[0] != MP_OBJ_NULL) {
            nlr_buf_t nlr2;
            if (nlr_push(&nlr2) == 0) {
                mp_obj_t opt[5] = { dest[0], dest[1], MP_OBJ_NEW_SMALL_INT(6), MP_OBJ_NEW_SMALL_INT(1), MP_OBJ_NEW_SMALL_INT(1) };
                mp_call_method_n_kw(3, 0, opt); // IPPROTO_TCP, TCP_NODELAY, 1
                nlr_pop();
            }
        }
        if (self->ssl == mp_const_true) {
            sock = wrap_ssl_params(self, sock);
        } else if (self->ssl != mp_const_none && self->ssl != mp_const_false) {
            mp_load_method(self->ssl, MP_QSTR_wrap_socket, dest);
            mp_obj_t call[5] = { dest[0], dest[1], sock, MP_OBJ_NEW_QSTR(MP_QSTR_server_hostname), self->server };
            sock = mp_call_method_n_kw(1, 1, call);
        }
        mp_get_stream_raise(sock, MP_STREAM_OP_READ | MP_STREAM_OP_WRITE | MP_STREAM_OP_IOCTL);
        mp_load_method(sock, MP_QSTR_setblocking, dest);
        dest[2] = mp_const_false;
        mp_call_method_n_kw(1, 0, dest);
        nlr_pop();
    } else {
        nlr_buf_t nlr2;
        if (nlr_push(&nlr2) == 0) {
            mp_stream_close(sock);
            nlr_pop();
        }
        nlr_jump(nlr.ret_val);
    }
    return sock;
}

static mp_obj_t mqtt_client_connect(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_clean_session, ARG_timeout, ARG_sock };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_clean_session, MP_ARG_BOOL, {.u_bool = true} },
        { MP_QSTR_timeout, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        // Extension: an already-open stream to use instead of a new socket.
        { MP_QSTR_sock, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    close_transport(self);
    umqtt_rs_connect_opts_t opts = {
        .client_id = buf_of(self->client_id),
        .user = opt_buf_of(self->user),
        .password = opt_buf_of(self->pswd),
        .will_topic = opt_buf_of(self->lw_topic),
        .will_message = opt_buf_of(self->lw_msg),
        .keepalive_s = self->keepalive,
        .will_qos = self->lw_qos,
        .will_retain = self->lw_retain,
        .clean_session = args[ARG_clean_session].u_bool,
    };
    // CONNECT is encoded (and checked) before any socket is opened.
    umqtt_rs_status_t st = umqtt_rs_connect(&self->core, now_ms(self), &opts);
    if (st == UMQTT_RS_ERR_TX_FULL) {
        grow_tx(self, umqtt_rs_error_detail(&self->core));
        st = umqtt_rs_connect(&self->core, now_ms(self), &opts);
    }
    if (st != UMQTT_RS_OK) {
        raise_status(self, st);
    }
    // The encoded CONNECT waits in the tx buffer for the new transport.
    mp_obj_t sock = args[ARG_sock].u_obj;
    if (sock == mp_const_none) {
        sock = open_transport(self, args[ARG_timeout].u_obj);
    } else {
        if (!mp_obj_is_obj(sock) || !MP_OBJ_TYPE_HAS_SLOT(mp_obj_get_type(sock), protocol)) {
            mp_raise_TypeError(MP_ERROR_TEXT("sock must be a stream"));
        }
        mp_get_stream_raise(sock, MP_STREAM_OP_READ | MP_STREAM_OP_WRITE | MP_STREAM_OP_IOCTL);
    }
    self->sock = sock;
    mp_int_t timeout_ms = -1;
    if (args[ARG_timeout].u_obj != mp_const_none) {
        timeout_ms = (mp_int_t)(mp_obj_get_float(args[ARG_timeout].u_obj) * 1000);
    }
    if (self->nonblocking) {
        // Non-blocking mode does not wait for the CONNACK: check_msg()
        // handles it (the ack callback gets pid 0, is_connected() turns
        // true; a refusal raises MQTTException there).
        flush(self);
        return mp_const_none;
    }
    if (run(self, UMQTT_RS_EV_CONNECTED, 0, timeout_ms) != UMQTT_RS_EV_CONNECTED) {
        raise_os(self, MP_ETIMEDOUT);
    }
    return MP_OBJ_NEW_SMALL_INT(self->session_present);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_connect_obj, 1, mqtt_client_connect);

static mp_obj_t mqtt_client_disconnect(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->sock == mp_const_none) {
        return mp_const_none;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        if (umqtt_rs_disconnect(&self->core) == UMQTT_RS_OK) {
            flush(self);
        }
        nlr_pop();
    } else {
        close_transport(self);
        nlr_jump(nlr.ret_val);
    }
    close_transport(self);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_disconnect_obj, mqtt_client_disconnect);

static mp_obj_t mqtt_client_ping(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    umqtt_rs_status_t st = umqtt_rs_ping(&self->core, now_ms(self));
    if (st == UMQTT_RS_ERR_TX_FULL) {
        need_tx_room(self, umqtt_rs_error_detail(&self->core));
        st = umqtt_rs_ping(&self->core, now_ms(self));
    }
    if (st != UMQTT_RS_OK) {
        raise_status(self, st);
    }
    flush(self);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_ping_obj, mqtt_client_ping);

// publish(topic, msg, retain=False, qos=0, *, wait=True): with wait, QoS 1
// returns after PUBACK and QoS 2 after PUBCOMP (umqtt.simple), delivering
// messages that arrive meanwhile.  wait=False returns the packet id at once
// (pipelining); the ack callback or drain() tells when it is acknowledged.
// When the window of messages in flight is full, publish waits for an ack.
static mp_obj_t mqtt_client_publish(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_msg, ARG_retain, ARG_qos, ARG_wait, ARG_length };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_msg, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_retain, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_wait, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = true} },
        { MP_QSTR_length, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    if (kw_args->used == 0 && n_args <= 5) {
        // The common positional call, without the general parser (a
        // publish's hot path).
        args[ARG_topic].u_obj = pos_args[1];
        args[ARG_msg].u_obj = pos_args[2];
        args[ARG_retain].u_bool = n_args > 3 && mp_obj_is_true(pos_args[3]);
        args[ARG_qos].u_int = n_args > 4 ? mp_obj_get_int(pos_args[4]) : 0;
        args[ARG_wait].u_bool = true;
        args[ARG_length].u_obj = mp_const_none;
    } else {
        mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    }
    mp_obj_t msg_obj = args[ARG_msg].u_obj;
    uint8_t qos = qos_of(args[ARG_qos].u_int);
    // length=n: msg is a stream the payload is read from as it goes out.
    bool streamed = args[ARG_length].u_obj != mp_const_none;
    mp_int_t length = 0;
    if (streamed) {
        length = mp_obj_get_int(args[ARG_length].u_obj);
        if (length < 0) {
            mp_raise_ValueError(MP_ERROR_TEXT("length must be 0 or more"));
        }
        mp_get_stream_raise(msg_obj, MP_STREAM_OP_READ);
        if (self->piece == NULL) {
            // Taken before anything is queued: a MemoryError now sends nothing.
            self->piece = m_new(uint8_t, self->tx_cap);
            self->piece_cap = self->tx_cap;
        }
    }

    uint16_t pid = 0;
    bool separate = false;
    umqtt_rs_status_t st;
    for (;;) {
        // Taken again each turn: run() below runs Python, which may resize
        // a bytearray payload.
        umqtt_rs_bytes_t topic = buf_of(args[ARG_topic].u_obj);
        if (streamed) {
            st = umqtt_rs_publish_stream(&self->core, now_ms(self), topic, (size_t)length, qos, args[ARG_retain].u_bool, &pid);
            separate = true;
        } else {
            umqtt_rs_bytes_t msg = buf_of(msg_obj);
            st = umqtt_rs_publish(&self->core, now_ms(self), topic, msg, qos, args[ARG_retain].u_bool, &pid, &separate);
        }
        size_t need = umqtt_rs_error_detail(&self->core);
        if (st == UMQTT_RS_ERR_TX_FULL) {
            need_tx_room(self, need);
        } else if (st == UMQTT_RS_ERR_STORE_FULL && need > self->store_cap) {
            grow_store(self, need);
        } else if ((st == UMQTT_RS_ERR_STORE_FULL || st == UMQTT_RS_ERR_INFLIGHT_FULL) && !self->nonblocking) {
            // The window is full: wait for an acknowledgement (any event:
            // a callback's nested call may take the one that frees it).
            run(self, WANT_ANY, 0, -1);
        } else {
            break;
        }
    }
    if (st != UMQTT_RS_OK) {
        raise_status(self, st);
    }
    if (separate) {
        // A payload larger than the tx buffer goes out from the caller's
        // object (or stream), after the bytes queued before it (flush); in
        // non-blocking mode what the transport does not take now goes with
        // later calls.
        self->tx_tail = msg_obj;
        self->tail_stream = streamed;
        self->piece_pos = self->piece_fill = 0;
    }
    flush(self);
    if (!args[ARG_wait].u_bool || self->nonblocking) {
        return MP_OBJ_NEW_SMALL_INT(pid);
    }
    // Until acknowledged: its state, not its event, is checked, since a
    // callback that calls into the client may handle the event.
    while (qos > 0 && umqtt_rs_is_inflight(&self->core, pid)) {
        if (self->sock == mp_const_none) {
            mp_raise_OSError(MP_ENOTCONN);
        }
        run(self, WANT_ANY, 0, -1);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_publish_obj, 3, mqtt_client_publish);

// Shared by subscribe and unsubscribe.  `topic` is one filter (str/bytes),
// or a list/tuple of filters (subscribe: of (filter, qos) pairs) sent in one
// packet.  With `cb`, subscribe routes the filters' messages to it;
// unsubscribe drops their callbacks.  Waits for the ack (blocking mode).
static mp_obj_t topic_request(mqtt_client_obj_t *self, mp_obj_t topic, mp_int_t qos, mp_obj_t cb, bool sub) {
    umqtt_rs_topic_t entries[MAX_SUBSCRIBE_TOPICS];
    size_t count = 1;
    if (mp_obj_is_type(topic, &mp_type_list) || mp_obj_is_type(topic, &mp_type_tuple)) {
        mp_obj_t *items;
        mp_obj_get_array(topic, &count, &items);
        if (count == 0 || count > MAX_SUBSCRIBE_TOPICS) {
            mp_raise_ValueError(MP_ERROR_TEXT("1 to 8 topics per call"));
        }
        for (size_t i = 0; i < count; ++i) {
            mp_obj_t filter = items[i];
            mp_int_t q = qos;
            if (sub) {
                mp_obj_t *pair;
                mp_obj_get_array_fixed_n(items[i], 2, &pair);
                filter = pair[0];
                q = mp_obj_get_int(pair[1]);
            }
            entries[i] = (umqtt_rs_topic_t) { buf_of(filter), qos_of(q) };
        }
    } else {
        entries[0] = (umqtt_rs_topic_t) { buf_of(topic), qos_of(qos) };
    }
    if (cb != mp_const_none && !mp_obj_is_callable(cb)) {
        mp_raise_TypeError(MP_ERROR_TEXT("callback must be callable"));
    }
    uint16_t pid = 0;
    umqtt_rs_status_t st;
    for (;;) {
        st = sub
            ? umqtt_rs_subscribe(&self->core, now_ms(self), entries, count, &pid)
            : umqtt_rs_unsubscribe(&self->core, now_ms(self), entries, count, &pid);
        if (st != UMQTT_RS_ERR_TX_FULL) {
            break;
        }
        need_tx_room(self, umqtt_rs_error_detail(&self->core));
    }
    if (st != UMQTT_RS_OK) {
        raise_status(self, st);
    }
    mp_obj_t ret = mp_const_none;
    if (self->nonblocking) {
        flush(self);
        ret = MP_OBJ_NEW_SMALL_INT(pid);
    } else {
        // Until the ack is in (note_event files it, whichever call of run()
        // handled it: a callback may have called into the client).
        mp_obj_t key = MP_OBJ_NEW_SMALL_INT(pid);
        mp_map_elem_t *done;
        while ((done = mp_map_lookup(mp_obj_dict_get_map(self->subacks), key, MP_MAP_LOOKUP_REMOVE_IF_FOUND)) == NULL) {
            if (self->sock == mp_const_none) {
                mp_raise_OSError(MP_ENOTCONN);
            }
            run(self, WANT_ANY, 0, -1);
        }
        // MQTTException(0x80) when the broker refused a filter.
        if (done->value != mp_const_none) {
            size_t len;
            const char *codes = mp_obj_str_get_data(done->value, &len);
            if (memchr(codes, 0x80, len) != NULL) {
                mp_raise_type_arg(&mp_type_MQTTException, MP_OBJ_NEW_SMALL_INT(0x80));
            }
        }
    }
    for (size_t i = 0; i < count; ++i) {
        mp_obj_t key = mp_obj_new_bytes(entries[i].filter.ptr, entries[i].filter.len);
        if (sub && cb != mp_const_none) {
            mp_obj_dict_store(self->filters, key, cb);
        } else if (!sub) {
            mp_map_lookup(mp_obj_dict_get_map(self->filters), key, MP_MAP_LOOKUP_REMOVE_IF_FOUND);
        }
    }
    return ret;
}

static mp_obj_t mqtt_client_subscribe(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_qos, ARG_cb };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_cb, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    return topic_request(MP_OBJ_TO_PTR(pos_args[0]), args[ARG_topic].u_obj, args[ARG_qos].u_int, args[ARG_cb].u_obj, true);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_subscribe_obj, 2, mqtt_client_subscribe);

static mp_obj_t mqtt_client_unsubscribe(mp_obj_t self_in, mp_obj_t topic) {
    return topic_request(MP_OBJ_TO_PTR(self_in), topic, 0, mp_const_none, false);
}
static MP_DEFINE_CONST_FUN_OBJ_2(mqtt_client_unsubscribe_obj, mqtt_client_unsubscribe);

// set_callback(f, flags=False, view=False, chunks=0): f(topic, msg), or with
// flags=True f(topic, msg, retained, qos, dup).  view=True: topic and msg
// are read-only memoryviews into the receive buffer (no allocation per
// message), valid until the callback returns or calls into the client.
// chunks=N: a message whose payload is larger than N bytes comes as
// f(topic, chunk, offset, total) calls, chunk at most N bytes (memoryviews
// as with view=True), never held whole.
static mp_obj_t mqtt_client_set_callback(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_f, ARG_flags, ARG_view, ARG_chunks };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_f, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_flags, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_view, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_chunks, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
    };
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_obj_t f = args[ARG_f].u_obj;
    if (f != mp_const_none && !mp_obj_is_callable(f)) {
        mp_raise_TypeError(MP_ERROR_TEXT("callback must be callable"));
    }
    mp_int_t chunks = args[ARG_chunks].u_int;
    if (chunks < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("chunks must be 0 (whole messages) or more"));
    }
    self->cb = f;
    self->cb_flags = args[ARG_flags].u_bool;
    self->cb_view = args[ARG_view].u_bool;
    umqtt_rs_set_chunk_size(&self->core, (size_t)chunks);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_set_callback_obj, 2, mqtt_client_set_callback);

static mp_obj_t mqtt_client_set_last_will(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_msg, ARG_retain, ARG_qos };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_msg, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_retain, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
    };
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    uint8_t qos = qos_of(args[ARG_qos].u_int);
    buf_of(args[ARG_msg].u_obj);
    // Check the topic now, so that the error points at this call.
    umqtt_rs_bytes_t topic = buf_of(args[ARG_topic].u_obj);
    if (topic.len == 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("invalid topic: topic is empty"));
    }
    self->lw_topic = args[ARG_topic].u_obj;
    self->lw_msg = args[ARG_msg].u_obj;
    self->lw_retain = args[ARG_retain].u_bool;
    self->lw_qos = qos;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_set_last_will_obj, 3, mqtt_client_set_last_will);

// drain(timeout=None): wait until every QoS 1/2 message is acknowledged,
// handling what arrives meanwhile; False when timeout (seconds) ran out.
static mp_obj_t mqtt_client_drain(size_t n_args, const mp_obj_t *args) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    mp_int_t timeout_ms = -1;
    if (n_args > 1 && args[1] != mp_const_none) {
        timeout_ms = (mp_int_t)(mp_obj_get_float(args[1]) * 1000);
    }
    if (self->nonblocking) {
        run(self, WANT_NOTHING, 0, 0);
        return mp_obj_new_bool(umqtt_rs_inflight(&self->core) == 0);
    }
    uint64_t start = now_ms(self);
    while (umqtt_rs_inflight(&self->core) > 0) {
        mp_int_t left = -1;
        if (timeout_ms >= 0) {
            uint64_t elapsed = now_ms(self) - start;
            if (elapsed >= (uint64_t)timeout_ms) {
                return mp_const_false;
            }
            left = timeout_ms - (mp_int_t)elapsed;
        }
        run(self, UMQTT_RS_EV_PUBLISHED, 0, left);
    }
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mqtt_client_drain_obj, 1, 2, mqtt_client_drain);

// suback(pid): in non-blocking mode, the SUBACK return codes (bytes: the
// granted QoS per filter, 0x80 when refused) of subscribe request `pid` once
// it arrived (the ack callback says when), else None.  Each is given once.
static mp_obj_t mqtt_client_suback(mp_obj_t self_in, mp_obj_t pid) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_map_elem_t *e = mp_map_lookup(mp_obj_dict_get_map(self->subacks), pid, MP_MAP_LOOKUP_REMOVE_IF_FOUND);
    return e == NULL ? mp_const_none : e->value;
}
static MP_DEFINE_CONST_FUN_OBJ_2(mqtt_client_suback_obj, mqtt_client_suback);

// is_connected(): the broker accepted the connection and it was not lost
// since.
static mp_obj_t mqtt_client_is_connected(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_bool(self->sock != mp_const_none && umqtt_rs_is_connected(&self->core));
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_is_connected_obj, mqtt_client_is_connected);

// inflight(): QoS 1/2 messages sent and not yet acknowledged.
static mp_obj_t mqtt_client_inflight(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return MP_OBJ_NEW_SMALL_INT(umqtt_rs_inflight(&self->core));
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_inflight_obj, mqtt_client_inflight);

// pending(): bytes queued and not yet written (in non-blocking mode the
// transport may take part of them; check_msg() writes more).
static mp_obj_t mqtt_client_pending(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int_from_uint(tx_pending(self));
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_pending_obj, mqtt_client_pending);

// set_ack_callback(f): f(pid) when a QoS 1/2 publish is acknowledged, and in
// non-blocking mode also when a SUBACK or UNSUBACK arrives, and f(0) when
// the CONNACK does.
static mp_obj_t mqtt_client_set_ack_callback(mp_obj_t self_in, mp_obj_t f) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (f != mp_const_none && !mp_obj_is_callable(f)) {
        mp_raise_TypeError(MP_ERROR_TEXT("callback must be callable"));
    }
    self->ack_cb = f;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(mqtt_client_set_ack_callback_obj, mqtt_client_set_ack_callback);

// wait_msg(): block until one packet has been handled (a message goes to the
// callback); keepalive pings go out meanwhile.
static mp_obj_t mqtt_client_wait_msg(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->delivering && self->deferred != mp_const_none && mp_obj_get_int(mp_obj_len(self->deferred)) > 0) {
        // Called from a callback: a message already arrived (it is delivered
        // when the callback returns).
        return mp_const_none;
    }
    run(self, WANT_ANY, 0, -1);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_wait_msg_obj, mqtt_client_wait_msg);

// check_msg(): handle everything that has arrived, never block.
static mp_obj_t mqtt_client_check_msg(mp_obj_t self_in) {
    run(MP_OBJ_TO_PTR(self_in), WANT_NOTHING, 0, 0);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_check_msg_obj, mqtt_client_check_msg);

// setblocking(flag): with False no call waits for the broker: connect()
// returns once CONNECT is sent (the TCP/TLS handshake aside), publish /
// subscribe return the packet id at once and raise OSError(EAGAIN) when the
// window or the transport is full, wait_msg() acts as check_msg(), and queued
// bytes go out as the transport takes them.
static mp_obj_t mqtt_client_setblocking(mp_obj_t self_in, mp_obj_t flag) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->nonblocking = !mp_obj_is_true(flag);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(mqtt_client_setblocking_obj, mqtt_client_setblocking);

// next_timeout(): milliseconds until the client must run again (a keepalive
// ping or a reply deadline), or None when no timer runs.  An event loop waits
// for the client to be readable (select.poll) or this long, whichever is first.
static mp_obj_t mqtt_client_next_timeout(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    uint64_t at, now = now_ms(self);
    if (!umqtt_rs_poll_at(&self->core, &at)) {
        return mp_const_none;
    }
    return mp_obj_new_int_from_ull(at > now ? at - now : 0);
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_next_timeout_obj, mqtt_client_next_timeout);

static const mp_obj_type_t mqtt_client_type;

// The client is a pollable object: readable when a packet is buffered, the
// transport is readable, a timer is due, or bytes wait to be written and the
// transport takes them (the application should call check_msg() in each
// case); writable when the transport is.
static mp_uint_t mqtt_client_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    // select.poll may hand us an instance of a Python subclass.
    self_in = mp_obj_cast_to_native_base(self_in, MP_OBJ_FROM_PTR(&mqtt_client_type));
    if (self_in == MP_OBJ_NULL) {
        *errcode = MP_EINVAL;
        return MP_STREAM_ERROR;
    }
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (request != MP_STREAM_POLL) {
        *errcode = MP_EINVAL;
        return MP_STREAM_ERROR;
    }
    if (self->sock == mp_const_none) {
        return MP_STREAM_POLL_NVAL;
    }
    mp_uint_t ret = 0;
    mp_uint_t ask = arg;
    if (arg & MP_STREAM_POLL_RD) {
        uint64_t at;
        if (tx_pending(self) > 0) {
            // Bytes wait to be written: the transport taking them is work
            // for check_msg(), so a reader waiting for RD wakes up then.
            // A buffered packet may be waiting for that very room, so it
            // alone does not count (a poll loop would spin).
            ask |= MP_STREAM_POLL_WR;
        } else if (umqtt_rs_rx_ready(&self->core)) {
            ret |= MP_STREAM_POLL_RD;
        }
        if (umqtt_rs_poll_at(&self->core, &at) && at <= now_ms(self)) {
            ret |= MP_STREAM_POLL_RD;
        }
    }
    mp_uint_t r = mp_get_stream(self->sock)->ioctl(self->sock, MP_STREAM_POLL, ask, errcode);
    if (r == MP_STREAM_ERROR) {
        return ret ? ret : MP_STREAM_ERROR;
    }
    if ((ask & ~arg & MP_STREAM_POLL_WR) && (r & MP_STREAM_POLL_WR)) {
        ret |= MP_STREAM_POLL_RD;
    }
    return ret | (r & (arg | MP_STREAM_POLL_ERR | MP_STREAM_POLL_HUP | MP_STREAM_POLL_NVAL));
}

static const mp_stream_p_t mqtt_client_stream_p = {
    .ioctl = mqtt_client_ioctl,
};

static void mqtt_client_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] != MP_OBJ_NULL) {
        return; // Attributes are read-only.
    }
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    switch (attr) {
        case MP_QSTR_sock:
            dest[0] = self->sock;
            break;
        case MP_QSTR_server:
            dest[0] = self->server;
            break;
        case MP_QSTR_port:
            dest[0] = mp_obj_new_int(self->port);
            break;
        case MP_QSTR_client_id:
            dest[0] = self->client_id;
            break;
        case MP_QSTR_keepalive:
            dest[0] = MP_OBJ_NEW_SMALL_INT(self->keepalive);
            break;
        case MP_QSTR_cb:
            dest[0] = self->cb;
            break;
        case MP_QSTR_session_present:
            dest[0] = MP_OBJ_NEW_SMALL_INT(self->session_present);
            break;
        default:
            dest[1] = MP_OBJ_SENTINEL; // Continue lookup in locals_dict.
    }
}

static const mp_rom_map_elem_t mqtt_client_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_connect), MP_ROM_PTR(&mqtt_client_connect_obj) },
    { MP_ROM_QSTR(MP_QSTR_disconnect), MP_ROM_PTR(&mqtt_client_disconnect_obj) },
    { MP_ROM_QSTR(MP_QSTR_ping), MP_ROM_PTR(&mqtt_client_ping_obj) },
    { MP_ROM_QSTR(MP_QSTR_publish), MP_ROM_PTR(&mqtt_client_publish_obj) },
    { MP_ROM_QSTR(MP_QSTR_subscribe), MP_ROM_PTR(&mqtt_client_subscribe_obj) },
    { MP_ROM_QSTR(MP_QSTR_unsubscribe), MP_ROM_PTR(&mqtt_client_unsubscribe_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_callback), MP_ROM_PTR(&mqtt_client_set_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_last_will), MP_ROM_PTR(&mqtt_client_set_last_will_obj) },
    { MP_ROM_QSTR(MP_QSTR_wait_msg), MP_ROM_PTR(&mqtt_client_wait_msg_obj) },
    { MP_ROM_QSTR(MP_QSTR_check_msg), MP_ROM_PTR(&mqtt_client_check_msg_obj) },
    { MP_ROM_QSTR(MP_QSTR_drain), MP_ROM_PTR(&mqtt_client_drain_obj) },
    { MP_ROM_QSTR(MP_QSTR_inflight), MP_ROM_PTR(&mqtt_client_inflight_obj) },
    { MP_ROM_QSTR(MP_QSTR_pending), MP_ROM_PTR(&mqtt_client_pending_obj) },
    { MP_ROM_QSTR(MP_QSTR_session_bytes), MP_ROM_PTR(&mqtt_client_session_bytes_obj) },
    { MP_ROM_QSTR(MP_QSTR_suback), MP_ROM_PTR(&mqtt_client_suback_obj) },
    { MP_ROM_QSTR(MP_QSTR_is_connected), MP_ROM_PTR(&mqtt_client_is_connected_obj) },
    { MP_ROM_QSTR(MP_QSTR_set_ack_callback), MP_ROM_PTR(&mqtt_client_set_ack_callback_obj) },
    { MP_ROM_QSTR(MP_QSTR_setblocking), MP_ROM_PTR(&mqtt_client_setblocking_obj) },
    { MP_ROM_QSTR(MP_QSTR_next_timeout), MP_ROM_PTR(&mqtt_client_next_timeout_obj) },
};
static MP_DEFINE_CONST_DICT(mqtt_client_locals_dict, mqtt_client_locals_dict_table);

static MP_DEFINE_CONST_OBJ_TYPE(
    mqtt_client_type,
    MP_QSTR_MQTTClient,
    MP_TYPE_FLAG_NONE,
    make_new, mqtt_client_make_new,
    attr, mqtt_client_attr,
    protocol, &mqtt_client_stream_p,
    locals_dict, &mqtt_client_locals_dict
    );

static const mp_rom_map_elem_t umqtt_rs_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR_umqtt_rs) },
    { MP_ROM_QSTR(MP_QSTR_MQTTClient), MP_ROM_PTR(&mqtt_client_type) },
    { MP_ROM_QSTR(MP_QSTR_MQTTException), MP_ROM_PTR(&mp_type_MQTTException) },
};
static MP_DEFINE_CONST_DICT(umqtt_rs_module_globals, umqtt_rs_module_globals_table);

const mp_obj_module_t umqtt_rs_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&umqtt_rs_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_umqtt_rs, umqtt_rs_user_cmodule);
