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
// lives in the client object (umqtt_rs_glue.h, which also says what the
// module's other files hold).  This file: the Python type, its arguments
// and methods, and the module.


#include "umqtt_rs_glue.h"

#if !MICROPY_ENABLE_DYNRUNTIME
MP_DEFINE_EXCEPTION(MQTTException, Exception)
#endif

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

// ---- Python API -----------------------------------------------------------

static mp_obj_t mqtt_client_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw, const mp_obj_t *all_args) {
    enum { ARG_client_id, ARG_server, ARG_port, ARG_user, ARG_password, ARG_keepalive, ARG_ssl, ARG_ssl_params, ARG_rx_size, ARG_tx_size, ARG_store_size, ARG_window, ARG_max_packet_size, ARG_session, ARG_session_file, ARG_coalesce, ARG_protocol, ARG_topic_aliases };
    URS_CONST_TABLE mp_arg_t allowed_args[] = {
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
        { MP_QSTR_session_file, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_coalesce, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_protocol, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 4} },
        { MP_QSTR_topic_aliases, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 256} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);

    mp_int_t protocol = args[ARG_protocol].u_int;
    if (protocol == 5 && !UMQTT_RS_MQTT5) {
        mp_raise_ValueError(MP_ERROR_TEXT("protocol=5: this umqtt_rs was built without MQTT 5 (make MQTT5=1)"));
    }
    if (protocol != 4 && protocol != 5) {
        mp_raise_ValueError(MP_ERROR_TEXT("protocol must be 4 (MQTT 3.1.1) or 5"));
    }
    mp_int_t topic_aliases = args[ARG_topic_aliases].u_int;
    if (topic_aliases < 0 || topic_aliases > 65535) {
        mp_raise_ValueError(MP_ERROR_TEXT("topic_aliases must be 0..65535 bytes"));
    }

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
    urs_buf_of(args[ARG_client_id].u_obj);
    mp_obj_str_get_str(args[ARG_server].u_obj);

    mqtt_client_obj_t *self = mp_obj_malloc(mqtt_client_obj_t, type);
    self->client_id = args[ARG_client_id].u_obj;
    self->server = args[ARG_server].u_obj;
    self->user = args[ARG_user].u_obj;
    self->pswd = args[ARG_password].u_obj;
    self->ssl = args[ARG_ssl].u_obj;
    self->ssl_params = args[ARG_ssl_params].u_obj;
    self->sock = mp_const_none;
    #if URS_WAIT_FD
    self->wait_fd = -1;
    #endif
    self->cb = mp_const_none;
    self->lw_topic = mp_const_none;
    self->lw_msg = mp_const_none;
    self->lw_qos = 0;
    self->lw_retain = false;
    self->cb_flags = false;
    self->nonblocking = false;
    self->coalesce = args[ARG_coalesce].u_bool;
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
    self->streams = mp_const_none;
    self->deferred = mp_const_none;
    self->delivering = false;
    self->views = mp_const_none;
    #if MICROPY_ENABLE_DYNRUNTIME
    self->poller = mp_const_none;
    #endif
    self->cb_view = false;
    self->views_lent = false;
    self->cb_props = false;
    self->ack_reason = false;
    #if UMQTT_RS_MQTT5
    self->protocol = (uint8_t)protocol;
    self->connect_props = self->lw_props = self->connack = self->refused = mp_const_none;
    self->aliases = NULL;
    self->aliases_cap = 0;
    self->out_aliases = NULL;
    self->out_aliases_size = (uint16_t)topic_aliases;
    self->auth_cb = mp_const_none;
    self->sub_ids = mp_const_none;
    self->resp_topic = self->request_corr = mp_const_none;
    self->response = MP_OBJ_NULL;
    self->reauthing = false;
    #else
    (void)topic_aliases;
    #endif
    // 0: MQTT's own limit, 268,435,460 bytes.
    self->max_packet_size = max_packet_size == 0 ? 268435460 : (size_t)max_packet_size;
    self->now = 0;
    self->last_ticks = mp_hal_ticks_ms();
    umqtt_rs_init(&self->core, self->rx, self->rx_cap, self->tx, self->tx_cap, self->store, self->store_cap);
    umqtt_rs_set_window(&self->core, (size_t)window);
    umqtt_rs_set_max_packet_size(&self->core, self->max_packet_size);
    #if UMQTT_RS_MQTT5
    // Before a saved session is restored: its messages carry a version.
    umqtt_rs_set_protocol(&self->core, self->protocol);
    #endif
    self->session_data = mp_const_none;
    self->session_data_dirty = false;
    self->session_file = args[ARG_session_file].u_obj;
    if (self->session_file != mp_const_none) {
        mp_obj_str_get_str(self->session_file);
    }
    if (args[ARG_session].u_obj != mp_const_none) {
        urs_restore_session(self, args[ARG_session].u_obj);
    } else if (self->session_file != mp_const_none) {
        urs_load_session_file(self);
    }
    self->saved_generation = umqtt_rs_session_generation(&self->core);
    return MP_OBJ_FROM_PTR(self);
}

