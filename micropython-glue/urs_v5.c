// urs_v5.c: MQTT 5 in the glue (compiled with UMQTT_RS_MQTT5, the core
// built with MQTT5=1): properties between Python dicts and the core's
// umqtt_rs_prop_t entries, the CONNECT's options, the incoming topic alias
// map, the broker's reasons as exceptions, the PROP_* constants.
//
// A property dict is keyed by the property identifier (the module's
// PROP_* constants are those integers): an int for integer properties, str
// or bytes for strings and binary data, and for PROP_USER_PROPERTY a list
// of (name, value) pairs.  Received properties come the same way; a
// property that may repeat (User Property, Subscription Identifier) is
// always a list.  Entries borrow the Python objects' buffers: they are
// built again after anything that can run Python.

#include "umqtt_rs_glue.h"

#if UMQTT_RS_MQTT5

// Identifiers the glue itself handles (MQTT 5, section 2.2.2.2).
#define PROP_SUBSCRIPTION_IDENTIFIER (0x0b)
#define PROP_SESSION_EXPIRY_INTERVAL (0x11)
#define PROP_REQUEST_PROBLEM_INFORMATION (0x17)
#define PROP_REASON_STRING (0x1f)
#define PROP_RECEIVE_MAXIMUM (0x21)
#define PROP_TOPIC_ALIAS_MAXIMUM (0x22)
#define PROP_USER_PROPERTY (0x26)
#define PROP_MAXIMUM_PACKET_SIZE (0x27)

// The largest Subscription Identifier (a variable byte integer).
#define MAX_SUB_ID (268435455u)

// The alias map's first size: 2 bytes of header, then 4 + topic per alias.
#define ALIAS_MAP_SIZE (128)

static uint32_t prop_int(mp_obj_t v) {
    #if MICROPY_ENABLE_DYNRUNTIME
    mp_int_t i = mp_obj_get_int(v);
    if (i < 0 || (uint64_t)i > 0xffffffffu) {
        mp_raise_ValueError(MP_ERROR_TEXT("property value out of range"));
    }
    return (uint32_t)i;
    #else
    mp_uint_t u = mp_obj_int_get_uint_checked(v);
    if ((uint64_t)u > 0xffffffffu) {
        mp_raise_ValueError(MP_ERROR_TEXT("property value out of range"));
    }
    return (uint32_t)u;
    #endif
}

static void add(umqtt_rs_prop_t *items, size_t *n, umqtt_rs_prop_t p) {
    if (*n >= UMQTT_RS_MAX_PROPS) {
        mp_raise_ValueError(MP_ERROR_TEXT("at most 16 properties"));
    }
    items[(*n)++] = p;
}

