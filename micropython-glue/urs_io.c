// urs_io.c: time, errors to exceptions, the buffers, writing and reading.

#include "umqtt_rs_glue.h"

#if (defined(__unix__) || defined(__APPLE__)) && !MICROPY_ENABLE_DYNRUNTIME
#include <errno.h>
#include <poll.h>
#define UMQTT_RS_HAVE_POSIX_POLL (1)
#elif URS_WAIT_FD
// ESP-IDF's poll() (over its select(), which lwIP wakes when data arrives)
// on the socket's descriptor: the other way, asking the stream between
// mp_event_wait_ms(1), wakes only at the next FreeRTOS tick (10 ms at the
// esp32 port's 100 Hz), which bounded a QoS 1 round trip.
#include <sys/poll.h>
#define UMQTT_RS_HAVE_POSIX_POLL (1)
// Longest single wait: pending events (Ctrl-C, scheduled callbacks, the
// webrepl's socket events) are handled between waits; the port's own
// blocking sockets wait 100 ms at a time.
#define URS_POLL_SLICE_MS (20)
#else
#define UMQTT_RS_HAVE_POSIX_POLL (0)
#endif

// ---- time -------------------------------------------------------------

// Milliseconds on a clock that does not wrap (ticks_ms may).
uint64_t urs_now_ms(mqtt_client_obj_t *self) {
    mp_uint_t t = mp_hal_ticks_ms();
    self->now += (t - self->last_ticks) & URS_TICKS_MASK;
    self->last_ticks = t;
    return self->now;
}

// A time in seconds (int or float) as milliseconds.
mp_int_t urs_seconds_to_ms(mp_obj_t seconds) {
    #if MICROPY_ENABLE_DYNRUNTIME
    // The natmod may be built without floats (dynruntime.mk's armv6m,
    // armv7m, rv32imc): int(seconds * 1000) in the firmware's arithmetic.
    mp_obj_t ms = mp_binary_op(MP_BINARY_OP_MULTIPLY, seconds, MP_OBJ_NEW_SMALL_INT(1000));
    return mp_obj_get_int(mp_call_function_1(mp_load_global(MP_QSTR_int), ms));
    #elif MICROPY_PY_BUILTINS_FLOAT
    return (mp_int_t)(mp_obj_get_float(seconds) * 1000);
    #else
    return mp_obj_get_int(seconds) * 1000;
    #endif
}

// ---- connection teardown and errors -----------------------------------

// Close the transport (errors ignored) and reset the connection state.
void urs_close_transport(mqtt_client_obj_t *self) {
    mp_obj_t sock = self->sock;
    self->sock = mp_const_none;
    #if URS_WAIT_FD
    self->wait_fd = -1;
    #endif
    #if MICROPY_ENABLE_DYNRUNTIME
    self->poller = mp_const_none; // registered the old transport
    #endif
    self->tx_tail = mp_const_none;
    self->tail_stream = false;
    self->piece_pos = self->piece_fill = 0;
    urs_take_views_back(self);
    umqtt_rs_connection_lost(&self->core);
    if (sock != mp_const_none) {
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            mp_stream_close(sock);
            nlr_pop();
        }
    }
}

NORETURN void urs_raise_os(mqtt_client_obj_t *self, int err) {
    urs_close_transport(self);
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
        #if UMQTT_RS_MQTT5
        case UMQTT_RS_ARG_QOS_NOT_SUPPORTED:
            return "qos above the broker's maximum QoS";
        case UMQTT_RS_ARG_RETAIN_NOT_SUPPORTED:
            return "the broker does not take retained messages";
        case UMQTT_RS_ARG_NOT_IN_VERSION:
            return "needs protocol=5";
        case UMQTT_RS_ARG_AUTH_NOT_EXPECTED:
            return "no AUTH may be sent now (a re-authentication under way, or none allowed)";
        case UMQTT_RS_ARG_WILDCARD_NOT_SUPPORTED:
            return "the broker does not take wildcard subscriptions";
        case UMQTT_RS_ARG_SHARED_NOT_SUPPORTED:
            return "the broker does not take shared subscriptions";
        case UMQTT_RS_ARG_SUBSCRIPTION_ID_NOT_SUPPORTED:
            return "the broker does not take subscription identifiers";
        #endif
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
        #if UMQTT_RS_MQTT5
        case UMQTT_RS_PROTO_TOPIC_ALIAS:
            return "topic alias above our maximum or never set";
        case UMQTT_RS_PROTO_RECEIVE_MAXIMUM:
            return "broker sent more QoS 1/2 messages than our receive maximum";
        #endif
        default:
            return "invalid packet";
    }
}