// session_bytes(): the durable state as bytes, for MQTTClient(...,
// session=b) in a later process: the packet-id counter, every QoS 1/2
// message not yet completed, the held QoS 2 ids.  17 bytes with nothing in
// flight, plus 7 and the PUBLISH per message.
static mp_obj_t mqtt_client_session_bytes(mp_obj_t self_in) {
    return urs_session_bytes(MP_OBJ_TO_PTR(self_in));
}

// session_data() / set_session_data(b): up to 65,535 bytes of the
// application's own kept with the session (in session_bytes() and
// session_file; the robust layer keeps its subscriptions there).
// set_session_data writes session_file at once.
static mp_obj_t mqtt_client_session_data(mp_obj_t self_in) {
    return ((mqtt_client_obj_t *)MP_OBJ_TO_PTR(self_in))->session_data;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_session_data_obj, mqtt_client_session_data);

static mp_obj_t mqtt_client_set_session_data(mp_obj_t self_in, mp_obj_t data) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (data != mp_const_none) {
        umqtt_rs_bytes_t b = urs_buf_of(data);
        if (b.len > 65535) {
            mp_raise_ValueError(MP_ERROR_TEXT("session data is over 65535 bytes"));
        }
        data = mp_obj_new_bytes(b.ptr, b.len);
    }
    self->session_data = data;
    self->session_data_dirty = true;
    urs_persist(self);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(mqtt_client_set_session_data_obj, mqtt_client_set_session_data);
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_session_bytes_obj, mqtt_client_session_bytes);