// The entries of property dict `props` (None: none) in `items`
// (UMQTT_RS_MAX_PROPS of them); returns how many.  With `connect`, the
// CONNECT properties the core writes itself go into its fields instead.
size_t urs_props_from(mp_obj_t props, umqtt_rs_prop_t *items, umqtt_rs_connect5_opts_t *connect) {
    if (props == mp_const_none) {
        return 0;
    }
    if (!mp_obj_is_type(props, &mp_type_dict)) {
        mp_raise_TypeError(MP_ERROR_TEXT("props must be a dict"));
    }
    size_t n = 0;
    mp_map_t *map = mp_obj_dict_get_map(props);
    for (size_t i = 0; i < map->alloc; ++i) {
        if (!mp_map_slot_is_filled(map, i)) {
            continue;
        }
        mp_int_t id = mp_obj_get_int(map->table[i].key);
        mp_obj_t v = map->table[i].value;
        if (id <= 0 || id > 0xff) {
            mp_raise_ValueError(MP_ERROR_TEXT("property keys are PROP_* identifiers"));
        }
        umqtt_rs_prop_t p = { .id = (uint8_t)id };
        if (connect != NULL) {
            if (id == PROP_SESSION_EXPIRY_INTERVAL) {
                connect->session_expiry = prop_int(v);
                continue;
            } else if (id == PROP_RECEIVE_MAXIMUM || id == PROP_TOPIC_ALIAS_MAXIMUM) {
                uint32_t m = prop_int(v);
                if (m > 0xffff) {
                    mp_raise_ValueError(MP_ERROR_TEXT("property value out of range"));
                }
                *(id == PROP_RECEIVE_MAXIMUM ? &connect->receive_maximum : &connect->topic_alias_maximum) = (uint16_t)m;
                continue;
            } else if (id == PROP_REQUEST_PROBLEM_INFORMATION) {
                connect->request_problem_information = mp_obj_is_true(v);
                continue;
            } else if (id == PROP_MAXIMUM_PACKET_SIZE) {
                mp_raise_ValueError(MP_ERROR_TEXT("set the maximum packet size with max_packet_size="));
            }
        }
        mp_buffer_info_t buf;
        if (id == PROP_USER_PROPERTY) {
            // A list of (name, value) pairs.
            size_t len;
            mp_obj_t *pairs;
            mp_obj_get_array(v, &len, &pairs);
            for (size_t j = 0; j < len; ++j) {
                size_t two;
                mp_obj_t *kv;
                mp_obj_get_array(pairs[j], &two, &kv);
                if (two != 2) {
                    mp_raise_ValueError(MP_ERROR_TEXT("user properties are (name, value) pairs"));
                }
                p.kind = UMQTT_RS_PROP_PAIR;
                p.a = urs_buf_of(kv[0]);
                p.b = urs_buf_of(kv[1]);
                add(items, &n, p);
            }
        } else if (mp_get_buffer(v, &buf, MP_BUFFER_READ)) {
            p.kind = UMQTT_RS_PROP_BIN;
            p.a = (umqtt_rs_bytes_t) {(const uint8_t *)buf.buf, buf.len};
            add(items, &n, p);
        } else {
            p.kind = UMQTT_RS_PROP_INT;
            p.value = prop_int(v);
            add(items, &n, p);
        }
    }
    return n;
}

static mp_obj_t prop_value(const umqtt_rs_prop_t *p) {
    switch (p->kind) {
        case UMQTT_RS_PROP_INT:
            return mp_obj_new_int_from_uint(p->value);
        case UMQTT_RS_PROP_STR:
            return mp_obj_new_str((const char *)p->a.ptr, p->a.len);
        case UMQTT_RS_PROP_PAIR: {
            mp_obj_t kv[2] = {
                mp_obj_new_str((const char *)p->a.ptr, p->a.len),
                mp_obj_new_str((const char *)p->b.ptr, p->b.len),
            };
            return mp_obj_new_tuple(2, kv);
        }
        default:
            return mp_obj_new_bytes(p->a.ptr, p->a.len);
    }
}

// One received property into dict d (a repeatable one into a list).
static void add_to_dict(mp_obj_t d, const umqtt_rs_prop_t *p) {
    mp_obj_t key = MP_OBJ_NEW_SMALL_INT(p->id), v = prop_value(p);
    if (p->many) {
        mp_obj_t list = urs_dict_get(d, key);
        if (list == MP_OBJ_NULL) {
            list = mp_obj_new_list(0, NULL);
            mp_obj_dict_store(d, key, list);
        }
        mp_obj_list_append(list, v);
    } else {
        mp_obj_dict_store(d, key, v);
    }
}

// A received property section as a dict, or None when it is empty (a
// message without properties costs nothing).
mp_obj_t urs_props_dict(umqtt_rs_bytes_t props) {
    if (props.len == 0) {
        return mp_const_none;
    }
    mp_obj_t d = mp_obj_new_dict(0);
    umqtt_rs_prop_t p;
    size_t at = 0;
    while (umqtt_rs_prop_next(props, &at, &p)) {
        add_to_dict(d, &p);
    }
    return d;
}

