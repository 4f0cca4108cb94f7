// umqtt_rs_glue.h: what the files of the umqtt_rs module share (not an ABI:
// umqtt_rs.h is the contract with the Rust core).  The client object (every
// buffer and Python object the GC must see lives in it) and the functions
// one file of the module calls in another:
//   modumqtt_rs.c   the Python type and module: arguments, methods
//   urs_publish.c   publish(): from memory or streamed from a source
//   urs_subscribe.c subscribe(), unsubscribe(), suback()
//   urs_io.c        time, errors to exceptions, buffers, writing and reading
//   urs_delivery.c  the loop (run) and giving messages to the application
//   urs_transport.c opening the socket, TLS, streams given by the caller
//   urs_session.c   the session as bytes, in a file
//   urs_v5.c        MQTT 5: properties, CONNECT options, reasons (only
//                   with UMQTT_RS_MQTT5: the core built with MQTT5=1)
//   urs_auth.c      MQTT 5: enhanced authentication (AUTH)
//   urs_request.c   MQTT 5: request() (request/response)
#ifndef UMQTT_RS_GLUE_H
#define UMQTT_RS_GLUE_H

#include <string.h>

#if MICROPY_ENABLE_DYNRUNTIME
// The dynamic native module (.mpy, micropython-glue/natmod): what the
// firmware's API has and mp_fun_table does not, in urs_natmod.h.
#include "py/dynruntime.h"
#include "urs_natmod.h"
#else
#include "py/runtime.h"
#include "py/stream.h"
#include "py/objstr.h"
#include "py/objlist.h"
#include "py/objarray.h"
#include "py/objtype.h"
#include "py/mphal.h"
#include "py/mperrno.h"
// A table of qstrs or default objects: constant in the firmware (filled in
// on each call in the natmod, where qstrs are looked up at load time).
#define URS_CONST_TABLE static const
// mp_hal_ticks_ms() wraps at 2**32 here (at ticks_ms()'s period in the
// natmod).
#define URS_TICKS_MASK ((mp_uint_t)0xffffffffu)
#define URS_BUILTIN_OPEN (MP_OBJ_FROM_PTR(&mp_builtin_open_obj))
extern const mp_obj_type_t mp_type_MQTTException;
#endif

// 1: the Rust core has MQTT 5 (make ... MQTT5=1 passes it to the glue).
#ifndef UMQTT_RS_MQTT5
#define UMQTT_RS_MQTT5 (0)
#endif

#include "umqtt_rs.h"

#define DEFAULT_RX_SIZE (1024)
#define DEFAULT_TX_SIZE (1024)
#define DEFAULT_STORE_SIZE (2048)
#define DEFAULT_WINDOW (16)
#define MAX_SUBSCRIBE_TOPICS (8)
// The largest packet sent or accepted unless max_packet_size= says otherwise.
#ifndef UMQTT_RS_DEFAULT_MAX_PACKET_SIZE
#define UMQTT_RS_DEFAULT_MAX_PACKET_SIZE (65536)
#endif

// ESP-IDF (its sdkconfig.h, through the esp32 port's mpconfigport.h; the
// port compiles the module without ESP_PLATFORM): waits are poll() on the
// descriptor of the socket connect() opened (urs_wait_io); its socket
// streams cannot give their descriptor.
#if defined(CONFIG_IDF_TARGET) && !MICROPY_ENABLE_DYNRUNTIME
#define URS_WAIT_FD (1)
#else
#define URS_WAIT_FD (0)
#endif