static mp_obj_t mqtt_client_connect(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_clean_session, ARG_timeout, ARG_sock, ARG_props };
    URS_CONST_TABLE mp_arg_t allowed_args[] = {
        { MP_QSTR_clean_session, MP_ARG_BOOL, {.u_bool = true} },
        { MP_QSTR_timeout, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        // Extension: an already-open stream to use instead of a new socket.
        { MP_QSTR_sock, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        // MQTT 5: CONNECT properties, kept for later connects (None).
        { MP_QSTR_props, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    if (args[ARG_props].u_obj != mp_const_none) {
        if (URS_PROTOCOL(self) != 5) {
            mp_raise_ValueError(MP_ERROR_TEXT("needs protocol=5"));
        }
        #if UMQTT_RS_MQTT5
        self->connect_props = args[ARG_props].u_obj;
        #endif
    }

    urs_close_transport(self);
    umqtt_rs_connect_opts_t opts = {
        .client_id = urs_buf_of(self->client_id),
        .user = urs_opt_buf_of(self->user),
        .password = urs_opt_buf_of(self->pswd),
        .will_topic = urs_opt_buf_of(self->lw_topic),
        .will_message = urs_opt_buf_of(self->lw_msg),
        .keepalive_s = self->keepalive,
        .will_qos = self->lw_qos,
        .will_retain = self->lw_retain,
        .clean_session = args[ARG_clean_session].u_bool,
    };
    // CONNECT is encoded (and checked) before any socket is opened.
    umqtt_rs_status_t st = urs_connect(self, &opts);
    if (st == UMQTT_RS_ERR_TX_FULL) {
        urs_grow_tx(self, umqtt_rs_error_detail(&self->core));
        st = urs_connect(self, &opts);
    }
    if (st != UMQTT_RS_OK) {
        urs_raise_status(self, st);
    }
    if (opts.clean_session) {
        self->streams = mp_const_none; // a clean session resends nothing
    }
    // The encoded CONNECT waits in the tx buffer for the new transport.
    mp_obj_t sock = args[ARG_sock].u_obj;
    if (sock == mp_const_none) {
        sock = urs_open_transport(self, args[ARG_timeout].u_obj);
    } else {
        if (!mp_obj_is_obj(sock) || !MP_OBJ_TYPE_HAS_SLOT(mp_obj_get_type(sock), protocol)) {
            mp_raise_TypeError(MP_ERROR_TEXT("sock must be a stream"));
        }
        sock = urs_stream_part(sock, MP_STREAM_OP_READ | MP_STREAM_OP_WRITE | MP_STREAM_OP_IOCTL);
    }
    self->sock = sock;
    #if MICROPY_ENABLE_DYNRUNTIME
    self->poller = mp_const_none;
    #endif
    mp_int_t timeout_ms = -1;
    if (args[ARG_timeout].u_obj != mp_const_none) {
        timeout_ms = urs_seconds_to_ms(args[ARG_timeout].u_obj);
    }
    if (self->nonblocking) {
        // Non-blocking mode does not wait for the CONNACK: check_msg()
        // handles it (the ack callback gets pid 0, is_connected() turns
        // true; a refusal raises MQTTException there).
        urs_flush(self);
        return mp_const_none;
    }
    if (urs_run(self, UMQTT_RS_EV_CONNECTED, 0, timeout_ms) != UMQTT_RS_EV_CONNECTED) {
        urs_raise_os(self, MP_ETIMEDOUT);
    }
    return MP_OBJ_NEW_SMALL_INT(self->session_present);
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_connect_obj, 1, mqtt_client_connect);

// disconnect(reason=0, session_expiry=None, props=None): the last three
// for MQTT 5's DISCONNECT (a reason code, a new Session Expiry Interval,
// Reason String / User Property).
static mp_obj_t mqtt_client_disconnect(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_reason, ARG_session_expiry, ARG_props };
    URS_CONST_TABLE mp_arg_t allowed_args[] = {
        { MP_QSTR_reason, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_session_expiry, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_props, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    bool v5 = args[ARG_reason].u_int != 0 || args[ARG_session_expiry].u_obj != mp_const_none
        || args[ARG_props].u_obj != mp_const_none;
    if (v5 && URS_PROTOCOL(self) != 5) {
        mp_raise_ValueError(MP_ERROR_TEXT("needs protocol=5"));
    }
    if (self->sock == mp_const_none) {
        return mp_const_none;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        // What coalesced publishes left queued goes first, whether or not
        // the DISCONNECT fits behind it.
        urs_flush(self);
        umqtt_rs_status_t st;
        #if UMQTT_RS_MQTT5
        if (v5) {
            st = urs_disconnect5(self, args[ARG_reason].u_int, args[ARG_session_expiry].u_obj, args[ARG_props].u_obj);
            if (st != UMQTT_RS_OK && st != UMQTT_RS_ERR_TX_FULL && st != UMQTT_RS_ERR_NOT_CONNECTED) {
                urs_raise_status(self, st); // the connection is closed all the same
            }
        } else
        #endif
        st = umqtt_rs_disconnect(&self->core);
        if (st == UMQTT_RS_OK) {
            urs_flush(self);
        }
        nlr_pop();
    } else {
        urs_close_transport(self);
        nlr_jump(nlr.ret_val);
    }
    urs_close_transport(self);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_disconnect_obj, 1, mqtt_client_disconnect);

static mp_obj_t mqtt_client_ping(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    umqtt_rs_status_t st = umqtt_rs_ping(&self->core, urs_now_ms(self));
    if (st == UMQTT_RS_ERR_TX_FULL) {
        urs_need_tx_room(self, umqtt_rs_error_detail(&self->core));
        st = umqtt_rs_ping(&self->core, urs_now_ms(self));
    }
    if (st != UMQTT_RS_OK) {
        urs_raise_status(self, st);
    }
    urs_flush(self);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_ping_obj, mqtt_client_ping);

// set_callback(f, flags=False, view=False, chunks=0): f(topic, msg), or with
// flags=True f(topic, msg, retained, qos, dup).  view=True: topic and msg
// are read-only memoryviews into the receive buffer (no allocation per
// message), valid until the callback returns or calls into the client.
// chunks=N: a message whose payload is larger than N bytes comes as
// f(topic, chunk, offset, total) calls, chunk at most N bytes (memoryviews
// as with view=True), never held whole.  props=True: one more argument
// last, the message's MQTT 5 properties (a dict, None when it has none and
// always in MQTT 3.1.1; with chunks, each piece's call has them).
static mp_obj_t mqtt_client_set_callback(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_f, ARG_flags, ARG_view, ARG_chunks, ARG_props };
    URS_CONST_TABLE mp_arg_t allowed_args[] = {
        { MP_QSTR_f, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_flags, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_view, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_chunks, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_props, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
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
    self->cb_props = args[ARG_props].u_bool;
    self->cb_flags = args[ARG_flags].u_bool;
    self->cb_view = args[ARG_view].u_bool;
    umqtt_rs_set_chunk_size(&self->core, (size_t)chunks);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_set_callback_obj, 2, mqtt_client_set_callback);

static mp_obj_t mqtt_client_set_last_will(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_msg, ARG_retain, ARG_qos, ARG_props };
    URS_CONST_TABLE mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_msg, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_retain, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
        // MQTT 5: the will's properties (PROP_WILL_DELAY_INTERVAL, ...).
        { MP_QSTR_props, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    uint8_t qos = urs_qos_of(args[ARG_qos].u_int);
    urs_buf_of(args[ARG_msg].u_obj);
    // Check the topic now, so that the error points at this call.
    umqtt_rs_bytes_t topic = urs_buf_of(args[ARG_topic].u_obj);
    if (topic.len == 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("invalid topic: topic is empty"));
    }
    self->lw_topic = args[ARG_topic].u_obj;
    self->lw_msg = args[ARG_msg].u_obj;
    self->lw_retain = args[ARG_retain].u_bool;
    self->lw_qos = qos;
    if (args[ARG_props].u_obj != mp_const_none && URS_PROTOCOL(self) != 5) {
        mp_raise_ValueError(MP_ERROR_TEXT("needs protocol=5"));
    }
    #if UMQTT_RS_MQTT5
    self->lw_props = args[ARG_props].u_obj;
    #endif
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_set_last_will_obj, 3, mqtt_client_set_last_will);

// drain(timeout=None): wait until every QoS 1/2 message is acknowledged,
// handling what arrives meanwhile; False when timeout (seconds) ran out.
static mp_obj_t mqtt_client_drain(size_t n_args, const mp_obj_t *args) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    mp_int_t timeout_ms = -1;
    if (n_args > 1 && args[1] != mp_const_none) {
        timeout_ms = urs_seconds_to_ms(args[1]);
    }
    if (self->nonblocking) {
        urs_run(self, WANT_NOTHING, 0, 0);
        return mp_obj_new_bool(umqtt_rs_inflight(&self->core) == 0);
    }
    uint64_t start = urs_now_ms(self);
    while (umqtt_rs_inflight(&self->core) > 0) {
        mp_int_t left = -1;
        if (timeout_ms >= 0) {
            uint64_t elapsed = urs_now_ms(self) - start;
            if (elapsed >= (uint64_t)timeout_ms) {
                return mp_const_false;
            }
            left = timeout_ms - (mp_int_t)elapsed;
        }
        urs_run(self, UMQTT_RS_EV_PUBLISHED, 0, left);
    }
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mqtt_client_drain_obj, 1, 2, mqtt_client_drain);

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

// flush(): write what is queued (coalesced publishes); in non-blocking mode
// what the transport takes now.
static mp_obj_t mqtt_client_flush(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->sock == mp_const_none) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    urs_flush(self);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_flush_obj, mqtt_client_flush);

// pending(): bytes queued and not yet written (in non-blocking mode the
// transport may take part of them; check_msg() writes more).
static mp_obj_t mqtt_client_pending(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    return mp_obj_new_int_from_uint(urs_tx_pending(self));
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_pending_obj, mqtt_client_pending);

// set_ack_callback(f, reason=False): f(pid) when a QoS 1/2 publish is
// acknowledged, and in non-blocking mode also when a SUBACK or UNSUBACK
// arrives, and f(0) when the CONNACK does.  reason=True: f(pid, code), code
// 0, or MQTT 5's failure reason code of a PUBACK/PUBREC that refused a
// publish (without it such a refusal raises MQTTException(code)).
static mp_obj_t mqtt_client_set_ack_callback(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_f, ARG_reason };
    URS_CONST_TABLE mp_arg_t allowed_args[] = {
        { MP_QSTR_f, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_reason, MP_ARG_BOOL, {.u_bool = false} },
    };
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_obj_t f = args[ARG_f].u_obj;
    if (f != mp_const_none && !mp_obj_is_callable(f)) {
        mp_raise_TypeError(MP_ERROR_TEXT("callback must be callable"));
    }
    self->ack_cb = f;
    self->ack_reason = args[ARG_reason].u_bool;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_set_ack_callback_obj, 2, mqtt_client_set_ack_callback);

// wait_msg(): block until one packet has been handled (a message goes to the
// callback); keepalive pings go out meanwhile.
static mp_obj_t mqtt_client_wait_msg(mp_obj_t self_in) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->delivering && self->deferred != mp_const_none && mp_obj_get_int(mp_obj_len(self->deferred)) > 0) {
        // Called from a callback: a message already arrived (it is delivered
        // when the callback returns).
        return mp_const_none;
    }
    urs_run(self, WANT_ANY, 0, -1);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_wait_msg_obj, mqtt_client_wait_msg);

