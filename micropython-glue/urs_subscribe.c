// urs_subscribe.c: MQTTClient.subscribe(), unsubscribe() and suback(): one
// or several filters per packet, per-filter callbacks, MQTT 5's
// subscription options, waiting for the SUBACK/UNSUBACK (blocking mode) or
// filing its codes for suback() (non-blocking mode).

#include "umqtt_rs_glue.h"

// Shared by subscribe and unsubscribe.  `topic` is one filter (str/bytes),
// or a list/tuple of filters (subscribe: of (filter, qos) pairs) sent in one
// packet.  With `cb`, subscribe routes the filters' messages to it;
// unsubscribe drops their callbacks.  Waits for the ack (blocking mode).
// `options`: MQTT 5's subscription options for every filter (a
// umqtt_rs_topic_t with only those set); `props` the SUBSCRIBE's
// properties (MQTT 5, a dict or None).
static mp_obj_t topic_request(mqtt_client_obj_t *self, mp_obj_t topic, mp_int_t qos, mp_obj_t cb, bool sub, umqtt_rs_topic_t options, mp_obj_t props) {
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
            entries[i] = options;
            entries[i].filter = urs_buf_of(filter);
            entries[i].qos = urs_qos_of(q);
        }
    } else {
        entries[0] = options;
        entries[0].filter = urs_buf_of(topic);
        entries[0].qos = urs_qos_of(qos);
    }
    if (cb != mp_const_none && !mp_obj_is_callable(cb)) {
        mp_raise_TypeError(MP_ERROR_TEXT("callback must be callable"));
    }
    uint16_t pid = 0;
    umqtt_rs_status_t st;
    #if UMQTT_RS_MQTT5
    bool v5 = sub && self->protocol == 5;
    mp_int_t sub_id = v5 ? urs_sub_id_for(self, props) : 0;
    #else
    (void)props;
    #endif
    for (;;) {
        #if UMQTT_RS_MQTT5
        if (v5) {
            st = urs_subscribe5(self, entries, count, props, sub_id, &pid);
        } else
        #endif
        st = sub
            ? umqtt_rs_subscribe(&self->core, urs_now_ms(self), entries, count, &pid)
            : umqtt_rs_unsubscribe(&self->core, urs_now_ms(self), entries, count, &pid);
        if (st != UMQTT_RS_ERR_TX_FULL) {
            break;
        }
        urs_need_tx_room(self, umqtt_rs_error_detail(&self->core));
    }
    if (st != UMQTT_RS_OK) {
        urs_raise_status(self, st);
    }
    mp_obj_t ret = mp_const_none;
    if (self->nonblocking) {
        urs_flush(self);
        ret = MP_OBJ_NEW_SMALL_INT(pid);
    } else {
        // Until the ack is in (note_event files it, whichever call of urs_run()
        // handled it: a callback may have called into the client).
        mp_obj_t key = MP_OBJ_NEW_SMALL_INT(pid);
        mp_obj_t done;
        while ((done = urs_dict_take(self->subacks, key)) == MP_OBJ_NULL) {
            if (self->sock == mp_const_none) {
                mp_raise_OSError(MP_ENOTCONN);
            }
            urs_run(self, WANT_ANY, 0, -1);
        }
        // MQTTException(code) when the broker refused a filter (0x80; in
        // MQTT 5 any reason code from 0x80, in a SUBACK or an UNSUBACK).
        if (done != mp_const_none) {
            size_t len;
            const uint8_t *codes = (const uint8_t *)mp_obj_str_get_data(done, &len);
            for (size_t i = 0; i < len; ++i) {
                if (codes[i] >= 0x80) {
                    mp_raise_type_arg(&mp_type_MQTTException, MP_OBJ_NEW_SMALL_INT(codes[i]));
                }
            }
        }
    }
    for (size_t i = 0; i < count; ++i) {
        mp_obj_t key = mp_obj_new_bytes(entries[i].filter.ptr, entries[i].filter.len);
        if (sub && cb != mp_const_none) {
            mp_obj_dict_store(self->filters, key, cb);
        } else if (!sub) {
            urs_dict_take(self->filters, key);
        }
    }
    #if UMQTT_RS_MQTT5
    urs_note_sub_ids(self, entries, count, v5 ? sub_id : 0);
    #endif
    return ret;
}

// subscribe(topic, qos=0, cb=None, *, no_local=False,
// retain_as_published=False, retain_handling=0, props=None): MQTT 5's
// subscription options, for every filter of the call, and the SUBSCRIBE's
// properties (User Property, Subscription Identifier).
static mp_obj_t mqtt_client_subscribe(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_qos, ARG_cb, ARG_no_local, ARG_retain_as_published, ARG_retain_handling, ARG_props };
    URS_CONST_TABLE mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_qos, MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_cb, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_no_local, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_retain_as_published, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
        { MP_QSTR_retain_handling, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_props, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_int_t rh = args[ARG_retain_handling].u_int;
    if (rh < 0 || rh > 2) {
        mp_raise_ValueError(MP_ERROR_TEXT("retain_handling must be 0, 1 or 2"));
    }
    umqtt_rs_topic_t options = {
        .no_local = args[ARG_no_local].u_bool,
        .retain_as_published = args[ARG_retain_as_published].u_bool,
        .retain_handling = (uint8_t)rh,
    };
    mp_obj_t props = args[ARG_props].u_obj;
    if ((options.no_local || options.retain_as_published || rh != 0 || props != mp_const_none) && URS_PROTOCOL(self) != 5) {
        mp_raise_ValueError(MP_ERROR_TEXT("needs protocol=5"));
    }
    return topic_request(self, args[ARG_topic].u_obj, args[ARG_qos].u_int, args[ARG_cb].u_obj, true, options, props);
}
MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_subscribe_obj, 2, mqtt_client_subscribe);

static mp_obj_t mqtt_client_unsubscribe(mp_obj_t self_in, mp_obj_t topic) {
    return topic_request(MP_OBJ_TO_PTR(self_in), topic, 0, mp_const_none, false, (umqtt_rs_topic_t) {0}, mp_const_none);
}
MP_DEFINE_CONST_FUN_OBJ_2(mqtt_client_unsubscribe_obj, mqtt_client_unsubscribe);

// suback(pid): in non-blocking mode, the SUBACK return codes (bytes: the
// granted QoS per filter, 0x80 when refused) of subscribe request `pid` once
// it arrived (the ack callback says when), else None; for an unsubscribe
// request, MQTT 5's UNSUBACK reason codes (0x00, 0x11 No subscription
// existed, a failure from 0x80; None in 3.1.1).  Each is given once.
static mp_obj_t mqtt_client_suback(mp_obj_t self_in, mp_obj_t pid) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_obj_t codes = urs_dict_take(self->subacks, pid);
    return codes == MP_OBJ_NULL ? mp_const_none : codes;
}
MP_DEFINE_CONST_FUN_OBJ_2(mqtt_client_suback_obj, mqtt_client_suback);