// The one place where core statuses become Python exceptions.  Errors that
// leave the stream in an unknown state close the connection first.
NORETURN void urs_raise_status(mqtt_client_obj_t *self, umqtt_rs_status_t st) {
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
            urs_raise_os(self, MP_ETIMEDOUT);
        case UMQTT_RS_ERR_REFUSED:
            urs_close_transport(self);
            mp_raise_type_arg(&mp_type_MQTTException, MP_OBJ_NEW_SMALL_INT(d));
        case UMQTT_RS_ERR_DECODE:
            urs_close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("protocol error: %s"), decode_error_text(d));
        case UMQTT_RS_ERR_PROTOCOL:
            urs_close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("protocol error: %s"), protocol_error_text(d));
        case UMQTT_RS_ERR_PACKET_TOO_LARGE: {
            #if UMQTT_RS_MQTT5
            umqtt_rs_server_limits_t limits;
            umqtt_rs_server_limits(&self->core, &limits);
            if (limits.maximum_packet_size != 0 && limits.maximum_packet_size < self->max_packet_size) {
                mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("packet of %u bytes exceeds the broker's maximum packet size (%u)"),
                    (unsigned)d, (unsigned)limits.maximum_packet_size);
            }
            #endif
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("packet of %u bytes exceeds max_packet_size (%u)"),
                (unsigned)d, (unsigned)self->max_packet_size);
        }
        #if UMQTT_RS_MQTT5
        case UMQTT_RS_ERR_PROPERTY:
            mp_raise_msg_varg(&mp_type_ValueError, MP_ERROR_TEXT("property 0x%02x cannot be sent here (not allowed, repeated or a bad value)"), (unsigned)d);
        case UMQTT_RS_ERR_SESSION:
            if (d == UMQTT_RS_SESSION_VERSION) {
                mp_raise_ValueError(MP_ERROR_TEXT("the messages in flight were sent in the other protocol version: connect with clean_session=True"));
            }
            urs_close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("internal error %d"), (int)st);
        #endif
        case UMQTT_RS_ERR_INCOMING_TOO_LARGE:
            urs_close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("broker sent a packet of %u bytes, over max_packet_size (%u)"),
                (unsigned)d, (unsigned)self->max_packet_size);
        case UMQTT_RS_ERR_HELD_FULL:
            urs_close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException,
                MP_ERROR_TEXT("more than %d unreleased QoS 2 messages and no memory (%d bytes) to hold their ids"),
                UMQTT_RS_INLINE_HELD, UMQTT_RS_HELD_BITMAP_BYTES);
        case UMQTT_RS_ERR_UNACKED_FULL:
            urs_close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException,
                MP_ERROR_TEXT("more than %d QoS 1/2 messages arrived while a callback ran"), UMQTT_RS_MAX_UNACKED);
        default:
            urs_close_transport(self);
            mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("internal error %d"), (int)st);
    }
}