// Queue CONNECT in the client's protocol version: connect(props=...) and
// set_last_will(props=...) for MQTT 5.
umqtt_rs_status_t urs_connect(mqtt_client_obj_t *self, const umqtt_rs_connect_opts_t *opts) {
    if (self->protocol != 5) {
        // (connect and set_last_will refuse props in MQTT 3.1.1.)
        return umqtt_rs_connect(&self->core, urs_now_ms(self), opts);
    }
    umqtt_rs_prop_t props[UMQTT_RS_MAX_PROPS], will[UMQTT_RS_MAX_PROPS];
    // clean_session keeps its 3.1.1 meaning unless props say otherwise:
    // False, a session the broker keeps after the connection (Session
    // Expiry Interval 0xFFFFFFFF, never expires); True, one that ends with
    // it (0).  Without this a protocol=5 client resuming its session would
    // lose it, and the messages queued in it, at every broken connection.
    umqtt_rs_connect5_opts_t v5 = {
        .request_problem_information = true,
        .session_expiry = opts->clean_session ? 0 : 0xffffffffu,
    };
    v5.props = (umqtt_rs_props_t) {props, urs_props_from(self->connect_props, props, &v5)};
    v5.will_props = (umqtt_rs_props_t) {will, urs_props_from(self->lw_props, will, NULL)};
    if (v5.topic_alias_maximum > 0 && self->aliases == NULL) {
        // Lent before the CONNACK, kept for the client's life.
        self->aliases = m_new(uint8_t, ALIAS_MAP_SIZE);
        self->aliases_cap = ALIAS_MAP_SIZE;
        umqtt_rs_set_alias_buffer(&self->core, self->aliases, self->aliases_cap);
    }
    return umqtt_rs_connect5(&self->core, urs_now_ms(self), opts, &v5);
}

// The broker set a topic alias whose topic does not fit the map: a larger
// copy (the core asked for `need` bytes).
void urs_grow_aliases(mqtt_client_obj_t *self, size_t need) {
    uint8_t *p = m_renew_maybe(uint8_t, self->aliases, self->aliases_cap, need, true);
    if (p == NULL) {
        urs_close_transport(self);
        mp_raise_msg_varg(&mp_type_MQTTException, MP_ERROR_TEXT("no memory (%u bytes) for the broker's topic aliases"), (unsigned)need);
    }
    self->aliases = p;
    self->aliases_cap = need;
    umqtt_rs_set_alias_buffer(&self->core, p, need);
}

// topic_aliases=: the outgoing alias map, taken (once) when a broker first
// allows aliases; without the memory none are sent, and nothing else
// changes.
void urs_lend_out_aliases(mqtt_client_obj_t *self) {
    if (self->out_aliases != NULL || self->out_aliases_size == 0) {
        return;
    }
    umqtt_rs_server_limits_t limits;
    umqtt_rs_server_limits(&self->core, &limits);
    if (limits.topic_alias_maximum == 0) {
        return;
    }
    self->out_aliases = m_new_maybe(uint8_t, self->out_aliases_size);
    if (self->out_aliases != NULL) {
        umqtt_rs_set_out_alias_buffer(&self->core, self->out_aliases, self->out_aliases_size);
    }
}

// The broker ended the connection (DISCONNECT) or refused it (CONNACK):
// MQTTException(reason code, reason string or None), the connection closed.
NORETURN void urs_raise_reason(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev) {
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(umqtt_rs_error_detail(&self->core)), mp_const_none };
    umqtt_rs_prop_t p;
    size_t at = 0;
    while (umqtt_rs_prop_next(ev->props, &at, &p)) {
        if (p.id == PROP_REASON_STRING) {
            args[1] = prop_value(&p);
        }
    }
    urs_close_transport(self);
    nlr_raise(mp_call_function_n_kw(MP_OBJ_FROM_PTR(&mp_type_MQTTException), 2, 0, args));
}