// check_msg(): handle everything that has arrived, never block.
static mp_obj_t mqtt_client_check_msg(mp_obj_t self_in) {
    urs_run(MP_OBJ_TO_PTR(self_in), WANT_NOTHING, 0, 0);
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
    uint64_t at, now = urs_now_ms(self);
    if (!umqtt_rs_poll_at(&self->core, &at)) {
        return mp_const_none;
    }
    return mp_obj_new_int_from_ull(at > now ? at - now : 0);
}
static MP_DEFINE_CONST_FUN_OBJ_1(mqtt_client_next_timeout_obj, mqtt_client_next_timeout);

#if MICROPY_ENABLE_DYNRUNTIME
// (BSS in a natmod must not be static: mpy_ld.py)
mp_obj_full_type_t mqtt_client_type_full;
#define mqtt_client_type (*(mp_obj_type_t *)&mqtt_client_type_full)
#else
static const mp_obj_type_t mqtt_client_type;
#endif

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
        if (urs_tx_pending(self) > 0) {
            // Bytes wait to be written: the transport taking them is work
            // for check_msg(), so a reader waiting for RD wakes up then.
            // A buffered packet may be waiting for that very room, so it
            // alone does not count (a poll loop would spin).
            ask |= MP_STREAM_POLL_WR;
        } else if (umqtt_rs_rx_ready(&self->core)) {
            ret |= MP_STREAM_POLL_RD;
        }
        if (umqtt_rs_poll_at(&self->core, &at) && at <= urs_now_ms(self)) {
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
    // (An if chain: in the natmod, qstrs are not constants.)
    if (attr == MP_QSTR_sock) {
        dest[0] = self->sock;
    } else if (attr == MP_QSTR_server) {
        dest[0] = self->server;
    } else if (attr == MP_QSTR_port) {
        dest[0] = mp_obj_new_int(self->port);
    } else if (attr == MP_QSTR_client_id) {
        dest[0] = self->client_id;
    } else if (attr == MP_QSTR_keepalive) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->keepalive);
    } else if (attr == MP_QSTR_cb) {
        dest[0] = self->cb;
    } else if (attr == MP_QSTR_session_present) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(self->session_present);
    } else if (attr == MP_QSTR_protocol) {
        dest[0] = MP_OBJ_NEW_SMALL_INT(URS_PROTOCOL(self));
    #if UMQTT_RS_MQTT5
    } else if (attr == MP_QSTR_connack) {
        dest[0] = self->connack;
    #endif
    } else {
        dest[1] = MP_OBJ_SENTINEL; // Continue lookup in locals_dict.
    }
}

