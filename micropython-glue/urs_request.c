// urs_request.c: MQTTClient.request() (MQTT 5 request/response): publish a
// request carrying a Response Topic and Correlation Data, and wait for the
// answer, which a responder publishes to that topic with the same
// Correlation Data (MQTT 5, section 4.10).
//
// The response topic is the client's own, subscribed at the first request
// of a connection without a session: the CONNACK's Response Information
// (when the broker gave one, as the specification suggests) or
// "umqtt_rs/response", then "/" and the client id.  A message on it is
// taken out of the normal delivery (urs_take_response, called for each
// message before any callback): the answer to the waiting request ends
// the wait, any other (an answer that came after its request gave up) is
// acknowledged and dropped.

#include "umqtt_rs_glue.h"

#if UMQTT_RS_MQTT5

#define PROP_RESPONSE_TOPIC (0x08)
#define PROP_CORRELATION_DATA (0x09)
#define PROP_ASSIGNED_CLIENT_IDENTIFIER (0x12)
#define PROP_RESPONSE_INFORMATION (0x1a)

// Whether byte strings a and b are equal.
static bool same(umqtt_rs_bytes_t a, umqtt_rs_bytes_t b) {
    return a.len == b.len && (a.len == 0 || memcmp(a.ptr, b.ptr, a.len) == 0);
}

// A message on the response topic: kept as the answer when its
// Correlation Data is the waiting request's, else dropped; acknowledged in
// both cases.  False for any other message (delivered as usual).
bool urs_take_response(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev) {
    if (self->resp_topic == mp_const_none || !same(urs_buf_of(self->resp_topic), (umqtt_rs_bytes_t) {ev->topic, ev->topic_len})) {
        return false;
    }
    umqtt_rs_prop_t p;
    size_t at = 0;
    while (umqtt_rs_prop_next(ev->props, &at, &p)) {
        if (p.id == PROP_CORRELATION_DATA && self->request_corr != mp_const_none
            && same(p.a, urs_buf_of(self->request_corr))) {
            self->response = urs_new_bytes(ev->payload, ev->payload_len);
            self->request_corr = mp_const_none;
        }
    }
    if (ev->qos > 0) {
        umqtt_rs_status_t st = umqtt_rs_ack(&self->core, urs_now_ms(self), ev->pid);
        if (st != UMQTT_RS_OK) {
            urs_raise_status(self, st);
        }
        urs_persist(self);
    }
    return true;
}

// The response topic, subscribed (QoS 1) unless the session has it.
static void subscribe_response_topic(mqtt_client_obj_t *self, mp_obj_t self_in) {
    if (self->resp_subscribed) {
        return;
    }
    mp_obj_t base = MP_OBJ_NULL, id = self->client_id;
    if (self->connack != mp_const_none) {
        base = urs_dict_get(self->connack, MP_OBJ_NEW_SMALL_INT(PROP_RESPONSE_INFORMATION));
        mp_obj_t assigned = urs_dict_get(self->connack, MP_OBJ_NEW_SMALL_INT(PROP_ASSIGNED_CLIENT_IDENTIFIER));
        if (assigned != MP_OBJ_NULL) {
            id = assigned;
        }
    }
    umqtt_rs_bytes_t b = base != MP_OBJ_NULL ? urs_buf_of(base) : (umqtt_rs_bytes_t) {(const uint8_t *)"umqtt_rs/response/", 18};
    umqtt_rs_bytes_t c = urs_buf_of(id);
    mp_obj_t topic = mp_obj_new_bytes(b.ptr, b.len);
    if (base != MP_OBJ_NULL) {
        topic = mp_binary_op(MP_BINARY_OP_ADD, topic, mp_obj_new_bytes((const uint8_t *)"/", 1));
    }
    self->resp_topic = mp_binary_op(MP_BINARY_OP_ADD, topic, mp_obj_new_bytes(c.ptr, c.len));
    mp_obj_t call[4];
    mp_load_method(self_in, MP_QSTR_subscribe, call);
    call[2] = self->resp_topic;
    call[3] = MP_OBJ_NEW_SMALL_INT(1);
    mp_call_method_n_kw(2, 0, call);
    self->resp_subscribed = true;
}