// Pseudo event kinds for run(): never satisfied / any event.
#define WANT_NOTHING (-1)
#define WANT_ANY (-2)

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
    // QoS 1/2 messages streamed from a seekable source, for a resend after
    // a reconnect: dict of packet id -> (stream, start position), or None.
    mp_obj_t streams;
    // Messages that arrived while a callback ran: a list of (topic, msg,
    // retained, qos, dup, pid), or None.
    mp_obj_t deferred;
    // session_file=: the file the session is kept in (str), or None; and
    // the core's session generation when it was last written.
    mp_obj_t session_file;
    uint32_t saved_generation;
    // The application's bytes kept with the session (set_session_data):
    // bytes or None; session_data_dirty until written to session_file.
    mp_obj_t session_data;
    bool session_data_dirty;
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
    // coalesce=True: publishes that do not wait leave their packets queued
    // for the next write (a full buffer, a call that waits or reads, flush()).
    bool coalesce;
    // A message callback is running.
    bool delivering;
    // Callbacks get memoryviews into rx instead of bytes objects.
    bool cb_view;
    // The views point into rx now.
    bool views_lent;
    // set_callback(..., props=True): the callbacks get the message's
    // properties (a dict, or None) as their last argument.
    bool cb_props;
    // set_ack_callback(f, reason=True): f(pid, reason code).
    bool ack_reason;
    #if UMQTT_RS_MQTT5
    // 4 (MQTT 3.1.1) or 5.
    uint8_t protocol;
    // connect(props=...) and set_last_will(..., props=...): dicts or None;
    // the CONNACK's properties (dict, or None when it had none).
    mp_obj_t connect_props;
    mp_obj_t lw_props;
    mp_obj_t connack;
    // Blocking publishes waiting for their ack: dict of pid -> None, or
    // the reason code of a PUBACK/PUBREC that refused it; or None.
    mp_obj_t refused;
    // The incoming topic alias map lent to the core (topic_alias_maximum).
    uint8_t *aliases;
    size_t aliases_cap;
    // The outgoing topic alias map: topic_aliases= bytes, taken when a
    // broker first allows aliases (NULL before, and with 0).
    uint8_t *out_aliases;
    uint16_t out_aliases_size;
    // set_auth_callback(f): f(reason, props) answers the broker's AUTH
    // challenges; None: a challenge closes the connection.
    mp_obj_t auth_cb;
    // reauth() waits for the broker's Success while this is set.
    bool reauthing;
    // Subscription identifiers: dict of filter (bytes) -> the identifier
    // its last subscribe sent (int: the application's, or the negative of
    // one the client chose), or None before the first; the last identifier
    // the client chose.
    mp_obj_t sub_ids;
    uint32_t last_sub_id;
    // request(): the response topic (bytes, or None before the first), and
    // whether the session has its subscription; the Correlation Data of the
    // request waiting (bytes, or None), its answer (MP_OBJ_NULL until in);
    // how many requests were made.
    mp_obj_t resp_topic;
    bool resp_subscribed;
    mp_obj_t request_corr;
    mp_obj_t response;
    uint32_t requests;
    #endif
    #if URS_WAIT_FD
    // The descriptor of the socket connect() opened, for poll(); -1: none.
    int wait_fd;
    #endif
    #if MICROPY_ENABLE_DYNRUNTIME
    // The natmod waits for the transport with a select.poll object (it has
    // no C poll() to call); made on first need, with the events it waits for.
    mp_obj_t poller;
    mp_uint_t poll_flags;
    #endif
} mqtt_client_obj_t;