// The methods, one list for both forms of the module.
#define URS_METHODS(X) \
    X(MP_QSTR_connect, mqtt_client_connect_obj) \
    X(MP_QSTR_disconnect, mqtt_client_disconnect_obj) \
    X(MP_QSTR_ping, mqtt_client_ping_obj) \
    X(MP_QSTR_publish, mqtt_client_publish_obj) \
    X(MP_QSTR_subscribe, mqtt_client_subscribe_obj) \
    X(MP_QSTR_unsubscribe, mqtt_client_unsubscribe_obj) \
    X(MP_QSTR_set_callback, mqtt_client_set_callback_obj) \
    X(MP_QSTR_set_last_will, mqtt_client_set_last_will_obj) \
    X(MP_QSTR_wait_msg, mqtt_client_wait_msg_obj) \
    X(MP_QSTR_check_msg, mqtt_client_check_msg_obj) \
    X(MP_QSTR_drain, mqtt_client_drain_obj) \
    X(MP_QSTR_inflight, mqtt_client_inflight_obj) \
    X(MP_QSTR_pending, mqtt_client_pending_obj) \
    X(MP_QSTR_flush, mqtt_client_flush_obj) \
    X(MP_QSTR_session_bytes, mqtt_client_session_bytes_obj) \
    X(MP_QSTR_session_data, mqtt_client_session_data_obj) \
    X(MP_QSTR_set_session_data, mqtt_client_set_session_data_obj) \
    X(MP_QSTR_suback, mqtt_client_suback_obj) \
    X(MP_QSTR_is_connected, mqtt_client_is_connected_obj) \
    X(MP_QSTR_set_ack_callback, mqtt_client_set_ack_callback_obj) \
    X(MP_QSTR_setblocking, mqtt_client_setblocking_obj) \
    X(MP_QSTR_next_timeout, mqtt_client_next_timeout_obj) \
    URS_METHODS5(X)