const mp_stream_p_t *urs_stream_of(mqtt_client_obj_t *self) {
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

void urs_grow_rx(mqtt_client_obj_t *self, size_t need) {
    if (!resize(self, &self->rx, &self->rx_cap, need, umqtt_rs_set_rx_buffer)) {
        // The packet cannot be read: drop the connection rather than the
        // stream's framing.
        urs_close_transport(self);
        mp_raise_msg_varg(&mp_type_MQTTException,
            MP_ERROR_TEXT("incoming packet of %u bytes does not fit in free memory"), (unsigned)need);
    }
}

void urs_grow_tx(mqtt_client_obj_t *self, size_t need) {
    if (!resize(self, &self->tx, &self->tx_cap, need, umqtt_rs_set_tx_buffer)) {
        mp_raise_msg_varg(&mp_type_MemoryError,
            MP_ERROR_TEXT("packet of %u bytes does not fit in free memory"), (unsigned)need);
    }
}

void urs_grow_store(mqtt_client_obj_t *self, size_t need) {
    if (!resize(self, &self->store, &self->store_cap, need, umqtt_rs_set_store_buffer)) {
        mp_raise_msg_varg(&mp_type_MemoryError,
            MP_ERROR_TEXT("message of %u bytes does not fit in free memory"), (unsigned)need);
    }
}

// Give back what a large message took once nothing is stored.
void urs_shrink_buffers(mqtt_client_obj_t *self) {
    if (self->store_cap > self->store_default && umqtt_rs_store_used(&self->core) == 0) {
        resize(self, &self->store, &self->store_cap, self->store_default, umqtt_rs_set_store_buffer);
    }
}

// ---- waiting and I/O ----------------------------------------------------

// Wait until the transport is ready for `flags` or timeout_ms passed
// (timeout_ms < 0: no limit).  Returns early on any readiness or error.
void urs_wait_io(mqtt_client_obj_t *self, mp_uint_t flags, mp_int_t timeout_ms) {
    #if MICROPY_ENABLE_DYNRUNTIME
    // The natmod has no C poll(): select.poll when the firmware has it.
    if (urs_wait_stream(self, flags, timeout_ms)) {
        return;
    }
    #endif
    const mp_stream_p_t *stream = urs_stream_of(self);
    int err;
    #if UMQTT_RS_HAVE_POSIX_POLL
    #if URS_WAIT_FD
    // The descriptor of the socket urs_open_transport() opened (also under
    // TLS: a TLS read says "again" only when it needs bytes from it).
    mp_uint_t fd = self->wait_fd < 0 ? MP_STREAM_ERROR : (mp_uint_t)self->wait_fd;
    if (timeout_ms < 0 || timeout_ms > URS_POLL_SLICE_MS) {
        timeout_ms = URS_POLL_SLICE_MS; // the caller's loop waits again
    }
    #else
    mp_uint_t fd = stream->ioctl(self->sock, MP_STREAM_GET_FILENO, 0, &err);
    #endif
    if (fd != MP_STREAM_ERROR) {
        struct pollfd pfd = { .fd = (int)fd, .events = (flags & MP_STREAM_POLL_RD ? POLLIN : 0) | (flags & MP_STREAM_POLL_WR ? POLLOUT : 0) };
        MP_THREAD_GIL_EXIT();
        int r = poll(&pfd, 1, timeout_ms < 0 ? -1 : (int)timeout_ms);
        MP_THREAD_GIL_ENTER();
        #if URS_WAIT_FD
        if (r == 0) {
            // What the port's own wait (MICROPY_EVENT_POLL_HOOK) runs, less its sleep.
            mp_handle_pending(true);
            #ifdef MICROPY_PY_SOCKET_EVENTS_HANDLER
            MICROPY_PY_SOCKET_EVENTS_HANDLER
            #endif
        }
        #else
        if (r < 0 && errno == EINTR) {
            mp_handle_pending(true);
        }
        #endif
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
        mp_uint_t elapsed = (mp_hal_ticks_ms() - start) & URS_TICKS_MASK;
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
static size_t urs_read_source(mqtt_client_obj_t *self, size_t want) {
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
        urs_close_transport(self);
        nlr_jump(nlr.ret_val);
    }
    return got;
}

// A resend of a message streamed from a seekable source: the core queued
// its header and asks for its payload again; the source is sought back to
// where the payload started.  A source that cannot be found or sought
// leaves a packet that cannot be finished: the connection is closed.
static void attach_resend(mqtt_client_obj_t *self) {
    uint16_t pid = umqtt_rs_tx_tail_pid(&self->core);
    mp_obj_t e = MP_OBJ_NULL;
    if (self->streams != mp_const_none && pid != 0) {
        e = urs_dict_get(self->streams, MP_OBJ_NEW_SMALL_INT(pid));
    }
    if (e == MP_OBJ_NULL) {
        urs_close_transport(self);
        mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("streamed message %u cannot be read again"), pid);
    }
    size_t n;
    mp_obj_t *src;
    mp_obj_tuple_get(e, &n, &src);
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t dest[3];
        mp_load_method(src[0], MP_QSTR_seek, dest);
        dest[2] = src[1];
        mp_call_method_n_kw(1, 0, dest);
        nlr_pop();
    } else {
        urs_close_transport(self);
        nlr_jump(nlr.ret_val);
    }
    self->tx_tail = urs_stream_part(src[0], MP_STREAM_OP_READ);
    self->tail_stream = true;
    self->piece_pos = self->piece_fill = 0;
}