// disconnect(reason=0, session_expiry=None, props=None) in MQTT 5: queue
// DISCONNECT with them.
umqtt_rs_status_t urs_disconnect5(mqtt_client_obj_t *self, mp_int_t reason, mp_obj_t session_expiry, mp_obj_t props) {
    // One more place: the session expiry and 16 more make a count the core
    // refuses (ValueError), never a write past the array.
    umqtt_rs_prop_t items[UMQTT_RS_MAX_PROPS + 1];
    size_t n = 0;
    if (session_expiry != mp_const_none) {
        umqtt_rs_prop_t p = { .id = PROP_SESSION_EXPIRY_INTERVAL, .kind = UMQTT_RS_PROP_INT, .value = prop_int(session_expiry) };
        add(items, &n, p);
    }
    n += urs_props_from(props, items + n, NULL);
    if (reason < 0 || reason > 0xff) {
        mp_raise_ValueError(MP_ERROR_TEXT("reason must be a DISCONNECT reason code"));
    }
    return umqtt_rs_disconnect5(&self->core, (uint8_t)reason, (umqtt_rs_props_t) {items, n});
}

// A failed PUBACK/PUBREC (pid, code): for the blocking publish waiting for
// it, else the ack callback set with reason=True, else MQTTException(code)
// from the call that handled it.
void urs_publish_failed(mqtt_client_obj_t *self, uint16_t pid, uint8_t code) {
    mp_obj_t key = MP_OBJ_NEW_SMALL_INT(pid);
    if (self->refused != mp_const_none && urs_dict_get(self->refused, key) != MP_OBJ_NULL) {
        mp_obj_dict_store(self->refused, key, MP_OBJ_NEW_SMALL_INT(code));
    } else if (self->ack_cb != mp_const_none && self->ack_reason) {
        mp_obj_t args[2] = { key, MP_OBJ_NEW_SMALL_INT(code) };
        mp_call_function_n_kw(self->ack_cb, 2, 0, args);
    } else {
        mp_raise_type_arg(&mp_type_MQTTException, MP_OBJ_NEW_SMALL_INT(code));
    }
}

// ---- subscription identifiers -------------------------------------------
// Every MQTT 5 SUBSCRIBE carries a Subscription Identifier when the broker
// takes them (its CONNACK did not say 0): the one in subscribe(props=...),
// else the client's next own (1, 2, ...).  The broker puts the identifiers
// of the subscriptions a message is for into it, so the message goes to the
// callbacks of exactly those subscriptions, however the filters overlap
// and whether the broker sends one copy per subscription (mosquitto) or one
// for all.

// The identifier a subscribe sends: the application's (> 0), the
// client's own (< 0: its negative), or 0 for none.
mp_int_t urs_sub_id_for(mqtt_client_obj_t *self, mp_obj_t props) {
    if (props != mp_const_none && mp_obj_is_type(props, &mp_type_dict)) {
        mp_obj_t v = urs_dict_get(props, MP_OBJ_NEW_SMALL_INT(PROP_SUBSCRIPTION_IDENTIFIER));
        if (v != MP_OBJ_NULL) {
            return (mp_int_t)prop_int(v); // the core checks its range
        }
    }
    umqtt_rs_server_limits_t limits;
    umqtt_rs_server_limits(&self->core, &limits);
    if (!limits.subscription_ids_available) {
        return 0;
    }
    self->last_sub_id = self->last_sub_id >= MAX_SUB_ID ? 1 : self->last_sub_id + 1;
    return -(mp_int_t)self->last_sub_id;
}

// Queue an MQTT 5 SUBSCRIBE with subscribe(props=...) and, when the client
// chose it (sub_id < 0), its own identifier.
umqtt_rs_status_t urs_subscribe5(mqtt_client_obj_t *self, const umqtt_rs_topic_t *entries, size_t count, mp_obj_t props, mp_int_t sub_id, uint16_t *pid) {
    // One more place: the identifier and 16 more make a count the core
    // refuses (ValueError), never a write past the array.
    umqtt_rs_prop_t items[UMQTT_RS_MAX_PROPS + 1];
    size_t n = urs_props_from(props, items, NULL);
    if (sub_id < 0) {
        items[n++] = (umqtt_rs_prop_t) { .id = PROP_SUBSCRIPTION_IDENTIFIER, .kind = UMQTT_RS_PROP_INT, .value = (uint32_t)-sub_id };
    }
    return umqtt_rs_subscribe5(&self->core, urs_now_ms(self), entries, count, (umqtt_rs_props_t) {items, n}, pid);
}