uint64_t urs_now_ms(mqtt_client_obj_t *self);
mp_int_t urs_seconds_to_ms(mp_obj_t seconds);
void urs_close_transport(mqtt_client_obj_t *self);
NORETURN void urs_raise_os(mqtt_client_obj_t *self, int err);
NORETURN void urs_raise_status(mqtt_client_obj_t *self, umqtt_rs_status_t st);
const mp_stream_p_t *urs_stream_of(mqtt_client_obj_t *self);
void urs_grow_rx(mqtt_client_obj_t *self, size_t need);
void urs_grow_tx(mqtt_client_obj_t *self, size_t need);
void urs_grow_store(mqtt_client_obj_t *self, size_t need);
void urs_shrink_buffers(mqtt_client_obj_t *self);
void urs_wait_io(mqtt_client_obj_t *self, mp_uint_t flags, mp_int_t timeout_ms);
size_t urs_tx_pending(mqtt_client_obj_t *self);
size_t urs_flush(mqtt_client_obj_t *self);
bool urs_make_tx_room(mqtt_client_obj_t *self, size_t need);
void urs_need_tx_room(mqtt_client_obj_t *self, size_t need);
void urs_lend_held(mqtt_client_obj_t *self);
size_t urs_read_some(mqtt_client_obj_t *self);
mp_obj_t urs_new_bytes(const uint8_t *data, size_t len);
void urs_take_views_back(mqtt_client_obj_t *self);
int urs_run(mqtt_client_obj_t *self, int want, uint16_t want_pid, mp_int_t timeout_ms);
umqtt_rs_bytes_t urs_buf_of(mp_obj_t o);
umqtt_rs_bytes_t urs_opt_buf_of(mp_obj_t o);
uint8_t urs_qos_of(mp_int_t q);
mp_obj_t urs_open_transport(mqtt_client_obj_t *self, mp_obj_t timeout);
mp_obj_t urs_stream_part(mp_obj_t o, int ops);
extern const mp_obj_fun_builtin_var_t mqtt_client_publish_obj;
extern const mp_obj_fun_builtin_var_t mqtt_client_subscribe_obj;
extern const mp_obj_fun_builtin_fixed_t mqtt_client_unsubscribe_obj;
extern const mp_obj_fun_builtin_fixed_t mqtt_client_suback_obj;
void urs_restore_session(mqtt_client_obj_t *self, mp_obj_t saved);
mp_obj_t urs_session_bytes(mqtt_client_obj_t *self);
void urs_load_session_file(mqtt_client_obj_t *self);
void urs_persist(mqtt_client_obj_t *self);
mp_obj_t urs_dict_get(mp_obj_t dict, mp_obj_t key);
mp_obj_t urs_dict_take(mp_obj_t dict, mp_obj_t key);
void urs_dict_clear(mp_obj_t dict);
bool urs_wait_stream(mqtt_client_obj_t *self, mp_uint_t flags, mp_int_t timeout_ms);
#if UMQTT_RS_MQTT5
umqtt_rs_status_t urs_connect(mqtt_client_obj_t *self, const umqtt_rs_connect_opts_t *opts);
size_t urs_props_from(mp_obj_t props, umqtt_rs_prop_t *items, umqtt_rs_connect5_opts_t *connect);
mp_obj_t urs_props_dict(umqtt_rs_bytes_t props);
void urs_grow_aliases(mqtt_client_obj_t *self, size_t need);
NORETURN void urs_raise_reason(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev);
umqtt_rs_status_t urs_disconnect5(mqtt_client_obj_t *self, mp_int_t reason, mp_obj_t session_expiry, mp_obj_t props);
void urs_publish_failed(mqtt_client_obj_t *self, uint16_t pid, uint8_t code);
void urs_lend_out_aliases(mqtt_client_obj_t *self);
void urs_on_auth(mqtt_client_obj_t *self, uint8_t reason, mp_obj_t props);
mp_int_t urs_sub_id_for(mqtt_client_obj_t *self, mp_obj_t props);
umqtt_rs_status_t urs_subscribe5(mqtt_client_obj_t *self, const umqtt_rs_topic_t *entries, size_t count, mp_obj_t props, mp_int_t sub_id, uint16_t *pid);
void urs_note_sub_ids(mqtt_client_obj_t *self, const umqtt_rs_topic_t *entries, size_t count, mp_int_t sub_id);
mp_obj_t urs_message_props(mqtt_client_obj_t *self, umqtt_rs_bytes_t props);
bool urs_match_sub_ids(mqtt_client_obj_t *self, umqtt_rs_bytes_t topic, umqtt_rs_bytes_t props, mp_obj_t *matched, size_t *n, size_t cap);
extern const mp_obj_fun_builtin_fixed_t mqtt_client_set_auth_callback_obj;
extern const mp_obj_fun_builtin_var_t mqtt_client_reauth_obj;
bool urs_take_response(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev);
extern const mp_obj_fun_builtin_var_t mqtt_client_request_obj;
#define URS_PROTOCOL(self) ((self)->protocol)
#else
#define urs_connect(self, opts) umqtt_rs_connect(&(self)->core, urs_now_ms(self), (opts))
#define URS_PROTOCOL(self) (4)
#endif

#endif // UMQTT_RS_GLUE_H
