// urs_auth.c: MQTT 5 enhanced authentication in the glue (compiled with
// UMQTT_RS_MQTT5): the broker's AUTH challenges to the Python callback of
// set_auth_callback(), its answers back as AUTH, and reauth().  The core
// keeps whose turn it is (src/session/auth.rs); the method is the one
// connect(props={PROP_AUTHENTICATION_METHOD: ...}) sent, the data is the
// application's.

#include "umqtt_rs_glue.h"

#if UMQTT_RS_MQTT5

#define PROP_AUTHENTICATION_METHOD (0x15)
#define PROP_AUTHENTICATION_DATA (0x16)
#define REASON_SUCCESS (0x00)
#define REASON_CONTINUE (0x18)
#define REASON_REAUTHENTICATE (0x19)

// Queue and write an AUTH with `reason`, the CONNECT's method and `data`
// (None: no data).
static void send_auth(mqtt_client_obj_t *self, uint8_t reason, mp_obj_t data) {
    mp_obj_t method = MP_OBJ_NULL;
    if (self->connect_props != mp_const_none) {
        method = urs_dict_get(self->connect_props, MP_OBJ_NEW_SMALL_INT(PROP_AUTHENTICATION_METHOD));
    }
    if (method == MP_OBJ_NULL) {
        mp_raise_ValueError(MP_ERROR_TEXT("AUTH needs connect(props={PROP_AUTHENTICATION_METHOD: ...})"));
    }
    umqtt_rs_status_t st;
    for (;;) {
        // Taken again each turn: making room may run Python.
        umqtt_rs_prop_t items[2] = {
            { .id = PROP_AUTHENTICATION_METHOD, .kind = UMQTT_RS_PROP_STR, .a = urs_buf_of(method) },
        };
        size_t n = 1;
        if (data != mp_const_none) {
            items[n++] = (umqtt_rs_prop_t) { .id = PROP_AUTHENTICATION_DATA, .kind = UMQTT_RS_PROP_BIN, .a = urs_buf_of(data) };
        }
        umqtt_rs_props_t props = { items, n };
        st = umqtt_rs_auth(&self->core, urs_now_ms(self), reason, props);
        if (st != UMQTT_RS_ERR_TX_FULL) {
            break;
        }
        urs_need_tx_room(self, umqtt_rs_error_detail(&self->core));
    }
    if (st != UMQTT_RS_OK) {
        urs_raise_status(self, st);
    }
    urs_flush(self);
}

// An AUTH from the broker (the core checked it may come now): a challenge
// goes to the callback, whose answer goes back; Success ends reauth().  A
// challenge nobody answers, or a callback that raises, ends the connection
// (the broker would wait for an answer that never comes).
void urs_on_auth(mqtt_client_obj_t *self, uint8_t reason, mp_obj_t props) {
    mp_obj_t code = MP_OBJ_NEW_SMALL_INT(reason);
    if (reason == REASON_SUCCESS) {
        self->reauthing = false;
        if (self->auth_cb != mp_const_none) {
            mp_call_function_2(self->auth_cb, code, props);
        }
        return;
    }
    if (self->auth_cb == mp_const_none) {
        urs_close_transport(self);
        mp_raise_msg(&mp_type_MQTTException, MP_ERROR_TEXT("the broker sent an AUTH challenge: set_auth_callback() answers it"));
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t data = mp_call_function_2(self->auth_cb, code, props);
        send_auth(self, REASON_CONTINUE, data);
        nlr_pop();
    } else {
        urs_close_transport(self);
        nlr_jump(nlr.ret_val);
    }
}

// set_auth_callback(f): f(reason, props) for each AUTH from the broker:
// reason 0x18 (Continue Authentication) with the challenge in props
// (PROP_AUTHENTICATION_DATA); f returns the data of the answer (bytes, str
// or None).  reason 0 (Success): a re-authentication is over.
static mp_obj_t mqtt_client_set_auth_callback(mp_obj_t self_in, mp_obj_t f) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(self_in);
    self->auth_cb = f;
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_2(mqtt_client_set_auth_callback_obj, mqtt_client_set_auth_callback);

// reauth(data=None): AUTH Re-authenticate with the CONNECT's method and
// `data`; the broker's challenges go to the auth callback.  Blocking mode
// returns at the broker's Success (a broker that refuses closes the
// connection: MQTTException with its reason); non-blocking mode at once.
static mp_obj_t mqtt_client_reauth(size_t n_args, const mp_obj_t *args) {
    mqtt_client_obj_t *self = MP_OBJ_TO_PTR(args[0]);
    if (self->sock == mp_const_none) {
        mp_raise_OSError(MP_ENOTCONN);
    }
    send_auth(self, REASON_REAUTHENTICATE, n_args > 1 ? args[1] : mp_const_none);
    self->reauthing = true;
    while (self->reauthing && !self->nonblocking) {
        if (self->sock == mp_const_none) {
            mp_raise_OSError(MP_ENOTCONN);
        }
        urs_run(self, WANT_ANY, 0, -1);
    }
    return mp_const_none;
}
MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mqtt_client_reauth_obj, 1, 2, mqtt_client_reauth);

#endif // UMQTT_RS_MQTT5