#if UMQTT_RS_MQTT5
#define URS_METHODS5(X) \
    X(MP_QSTR_set_auth_callback, mqtt_client_set_auth_callback_obj) \
    X(MP_QSTR_reauth, mqtt_client_reauth_obj) \
    X(MP_QSTR_request, mqtt_client_request_obj)
#else
#define URS_METHODS5(X)
#endif

#if UMQTT_RS_MQTT5
// The module's PROP_* constants: MQTT 5's property identifiers, the keys of
// property dicts.
#define URS_PROPS(X) \
    X(MP_QSTR_PROP_PAYLOAD_FORMAT_INDICATOR, 0x01) \
    X(MP_QSTR_PROP_MESSAGE_EXPIRY_INTERVAL, 0x02) \
    X(MP_QSTR_PROP_CONTENT_TYPE, 0x03) \
    X(MP_QSTR_PROP_RESPONSE_TOPIC, 0x08) \
    X(MP_QSTR_PROP_CORRELATION_DATA, 0x09) \
    X(MP_QSTR_PROP_SUBSCRIPTION_IDENTIFIER, 0x0b) \
    X(MP_QSTR_PROP_SESSION_EXPIRY_INTERVAL, 0x11) \
    X(MP_QSTR_PROP_ASSIGNED_CLIENT_IDENTIFIER, 0x12) \
    X(MP_QSTR_PROP_SERVER_KEEP_ALIVE, 0x13) \
    X(MP_QSTR_PROP_AUTHENTICATION_METHOD, 0x15) \
    X(MP_QSTR_PROP_AUTHENTICATION_DATA, 0x16) \
    X(MP_QSTR_PROP_REQUEST_PROBLEM_INFORMATION, 0x17) \
    X(MP_QSTR_PROP_WILL_DELAY_INTERVAL, 0x18) \
    X(MP_QSTR_PROP_REQUEST_RESPONSE_INFORMATION, 0x19) \
    X(MP_QSTR_PROP_RESPONSE_INFORMATION, 0x1a) \
    X(MP_QSTR_PROP_SERVER_REFERENCE, 0x1c) \
    X(MP_QSTR_PROP_REASON_STRING, 0x1f) \
    X(MP_QSTR_PROP_RECEIVE_MAXIMUM, 0x21) \
    X(MP_QSTR_PROP_TOPIC_ALIAS_MAXIMUM, 0x22) \
    X(MP_QSTR_PROP_TOPIC_ALIAS, 0x23) \
    X(MP_QSTR_PROP_MAXIMUM_QOS, 0x24) \
    X(MP_QSTR_PROP_RETAIN_AVAILABLE, 0x25) \
    X(MP_QSTR_PROP_USER_PROPERTY, 0x26) \
    X(MP_QSTR_PROP_MAXIMUM_PACKET_SIZE, 0x27) \
    X(MP_QSTR_PROP_WILDCARD_SUBSCRIPTION_AVAILABLE, 0x28) \
    X(MP_QSTR_PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE, 0x29) \
    X(MP_QSTR_PROP_SHARED_SUBSCRIPTION_AVAILABLE, 0x2a)
