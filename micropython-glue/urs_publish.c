// urs_publish.c: MQTTClient.publish() — a payload from memory or streamed
// from a source (length=n), waiting for room in the window of messages in
// flight and, with wait, for the acknowledgement.

#include "umqtt_rs_glue.h"

// publish(topic, msg, retain=False, qos=0, *, wait=True): with wait, QoS 1
// returns after PUBACK and QoS 2 after PUBCOMP (umqtt.simple), delivering
// messages that arrive meanwhile.  wait=False returns the packet id at once
// (pipelining); the ack callback or drain() tells when it is acknowledged.
// When the window of messages in flight is full, publish waits for an ack.
// props: MQTT 5 PUBLISH properties (a dict, urs_v5.c); a broker's PUBACK or
// PUBREC refusing the message raises MQTTException(reason code) from a
// publish that waits.
static mp_obj_t mqtt_client_publish(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_msg, ARG_retain, ARG_qos, ARG_wait, ARG_length, ARG_props };
    URS_CONST_TABLE mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_msg, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_retain, MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_wait, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = true} },
        { MP_QSTR_length, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_props, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
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
        args[ARG_props].u_obj = mp_const_none;
    } else {
        mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    }
    mp_obj_t msg_obj = args[ARG_msg].u_obj;
    uint8_t qos = urs_qos_of(args[ARG_qos].u_int);
    mp_obj_t start = MP_OBJ_NULL; // a streamed payload's start, when seekable
    mp_obj_t src = msg_obj; // what a streamed payload is read from
    // length=n: msg is a stream the payload is read from as it goes out.
    bool streamed = args[ARG_length].u_obj != mp_const_none;
    mp_obj_t props = args[ARG_props].u_obj;
    if (props != mp_const_none && URS_PROTOCOL(self) != 5) {
        mp_raise_ValueError(MP_ERROR_TEXT("needs protocol=5"));
    }
    mp_int_t length = 0;
    if (streamed) {
        length = mp_obj_get_int(args[ARG_length].u_obj);
        if (length < 0) {
            mp_raise_ValueError(MP_ERROR_TEXT("length must be 0 or more"));
        }
        src = urs_stream_part(msg_obj, MP_STREAM_OP_READ);
        if (qos > 0) {
            // A seekable source can give the payload again for a resend.
            nlr_buf_t nlr;
            if (nlr_push(&nlr) == 0) {
                mp_obj_t dest[4];
                mp_load_method(msg_obj, MP_QSTR_seek, dest);
                dest[2] = MP_OBJ_NEW_SMALL_INT(0);
                dest[3] = MP_OBJ_NEW_SMALL_INT(1); // where it is now
                start = mp_call_method_n_kw(2, 0, dest);
                nlr_pop();
            } else {
                start = MP_OBJ_NULL;
            }
        }
        if (self->piece == NULL) {
            // Taken before anything is queued: a MemoryError now sends nothing.
            self->piece = m_new(uint8_t, self->tx_cap);
            self->piece_cap = self->tx_cap;
        }
    }

    uint16_t pid = 0;
    bool separate = false;
    umqtt_rs_status_t st;
    #if UMQTT_RS_MQTT5
    if (self->protocol == 5) {
        urs_lend_out_aliases(self);
    }
    #endif
    for (;;) {
        // Taken again each turn: urs_run() below runs Python, which may resize
        // a bytearray payload.
        umqtt_rs_bytes_t topic = urs_buf_of(args[ARG_topic].u_obj);
        #if UMQTT_RS_MQTT5
        // Entries borrow the dict's buffers: built again each turn.
        umqtt_rs_prop_t items[UMQTT_RS_MAX_PROPS];
        umqtt_rs_props_t list = { items, self->protocol == 5 ? urs_props_from(props, items, NULL) : 0 };
        #endif
        if (streamed) {
            #if UMQTT_RS_MQTT5
            if (self->protocol == 5) {
                st = umqtt_rs_publish_stream5(&self->core, urs_now_ms(self), topic, (size_t)length, qos,
                    args[ARG_retain].u_bool, start != MP_OBJ_NULL, list, &pid);
            } else
            #endif
            st = umqtt_rs_publish_stream(&self->core, urs_now_ms(self), topic, (size_t)length, qos,
                args[ARG_retain].u_bool, start != MP_OBJ_NULL, &pid);
            separate = true;
        } else {
            umqtt_rs_bytes_t msg = urs_buf_of(msg_obj);
            #if UMQTT_RS_MQTT5
            if (self->protocol == 5) {
                st = umqtt_rs_publish5(&self->core, urs_now_ms(self), topic, msg, qos, args[ARG_retain].u_bool, list, &pid, &separate);
            } else
            #endif
            st = umqtt_rs_publish(&self->core, urs_now_ms(self), topic, msg, qos, args[ARG_retain].u_bool, &pid, &separate);
        }
        size_t need = umqtt_rs_error_detail(&self->core);
        if (st == UMQTT_RS_ERR_TX_FULL) {
            urs_need_tx_room(self, need);
        } else if (st == UMQTT_RS_ERR_STORE_FULL && need > self->store_cap) {
            urs_grow_store(self, need);
        } else if ((st == UMQTT_RS_ERR_STORE_FULL || st == UMQTT_RS_ERR_INFLIGHT_FULL) && !self->nonblocking) {
            // The window is full: wait for an acknowledgement (any event:
            // a callback's nested call may take the one that frees it).
            urs_run(self, WANT_ANY, 0, -1);
        } else {
            break;
        }
    }
    if (st != UMQTT_RS_OK) {
        urs_raise_status(self, st);
    }
    if (start != MP_OBJ_NULL) {
        // Kept (with where its payload starts) until acknowledged, for a
        // resend after a reconnect.
        if (self->streams == mp_const_none) {
            self->streams = mp_obj_new_dict(0);
        }
        mp_obj_t entry[2] = { msg_obj, start };
        mp_obj_dict_store(self->streams, MP_OBJ_NEW_SMALL_INT(pid), mp_obj_new_tuple(2, entry));
    }
    if (separate) {
        // A payload larger than the tx buffer goes out from the caller's
        // object (or stream), after the bytes queued before it (flush); in
        // non-blocking mode what the transport does not take now goes with
        // later calls.
        self->tx_tail = src;
        self->tail_stream = streamed;
        self->piece_pos = self->piece_fill = 0;
    }
    // coalesce=True: a publish that does not wait leaves its packet queued;
    // it goes with the next write (the buffer full: the TX_FULL turn above;
    // any call that waits or reads; flush(); disconnect()), several packets
    // in one write.  A tail is written at once (it is the caller's object).
    bool waits = args[ARG_wait].u_bool && !self->nonblocking && qos > 0;
    if (!self->coalesce || waits || separate) {
        urs_flush(self);
    }
    if (!args[ARG_wait].u_bool || self->nonblocking) {
        return MP_OBJ_NEW_SMALL_INT(pid);
    }
    #if UMQTT_RS_MQTT5
    // A refusal of this message is filed for this call (urs_publish_failed).
    mp_obj_t key = MP_OBJ_NEW_SMALL_INT(pid);
    if (qos > 0 && self->protocol == 5) {
        if (self->refused == mp_const_none) {
            self->refused = mp_obj_new_dict(0);
        }
        mp_obj_dict_store(self->refused, key, mp_const_none);
    }
    #endif
    // Until acknowledged: its state, not its event, is checked, since a
    // callback that calls into the client may handle the event.
    while (qos > 0 && umqtt_rs_is_inflight(&self->core, pid)) {
        if (self->sock == mp_const_none) {
            mp_raise_OSError(MP_ENOTCONN);
        }
        urs_run(self, WANT_ANY, 0, -1);
    }
    #if UMQTT_RS_MQTT5
    mp_obj_t code = qos > 0 && self->refused != mp_const_none ? urs_dict_take(self->refused, key) : MP_OBJ_NULL;
    if (code != MP_OBJ_NULL && code != mp_const_none) {
        mp_raise_type_arg(&mp_type_MQTTException, code);
    }
    #endif
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_publish_obj, 3, mqtt_client_publish);