// After a subscribe (sub_id: what urs_sub_id_for gave) or an unsubscribe
// (0): the filters' identifiers, the client's own kept negative.
void urs_note_sub_ids(mqtt_client_obj_t *self, const umqtt_rs_topic_t *entries, size_t count, mp_int_t sub_id) {
    if (self->sub_ids == mp_const_none) {
        if (sub_id == 0) {
            return;
        }
        self->sub_ids = mp_obj_new_dict(0);
    }
    for (size_t i = 0; i < count; ++i) {
        mp_obj_t key = mp_obj_new_bytes(entries[i].filter.ptr, entries[i].filter.len);
        if (sub_id != 0) {
            mp_obj_dict_store(self->sub_ids, key, mp_obj_new_int(sub_id));
        } else {
            urs_dict_take(self->sub_ids, key);
        }
    }
}

// The filter of sub_ids whose identifier is `id` at or after slot *i
// (*i moves past it), or MP_OBJ_NULL.  `own`: what the client chose counts,
// else what the application chose.
static mp_obj_t filter_with_id(mqtt_client_obj_t *self, uint32_t id, size_t *i, bool own, bool app) {
    mp_map_t *map = mp_obj_dict_get_map(self->sub_ids);
    for (; *i < map->alloc; ++*i) {
        if (!mp_map_slot_is_filled(map, *i)) {
            continue;
        }
        mp_int_t v = mp_obj_get_int(map->table[*i].value);
        if ((own && v == -(mp_int_t)id) || (app && v == (mp_int_t)id)) {
            return map->table[(*i)++].key;
        }
    }
    return MP_OBJ_NULL;
}

// A message's properties for its callbacks: a dict (see the top of this
// file), or None when it has none besides the identifiers the client chose
// itself (those are how it dispatches, not the application's data).
mp_obj_t urs_message_props(mqtt_client_obj_t *self, umqtt_rs_bytes_t props) {
    mp_obj_t d = mp_const_none;
    umqtt_rs_prop_t p;
    size_t at = 0;
    while (umqtt_rs_prop_next(props, &at, &p)) {
        size_t i = 0;
        if (p.id == PROP_SUBSCRIPTION_IDENTIFIER && self->sub_ids != mp_const_none
            && filter_with_id(self, p.value, &i, true, false) != MP_OBJ_NULL) {
            continue;
        }
        if (d == mp_const_none) {
            d = mp_obj_new_dict(0);
        }
        add_to_dict(d, &p);
    }
    return d;
}

// The callbacks of the subscriptions a message's identifiers name, each
// once, into matched[0..cap] (*n of them): of each filter whose last
// subscribe sent one of them and that matches the topic (an identifier from
// an earlier process may name another filter now), its callback, or
// set_callback's function.  False when the identifiers name no such filter
// (none, unknown, or more callbacks than fit): the caller dispatches by
// topic.
bool urs_match_sub_ids(mqtt_client_obj_t *self, umqtt_rs_bytes_t topic, umqtt_rs_bytes_t props, mp_obj_t *matched, size_t *n, size_t cap) {
    if (self->sub_ids == mp_const_none) {
        return false;
    }
    bool named = false;
    umqtt_rs_prop_t p;
    size_t at = 0;
    while (umqtt_rs_prop_next(props, &at, &p)) {
        if (p.id != PROP_SUBSCRIPTION_IDENTIFIER) {
            continue;
        }
        size_t i = 0;
        mp_obj_t filter;
        while ((filter = filter_with_id(self, p.value, &i, true, true)) != MP_OBJ_NULL) {
            if (!umqtt_rs_topic_matches(urs_buf_of(filter), topic)) {
                continue;
            }
            named = true;
            mp_obj_t cb = urs_dict_get(self->filters, filter);
            if (cb == MP_OBJ_NULL) {
                cb = self->cb;
            }
            size_t k = 0;
            while (k < *n && matched[k] != cb) {
                ++k;
            }
            if (cb != mp_const_none && k == *n) {
                if (*n == cap) {
                    return false; // by topic, which takes any number
                }
                matched[(*n)++] = cb;
            }
        }
    }
    return named;
}

#endif // UMQTT_RS_MQTT5