#else
#define URS_PROPS(X)
#endif

#if !MICROPY_ENABLE_DYNRUNTIME

#define URS_ROM_ENTRY(q, obj) { MP_ROM_QSTR(q), MP_ROM_PTR(&obj) },
static const mp_rom_map_elem_t mqtt_client_locals_dict_table[] = {
    URS_METHODS(URS_ROM_ENTRY)
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
    #define URS_PROP_ENTRY(q, id) { MP_ROM_QSTR(q), MP_ROM_INT(id) },
    URS_PROPS(URS_PROP_ENTRY)
};
static MP_DEFINE_CONST_DICT(umqtt_rs_module_globals, umqtt_rs_module_globals_table);

const mp_obj_module_t umqtt_rs_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&umqtt_rs_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR_umqtt_rs, umqtt_rs_user_cmodule);

#else // MICROPY_ENABLE_DYNRUNTIME

// The natmod: the type and its method table are in BSS, filled in at import.
#define URS_COUNT(q, obj) + 1
mp_map_elem_t mqtt_client_locals_dict_table[0 URS_METHODS(URS_COUNT)];
static MP_DEFINE_CONST_DICT(mqtt_client_locals_dict, mqtt_client_locals_dict_table);

mp_obj_t mpy_init(mp_obj_fun_bc_t *self, size_t n_args, size_t n_kw, mp_obj_t *args) {
    MP_DYNRUNTIME_INIT_ENTRY
    urs_natmod_init();
    mp_obj_exception_init(&urs_mqtt_exception_type, MP_QSTR_MQTTException, &mp_type_Exception);
    mqtt_client_type_full.base.type = mp_fun_table.type_type;
    mqtt_client_type_full.name = MP_QSTR_MQTTClient;
    MP_OBJ_TYPE_SET_SLOT(&mqtt_client_type_full, make_new, mqtt_client_make_new, 0);
    MP_OBJ_TYPE_SET_SLOT(&mqtt_client_type_full, attr, mqtt_client_attr, 1);
    MP_OBJ_TYPE_SET_SLOT(&mqtt_client_type_full, protocol, &mqtt_client_stream_p, 2);
    MP_OBJ_TYPE_SET_SLOT(&mqtt_client_type_full, locals_dict, (void *)&mqtt_client_locals_dict, 3);
    size_t i = 0;
    #define URS_SET_ENTRY(q, obj) mqtt_client_locals_dict_table[i++] = (mp_map_elem_t) { MP_OBJ_NEW_QSTR(q), MP_OBJ_FROM_PTR(&obj) };
    URS_METHODS(URS_SET_ENTRY)
    mp_store_global(MP_QSTR___name__, MP_OBJ_NEW_QSTR(MP_QSTR_umqtt_rs));
    mp_store_global(MP_QSTR_MQTTClient, MP_OBJ_FROM_PTR(&mqtt_client_type));
    mp_store_global(MP_QSTR_MQTTException, MP_OBJ_FROM_PTR(&mp_type_MQTTException));
    #define URS_STORE_PROP(q, id) mp_store_global(q, MP_OBJ_NEW_SMALL_INT(id));
    URS_PROPS(URS_STORE_PROP)
    MP_DYNRUNTIME_INIT_EXIT
}

#endif // MICROPY_ENABLE_DYNRUNTIME