// Publish the request and wait for its answer (the caller restores the
// client's mode and forgets the request, whatever happens).
static mp_obj_t ask(mqtt_client_obj_t *self, mp_obj_t self_in, const mp_obj_t *a, mp_int_t qos, mp_int_t timeout_ms) {
    subscribe_response_topic(self, self_in);
    // Correlation Data: the clock and a count, so that a late answer to an
    // earlier request (of this process or an earlier one) is not taken.
    uint64_t now = urs_now_ms(self);
    uint8_t corr[8];
    for (int i = 0; i < 4; ++i) {
        corr[i] = (uint8_t)(now >> (8 * i));
        corr[4 + i] = (uint8_t)(self->requests >> (8 * i));
    }
    ++self->requests;
    self->request_corr = mp_obj_new_bytes(corr, sizeof(corr));
    self->response = MP_OBJ_NULL;
    // The application's properties and the two of the request.
    mp_obj_t props = mp_obj_new_dict(0);
    if (a[4] != mp_const_none) {
        mp_map_t *map = mp_obj_dict_get_map(a[4]);
        for (size_t i = 0; i < map->alloc; ++i) {
            if (mp_map_slot_is_filled(map, i)) {
                mp_obj_dict_store(props, map->table[i].key, map->table[i].value);
            }
        }
    }
    mp_obj_dict_store(props, MP_OBJ_NEW_SMALL_INT(PROP_RESPONSE_TOPIC), self->resp_topic);
    mp_obj_dict_store(props, MP_OBJ_NEW_SMALL_INT(PROP_CORRELATION_DATA), self->request_corr);
    mp_obj_t call[8];
    mp_load_method(self_in, MP_QSTR_publish, call);
    call[2] = a[0];
    call[3] = a[1];
    call[4] = mp_const_false;
    call[5] = MP_OBJ_NEW_SMALL_INT(qos);
    call[6] = MP_OBJ_NEW_QSTR(MP_QSTR_props);
    call[7] = props;
    mp_call_method_n_kw(4, 1, call);
    while (self->response == MP_OBJ_NULL) {
        if (self->sock == mp_const_none) {
            mp_raise_OSError(MP_ENOTCONN);
        }
        mp_int_t left = -1;
        if (timeout_ms >= 0) {
            left = timeout_ms - (mp_int_t)(urs_now_ms(self) - now);
            if (left <= 0) {
                mp_raise_OSError(MP_ETIMEDOUT);
            }
        }
        urs_run(self, WANT_ANY, 0, left);
    }
    return self->response;
}

// request(topic, msg, timeout=5, *, qos=1, props=None): the answer's
// payload (bytes); OSError(ETIMEDOUT) when none came within timeout
// seconds (None: no limit).  Always waits, also in non-blocking mode.
static mp_obj_t mqtt_client_request(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_topic, ARG_msg, ARG_timeout, ARG_qos, ARG_props };
    URS_CONST_TABLE mp_arg_t allowed_args[] = {
        { MP_QSTR_topic, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_msg, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_timeout, MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_qos, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 1} },
        { MP_QSTR_props, MP_ARG_KW_ONLY | MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
    };
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(pos_args[0]);
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args - 1, pos_args + 1, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    if (self->protocol != 5) {
        mp_raise_ValueError(MP_ERROR_TEXT("needs protocol=5"));
    }
    if (args[ARG_props].u_obj != mp_const_none && !mp_obj_is_type(args[ARG_props].u_obj, &mp_type_dict)) {
        mp_raise_TypeError(MP_ERROR_TEXT("props must be a dict"));
    }
    if (self->sock == mp_const_none) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    mp_obj_t timeout = args[ARG_timeout].u_obj;
    mp_int_t timeout_ms = timeout == MP_OBJ_NULL ? 5000 : timeout == mp_const_none ? -1 : urs_seconds_to_ms(timeout);
    mp_obj_t a[5] = { args[ARG_topic].u_obj, args[ARG_msg].u_obj, mp_const_none, mp_const_none, args[ARG_props].u_obj };
    bool nonblocking = self->nonblocking;
    self->nonblocking = false;
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t answer = ask(self, pos_args[0], a, args[ARG_qos].u_int, timeout_ms);
        nlr_pop();
        self->nonblocking = nonblocking;
        self->response = MP_OBJ_NULL;
        return answer;
    }
    self->nonblocking = nonblocking;
    self->request_corr = mp_const_none;
    self->response = MP_OBJ_NULL;
    nlr_jump(nlr.ret_val);
}
MP_DEFINE_CONST_FUN_OBJ_KW(mqtt_client_request_obj, 3, mqtt_client_request);

#endif // UMQTT_RS_MQTT5
