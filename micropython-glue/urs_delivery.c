// urs_delivery.c: the loop that drives the connection (urs_run), and giving
// messages to the application: callbacks, then the acknowledgement; views,
// pieces of large messages, messages kept while a callback runs.

#include "umqtt_rs_glue.h"

// A bytes object holding a copy of data.  Its hash is left to be computed
// when first needed (0 means "not yet" to MicroPython): most received topics
// and payloads are never hashed.  (Object and data in one heap block looked
// cheaper but is not: MicroPython's allocator finds a run of several free
// blocks by scanning, which cost ~80,000 instructions per message in
// `make bench`'s receive case.)
mp_obj_t urs_new_bytes(const uint8_t *data, size_t len) {
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
// (subscribe(..., cb=f)), else to set_callback's function; in MQTT 5, when
// the message names the subscriptions it is for (Subscription Identifiers,
// urs_match_sub_ids), to theirs.  `m` is the message: topic, msg (bytes),
// retained, qos, dup, pid, props (a dict, or None); `raw` its property
// section.  The callbacks get topic and msg, then with flags=True
// retained, qos and dup, then with props=True the properties.
#define MAX_MATCHES (8)
static void call_callbacks(mqtt_client_obj_t *self, const mp_obj_t *m, umqtt_rs_bytes_t raw) {
    mp_obj_t args[6] = { m[0], m[1], m[2], m[3], m[4], m[6] };
    size_t n_args = self->cb_flags ? 5 : 2;
    if (self->cb_props) {
        args[n_args++] = m[6];
    }
    // The callbacks to run are collected first: one may subscribe or
    // unsubscribe, changing the dict.
    mp_obj_t matched[MAX_MATCHES];
    mp_obj_t more = MP_OBJ_NULL; // a list, when over MAX_MATCHES match
    size_t n = 0;
    mp_map_t *map = mp_obj_dict_get_map(self->filters);
    umqtt_rs_bytes_t topic = map->used > 0 ? urs_buf_of(args[0]) : (umqtt_rs_bytes_t) {NULL, 0};
    #if UMQTT_RS_MQTT5
    bool exact = map->used > 0 && urs_match_sub_ids(self, topic, raw, matched, &n, MAX_MATCHES);
    if (!exact) {
        n = 0; // by topic
    }
    #else
    bool exact = false;
    (void)raw;
    #endif
    for (size_t i = 0; !exact && map->used > 0 && i < map->alloc; ++i) {
        if (!mp_map_slot_is_filled(map, i) || !umqtt_rs_topic_matches(urs_buf_of(map->table[i].key), topic)) {
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
    if (n == 0 && !exact) {
        if (self->cb == mp_const_none) {
            return;
        }
        matched[n++] = self->cb;
    }
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
// does not call into the client: urs_take_views_back() empties them before rx
// can move (any urs_run(), a closed connection) and after the callbacks.
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

void urs_take_views_back(mqtt_client_obj_t *self) {
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
            args[0] = urs_new_bytes(ev->topic, ev->topic_len);
            args[1] = urs_new_bytes(ev->payload, ev->payload_len);
        }
        // The property section: the event's, or a kept message's copy.
        umqtt_rs_bytes_t raw = ev != NULL ? ev->props : urs_opt_buf_of(args[6]);
        #if UMQTT_RS_MQTT5
        args[6] = self->cb_props ? urs_message_props(self, raw) : mp_const_none;
        #endif
        call_callbacks(self, args, raw);
        nlr_pop();
        urs_take_views_back(self);
    } else {
        urs_take_views_back(self);
        self->delivering = false;
        if (acked) {
            umqtt_rs_abandon(&self->core, pid);
        }
        nlr_jump(nlr.ret_val);
    }
    self->delivering = false;
    if (acked) {
        // Never fails for space: an ack that does not fit is queued later.
        umqtt_rs_status_t st = umqtt_rs_ack(&self->core, urs_now_ms(self), pid);
        if (st != UMQTT_RS_OK) {
            urs_raise_status(self, st);
        }
        // A held QoS 2 id is on file as soon as the callback returned.
        urs_persist(self);
    }
}

// A kept piece's length as a tuple (a kept message has 7 entries).
#define PIECE_LEN (9)

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
            if (len != PIECE_LEN || MP_OBJ_SMALL_INT_VALUE(f[6]) == 0) {
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
// chunks=N)): f(topic, chunk, offset, total) on set_callback's function
// (with props=True f(topic, chunk, offset, total, props), the message's
// properties on each piece), topic and chunk memoryviews valid during the
// call; acknowledged after the last piece's callback returned.  When a
// callback raises, the message is abandoned (not acknowledged, the broker
// sends it again after a reconnect) and the rest of it dropped.  `ev` is
// the live event, else `f` the kept piece: (topic, chunk, retained, qos,
// dup, pid, offset, total, property section or None).
static void urs_deliver_piece(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev, mp_obj_t *f) {
    uint8_t qos = ev != NULL ? ev->qos : (uint8_t)MP_OBJ_SMALL_INT_VALUE(f[3]);
    uint16_t pid = ev != NULL ? ev->pid : (uint16_t)MP_OBJ_SMALL_INT_VALUE(f[5]);
    size_t offset = ev != NULL ? ev->offset : (size_t)mp_obj_get_int(f[6]);
    size_t total = ev != NULL ? ev->total : (size_t)mp_obj_get_int(f[7]);
    mp_obj_t args[5] = { mp_const_none, mp_const_none, mp_obj_new_int_from_uint(offset), mp_obj_new_int_from_uint(total), mp_const_none };
    #if UMQTT_RS_MQTT5
    if (self->cb_props) {
        args[4] = urs_message_props(self, ev != NULL ? ev->props : urs_opt_buf_of(f[8]));
    }
    #endif
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
            mp_call_function_n_kw(self->cb, self->cb_props ? 5 : 4, 0, args);
        }
        nlr_pop();
    } else {
        urs_take_views_back(self);
        self->delivering = false;
        if (qos > 0) {
            umqtt_rs_abandon(&self->core, pid);
        }
        drop_rest_of_message(self, offset + size >= total);
        nlr_jump(nlr.ret_val);
    }
    urs_take_views_back(self);
    self->delivering = false;
    if (qos > 0 && offset + size >= total) {
        umqtt_rs_status_t st = umqtt_rs_ack(&self->core, urs_now_ms(self), pid);
        if (st != UMQTT_RS_OK) {
            urs_raise_status(self, st);
        }
        urs_persist(self);
    }
}

// Keeps a copy of an event that arrived while a callback runs, for after it.
static void defer(mqtt_client_obj_t *self, size_t n, const mp_obj_t *items) {
    if (self->deferred == mp_const_none) {
        self->deferred = mp_obj_new_list(0, NULL);
    }
    mp_obj_list_append(self->deferred, mp_obj_new_tuple(n, items));
}

// A piece event: delivered now, or, while a callback runs, kept as a copy.
static void on_piece(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev) {
    if (!self->delivering) {
        urs_deliver_piece(self, ev, NULL);
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        mp_obj_t f[PIECE_LEN] = {
            urs_new_bytes(ev->topic, ev->topic_len),
            urs_new_bytes(ev->payload, ev->payload_len),
            mp_obj_new_bool(ev->retain),
            MP_OBJ_NEW_SMALL_INT(ev->qos),
            mp_obj_new_bool(ev->dup),
            MP_OBJ_NEW_SMALL_INT(ev->pid),
            mp_obj_new_int_from_uint(ev->offset),
            mp_obj_new_int_from_uint(ev->total),
            ev->props.len > 0 ? urs_new_bytes(ev->props.ptr, ev->props.len) : mp_const_none,
        };
        defer(self, PIECE_LEN, f);
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
        if (len == PIECE_LEN) {
            urs_deliver_piece(self, NULL, f);
            continue;
        }
        mp_obj_t args[7] = { f[0], f[1], f[2], f[3], f[4], f[5], f[6] };
        deliver_one(self, NULL, args, (uint16_t)MP_OBJ_SMALL_INT_VALUE(f[5]));
    }
}

// A message event: delivered now, or, while a callback runs, kept (copied
// out of rx, unacknowledged) for when it has returned.  Callbacks never
// nest, so the stack stays flat however fast messages arrive.
static void on_message(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev) {
    #if UMQTT_RS_MQTT5
    if (self->resp_topic != mp_const_none && urs_take_response(self, ev)) {
        return; // an answer to request()
    }
    #endif
    mp_obj_t args[7] = {
        mp_const_none,
        mp_const_none,
        mp_obj_new_bool(ev->retain),
        MP_OBJ_NEW_SMALL_INT(ev->qos),
        mp_obj_new_bool(ev->dup),
        MP_OBJ_NEW_SMALL_INT(ev->pid),
        mp_const_none, // props
    };
    if (!self->delivering) {
        deliver_one(self, ev, args, ev->pid);
        return;
    }
    nlr_buf_t nlr;
    if (nlr_push(&nlr) == 0) {
        args[0] = urs_new_bytes(ev->topic, ev->topic_len);
        args[1] = urs_new_bytes(ev->payload, ev->payload_len);
        if (ev->props.len > 0) {
            args[6] = urs_new_bytes(ev->props.ptr, ev->props.len);
        }
        defer(self, 7, args);
        nlr_pop();
    } else {
        if (ev->qos > 0) {
            umqtt_rs_abandon(&self->core, ev->pid);
        }
        nlr_jump(nlr.ret_val);
    }
}

// The ack callback: f(pid), or with reason=True f(pid, 0).
static void call_ack(mqtt_client_obj_t *self, uint16_t pid) {
    mp_obj_t args[2] = { MP_OBJ_NEW_SMALL_INT(pid), MP_OBJ_NEW_SMALL_INT(0) };
    mp_call_function_n_kw(self->ack_cb, self->ack_reason ? 2 : 1, 0, args);
}

// What an event means besides a message: ack callbacks, SUBACK codes, the
// CONNACK's session flag, MQTT 5's AUTH.  `codes` is what the event
// carries, copied: the SUBACK's return codes, the CONNACK's or AUTH's
// properties (MQTT 5).
static void note_event(mqtt_client_obj_t *self, const umqtt_rs_event_t *ev, mp_obj_t codes) {
    if (ev->kind == UMQTT_RS_EV_PUBLISHED) {
        if (self->streams != mp_const_none) {
            urs_dict_take(self->streams, MP_OBJ_NEW_SMALL_INT(ev->pid)); // lets the stream be collected
        }
        urs_shrink_buffers(self);
        if (self->ack_cb != mp_const_none) {
            call_ack(self, ev->pid);
        }
    #if UMQTT_RS_MQTT5
    } else if (ev->kind == UMQTT_RS_EV_PUBLISH_FAILED) {
        urs_shrink_buffers(self);
        urs_publish_failed(self, ev->pid, ev->reason);
    } else if (ev->kind == UMQTT_RS_EV_AUTH) {
        urs_on_auth(self, ev->reason, codes);
    #endif
    } else if (ev->kind == UMQTT_RS_EV_CONNECTED) {
        self->session_present = ev->session_present;
        #if UMQTT_RS_MQTT5
        self->connack = codes;
        // A new session has no subscription to request()'s response topic.
        self->resp_subscribed = self->resp_subscribed && ev->session_present;
        #endif
        if (self->nonblocking && self->ack_cb != mp_const_none) {
            call_ack(self, 0);
        }
    } else if (ev->kind == UMQTT_RS_EV_SUBSCRIBED || ev->kind == UMQTT_RS_EV_UNSUBSCRIBED) {
        // Filed by packet id for the call waiting for it (blocking mode) or
        // for suback() (non-blocking mode; a 3.1.1 UNSUBACK files None).
        if (self->nonblocking && mp_obj_dict_get_map(self->subacks)->used >= 16) {
            urs_dict_clear(self->subacks); // never collected: stale
        }
        mp_obj_dict_store(self->subacks, MP_OBJ_NEW_SMALL_INT(ev->pid), codes);
        if (self->nonblocking && self->ack_cb != mp_const_none) {
            call_ack(self, ev->pid);
        }
    }
}

// Drive the connection until an event of kind `want` (with packet id
// `want_pid` when nonzero) has been handled, or WANT_ANY event, or until
// timeout_ms passed (0: never block, < 0: no limit).  Messages met on the way
// go to the callback.  Returns the event kind reached, or
// UMQTT_RS_EV_NONE on timeout.  Non-blocking mode does what it can without
// waiting and returns: a full transport is "not yet", never an error.
int urs_run(mqtt_client_obj_t *self, int want, uint16_t want_pid, mp_int_t timeout_ms) {
    uint64_t start = urs_now_ms(self);
    // Called from a view=True callback: rx may move from here on.
    urs_take_views_back(self);
    // Messages kept while a callback ran, if a raising callback left some.
    if (self->deferred != mp_const_none) {
        deliver_deferred(self);
    }
    for (;;) {
        urs_flush(self);
        umqtt_rs_event_t ev;
        // One clock read a turn: the timers are kept to the millisecond.
        uint64_t now = urs_now_ms(self);
        umqtt_rs_status_t st = umqtt_rs_next_event(&self->core, now, &ev);
        if (st == UMQTT_RS_ERR_TX_FULL) {
            if (!urs_make_tx_room(self, umqtt_rs_error_detail(&self->core))) {
                return UMQTT_RS_EV_NONE; // the packet waits in rx
            }
            continue;
        }
        if (st == UMQTT_RS_ERR_RX_TOO_SMALL) {
            urs_grow_rx(self, umqtt_rs_error_detail(&self->core));
            continue;
        }
        if (st == UMQTT_RS_ERR_HELD_FULL) {
            urs_lend_held(self);
            continue;
        }
        #if UMQTT_RS_MQTT5
        if (st == UMQTT_RS_ERR_ALIAS_FULL) {
            urs_grow_aliases(self, umqtt_rs_error_detail(&self->core));
            continue;
        }
        if (st == UMQTT_RS_ERR_SERVER_DISCONNECT || (st == UMQTT_RS_ERR_REFUSED && self->protocol == 5)) {
            urs_raise_reason(self, &ev);
        }
        #endif
        if (st != UMQTT_RS_OK) {
            urs_raise_status(self, st);
        }
        if (ev.kind != UMQTT_RS_EV_NONE) {
            // Everything needed from the event is copied before Python runs:
            // a callback may call back into this client, which moves rx.
            // SUBACK codes; MQTT 5's UNSUBACK codes (a 3.1.1 UNSUBACK has none).
            bool has_codes = ev.kind == UMQTT_RS_EV_SUBSCRIBED || (ev.kind == UMQTT_RS_EV_UNSUBSCRIBED && ev.payload_len > 0);
            mp_obj_t codes = has_codes ? urs_new_bytes(ev.payload, ev.payload_len) : mp_const_none;
            #if UMQTT_RS_MQTT5
            if (ev.kind == UMQTT_RS_EV_CONNECTED || ev.kind == UMQTT_RS_EV_AUTH) {
                codes = urs_props_dict(ev.props);
            }
            #endif
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
            if (ev.kind != UMQTT_RS_EV_MESSAGE || ev.qos > 0) {
                // The ack (or what the event queued) goes out now, even if
                // this call returns next.  A QoS 0 message queues nothing.
                urs_flush(self);
            }
            note_event(self, &ev, codes);
            if (want == WANT_ANY || (ev.kind == want && (want_pid == 0 || ev.pid == want_pid))) {
                return ev.kind;
            }
            continue;
        }
        st = umqtt_rs_poll(&self->core, now);
        if (st == UMQTT_RS_ERR_TX_FULL) {
            if (!urs_make_tx_room(self, umqtt_rs_error_detail(&self->core))) {
                return UMQTT_RS_EV_NONE;
            }
            continue;
        }
        if (st != UMQTT_RS_OK) {
            urs_raise_status(self, st);
        }
        // Blocking mode writes what is queued at the top of the loop;
        // non-blocking mode goes on only while the transport takes bytes.
        size_t pending = urs_tx_pending(self);
        if (pending > 0 && (!self->nonblocking || urs_flush(self) > 0)) {
            continue;
        }
        if (urs_read_some(self) > 0) {
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
        urs_wait_io(self, MP_STREAM_POLL_RD | (pending > 0 ? MP_STREAM_POLL_WR : 0), wait);
    }
}