// The next bytes the core wants written: its tx queue, then the tail (the
// rest of a large payload, re-taken from its object each time: Python may
// have run since).  False when nothing is pending.
static bool urs_next_out(mqtt_client_obj_t *self, const uint8_t **p, size_t *n) {
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
    if (self->tx_tail == mp_const_none) {
        // The core resent a streamed message's header: its payload again.
        attach_resend(self);
    }
    if (self->tail_stream) {
        if (self->piece_pos == self->piece_fill) {
            size_t got = urs_read_source(self, tail < self->piece_cap ? tail : self->piece_cap);
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
        urs_close_transport(self);
        mp_raise_ValueError(MP_ERROR_TEXT("payload changed while being sent"));
    }
    *p = (const uint8_t *)info.buf + (info.len - tail);
    *n = tail;
    return true;
}

size_t urs_tx_pending(mqtt_client_obj_t *self) {
    const uint8_t *p;
    size_t n;
    umqtt_rs_tx_pending(&self->core, &p, &n);
    return n + umqtt_rs_tx_tail(&self->core);
}

// Write what the core queued, in order (the queue, then a tail), in as few
// writes as the transport allows.  Blocking mode writes it all; non-blocking
// mode what the transport takes now (the rest is state: it goes with a later
// call).  Returns the bytes written.
size_t urs_flush(mqtt_client_obj_t *self) {
    // What the bytes depend on is on file before any of them go out.
    if (self->session_file != mp_const_none) {
        urs_persist(self);
    }
    size_t total = 0;
    const uint8_t *p;
    size_t n;
    while (urs_next_out(self, &p, &n)) {
        const mp_stream_p_t *stream = urs_stream_of(self);
        int err;
        mp_uint_t w = stream->write(self->sock, p, n, &err);
        if (w == MP_STREAM_ERROR) {
            if (!mp_is_nonblocking_error(err)) {
                urs_raise_os(self, err);
            }
            if (self->nonblocking) {
                break;
            }
            urs_wait_io(self, MP_STREAM_POLL_WR, -1);
            continue;
        }
        if (w == 0) {
            urs_raise_os(self, MP_ECONNRESET);
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
bool urs_make_tx_room(mqtt_client_obj_t *self, size_t need) {
    if (need > self->tx_cap && umqtt_rs_tx_tail(&self->core) == 0) {
        urs_grow_tx(self, need);
        return true;
    }
    return urs_flush(self) > 0 || !self->nonblocking;
}

// As make_tx_room, for a call that must not return without queueing:
// non-blocking mode raises OSError(EAGAIN) (publish, subscribe, ping).
void urs_need_tx_room(mqtt_client_obj_t *self, size_t need) {
    if (!urs_make_tx_room(self, need)) {
        mp_raise_OSError(MP_EAGAIN);
    }
}

// Lend the core the held-id bitmap when a broker keeps more QoS 2 messages
// unreleased than the core holds inline; without the memory the connection
// is closed (the messages are not acknowledged: the broker keeps them).
void urs_lend_held(mqtt_client_obj_t *self) {
    if (self->held == NULL) {
        self->held = m_new_maybe(uint8_t, UMQTT_RS_HELD_BITMAP_BYTES);
    }
    if (self->held == NULL) {
        urs_raise_status(self, UMQTT_RS_ERR_HELD_FULL);
    }
    umqtt_rs_set_held_buffer(&self->core, self->held, UMQTT_RS_HELD_BITMAP_BYTES);
}

// Read what the transport has, without blocking.  Returns the number of bytes
// read, 0 when nothing is available; raises on error or end of stream.
size_t urs_read_some(mqtt_client_obj_t *self) {
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
        urs_raise_status(self, UMQTT_RS_ERR_PROTOCOL);
    }
    const mp_stream_p_t *stream = urs_stream_of(self);
    int err;
    mp_uint_t n = stream->read(self->sock, win, len, &err);
    if (n == MP_STREAM_ERROR) {
        if (mp_is_nonblocking_error(err)) {
            return 0;
        }
        urs_raise_os(self, err);
    }
    if (n == 0) {
        urs_raise_os(self, MP_ECONNRESET);
    }
    umqtt_rs_rx_commit(&self->core, n);
    return n;
}

// ---- argument helpers ---------------------------------------------------

umqtt_rs_bytes_t urs_buf_of(mp_obj_t o) {
    mp_buffer_info_t info;
    mp_get_buffer_raise(o, &info, MP_BUFFER_READ);
    return (umqtt_rs_bytes_t) {(const uint8_t *)info.buf, info.len};
}

umqtt_rs_bytes_t urs_opt_buf_of(mp_obj_t o) {
    if (o == mp_const_none) {
        return (umqtt_rs_bytes_t) {NULL, 0};
    }
    return urs_buf_of(o);
}

uint8_t urs_qos_of(mp_int_t q) {
    if (q < 0 || q > 2) {
        mp_raise_ValueError(MP_ERROR_TEXT("qos must be 0, 1 or 2"));
    }
    return (uint8_t)q;
}

// ---- dicts ------------------------------------------------------------
// The client's dicts (filters, subacks, streams, ssl_params) through these
// three, which the natmod, without the firmware's map functions, answers
// with the dict's own methods (the dict itself standing for "absent": it is
// never one of its own values).

#if MICROPY_ENABLE_DYNRUNTIME
// dict.<method>(key, dict): the value, or MP_OBJ_NULL when absent.
static mp_obj_t dict_lookup(mp_obj_t dict, qstr method, mp_obj_t key) {
    mp_obj_t call[4];
    mp_load_method(dict, method, call);
    call[2] = key;
    call[3] = dict;
    mp_obj_t v = mp_call_method_n_kw(2, 0, call);
    return v == dict ? MP_OBJ_NULL : v;
}
#endif

// The value for key, or MP_OBJ_NULL.
mp_obj_t urs_dict_get(mp_obj_t dict, mp_obj_t key) {
    #if MICROPY_ENABLE_DYNRUNTIME
    return dict_lookup(dict, MP_QSTR_get, key);
    #else
    mp_map_elem_t *e = mp_map_lookup(mp_obj_dict_get_map(dict), key, MP_MAP_LOOKUP);
    return e == NULL ? MP_OBJ_NULL : e->value;
    #endif
}

// The value for key, removed from the dict, or MP_OBJ_NULL.
mp_obj_t urs_dict_take(mp_obj_t dict, mp_obj_t key) {
    #if MICROPY_ENABLE_DYNRUNTIME
    return dict_lookup(dict, MP_QSTR_pop, key);
    #else
    mp_map_elem_t *e = mp_map_lookup(mp_obj_dict_get_map(dict), key, MP_MAP_LOOKUP_REMOVE_IF_FOUND);
    if (e == NULL) {
        return MP_OBJ_NULL;
    }
    mp_obj_t v = e->value;
    e->value = MP_OBJ_NULL; // nothing keeps it alive but the caller
    return v;
    #endif
}

void urs_dict_clear(mp_obj_t dict) {
    #if MICROPY_ENABLE_DYNRUNTIME
    mp_obj_t call[2];
    mp_load_method(dict, MP_QSTR_clear, call);
    mp_call_method_n_kw(0, 0, call);
    #else
    mp_map_clear(mp_obj_dict_get_map(dict));
    #endif
}
