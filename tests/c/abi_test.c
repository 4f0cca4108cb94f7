// abi_test.c: drives the Rust core through umqtt_rs.h exactly as the
// MicroPython glue does, from C, so the header and the exports are checked
// from the C side too (built by build.rs with the cc crate, run by
// the ffi unit tests).  Returns 0 on success, else the number of the failed check.

#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "umqtt_rs.h"

_Static_assert(alignof(umqtt_rs_client_t) == 8, "client block is 8-byte aligned");
_Static_assert(sizeof(umqtt_rs_client_t) == 8 * UMQTT_RS_CLIENT_WORDS, "client block size");

#define CHECK(n, cond) do { if (!(cond)) { return (n); } } while (0)

// Copy bytes from "the socket" into the window the core lends.
static int feed(umqtt_rs_client_t *c, const uint8_t *bytes, size_t len) {
    uint8_t *win;
    size_t cap;
    umqtt_rs_rx_window(c, &win, &cap);
    if (cap < len) {
        return -1;
    }
    memcpy(win, bytes, len);
    umqtt_rs_rx_commit(c, len);
    return 0;
}

static size_t take_tx(umqtt_rs_client_t *c, uint8_t *out, size_t cap) {
    const uint8_t *p;
    size_t n;
    umqtt_rs_tx_pending(c, &p, &n);
    if (n > cap) {
        n = cap;
    }
    memcpy(out, p, n);
    umqtt_rs_tx_consume(c, n);
    return n;
}

#if UMQTT_RS_MQTT5
static int abi_test_v5(void);
#endif

int umqtt_rs_c_abi_test(void) {
    static umqtt_rs_client_t client;
    static uint8_t rx[64], tx[64], store[64];
    uint8_t out[128];
    umqtt_rs_event_t ev;
    umqtt_rs_client_t *c = &client;

    umqtt_rs_init(c, rx, sizeof(rx), tx, sizeof(tx), store, sizeof(store));
    CHECK(1, !umqtt_rs_is_connected(c));

    umqtt_rs_connect_opts_t opts;
    memset(&opts, 0, sizeof(opts));
    opts.client_id = (umqtt_rs_bytes_t) {(const uint8_t *)"c", 1};
    opts.keepalive_s = 10;
    opts.clean_session = true;
    CHECK(2, umqtt_rs_connect(c, 0, &opts) == UMQTT_RS_OK);
    static const uint8_t connect[] = {
        0x10, 13,                         // CONNECT, remaining length 13
        0x00, 0x04, 'M', 'Q', 'T', 'T',   // protocol name
        0x04,                             // level 4 (3.1.1)
        0x02,                             // flags: clean session
        0x00, 0x0a,                       // keepalive 10 s
        0x00, 0x01, 'c',                  // client id "c"
    };
    CHECK(3, take_tx(c, out, sizeof(out)) == sizeof(connect) && memcmp(out, connect, sizeof(connect)) == 0);

    // Nothing buffered yet: no event.
    CHECK(4, umqtt_rs_next_event(c, 1, &ev) == UMQTT_RS_OK && ev.kind == UMQTT_RS_EV_NONE);
    // CONNACK arriving in two pieces.
    static const uint8_t connack[] = {0x20, 0x02, 0x01, 0x00}; // session present, accepted
    CHECK(5, feed(c, connack, 1) == 0);
    CHECK(6, umqtt_rs_next_event(c, 2, &ev) == UMQTT_RS_OK && ev.kind == UMQTT_RS_EV_NONE);
    CHECK(7, feed(c, connack + 1, 3) == 0);
    CHECK(8, umqtt_rs_next_event(c, 3, &ev) == UMQTT_RS_OK && ev.kind == UMQTT_RS_EV_CONNECTED);
    CHECK(9, ev.session_present && umqtt_rs_is_connected(c));

    // QoS 1 publish, then its PUBACK.
    uint16_t pid = 0;
    bool separate = true;
    umqtt_rs_bytes_t topic = {(const uint8_t *)"a/b", 3}, payload = {(const uint8_t *)"hi", 2};
    CHECK(10, umqtt_rs_publish(c, 4, topic, payload, 1, false, &pid, &separate) == UMQTT_RS_OK);
    CHECK(11, pid == 1 && !separate && umqtt_rs_is_inflight(c, 1) && umqtt_rs_inflight(c) == 1);
    static const uint8_t publish[] = {
        0x32, 9,                    // PUBLISH QoS 1, remaining length 9
        0x00, 0x03, 'a', '/', 'b',  // topic "a/b"
        0x00, 0x01,                 // packet id 1
        'h', 'i',                   // payload
    };
    CHECK(12, take_tx(c, out, sizeof(out)) == sizeof(publish) && memcmp(out, publish, sizeof(publish)) == 0);
    static const uint8_t puback[] = {0x40, 0x02, 0x00, 0x01}; // PUBACK id 1
    CHECK(13, feed(c, puback, sizeof(puback)) == 0);
    CHECK(14, umqtt_rs_next_event(c, 5, &ev) == UMQTT_RS_OK && ev.kind == UMQTT_RS_EV_PUBLISHED && ev.pid == 1);
    CHECK(15, umqtt_rs_inflight(c) == 0);

    // A payload larger than the tx buffer goes out separately.
    static uint8_t big[100];
    umqtt_rs_bytes_t big_payload = {big, sizeof(big)};
    CHECK(16, umqtt_rs_publish(c, 6, topic, big_payload, 0, false, &pid, &separate) == UMQTT_RS_OK);
    CHECK(17, separate && pid == 0);
    static const uint8_t big_header[] = {0x30, 105, 0x00, 0x03, 'a', '/', 'b'};
    CHECK(18, take_tx(c, out, sizeof(out)) == sizeof(big_header) && memcmp(out, big_header, sizeof(big_header)) == 0);
    // The payload is the tail: nothing may be queued behind it until it is
    // written (consume counts past the empty queue into the tail).
    CHECK(40, umqtt_rs_tx_tail(c) == 100);
    CHECK(41, umqtt_rs_ping(c, 6) == UMQTT_RS_ERR_TX_FULL && take_tx(c, out, sizeof(out)) == 0);
    umqtt_rs_tx_consume(c, 60);
    CHECK(42, umqtt_rs_tx_tail(c) == 40);
    umqtt_rs_tx_consume(c, 40);
    CHECK(43, umqtt_rs_tx_tail(c) == 0 && umqtt_rs_ping(c, 6) == UMQTT_RS_OK);
    static const uint8_t pingreq[] = {0xc0, 0x00};
    CHECK(44, take_tx(c, out, sizeof(out)) == 2 && memcmp(out, pingreq, 2) == 0);

    // An incoming QoS 1 message: the event borrows the rx buffer; the PUBACK
    // is queued once the application acks it.
    static const uint8_t incoming[] = {
        0x32, 8,                // PUBLISH QoS 1, remaining length 8
        0x00, 0x01, 't',        // topic "t"
        0x00, 0x07,             // packet id 7
        'x', 'y', 'z',          // payload
    };
    CHECK(19, feed(c, incoming, sizeof(incoming)) == 0);
    CHECK(20, umqtt_rs_next_event(c, 7, &ev) == UMQTT_RS_OK && ev.kind == UMQTT_RS_EV_MESSAGE);
    CHECK(21, ev.topic_len == 1 && ev.topic[0] == 't' && ev.payload_len == 3 && memcmp(ev.payload, "xyz", 3) == 0);
    CHECK(22, ev.qos == 1 && ev.pid == 7 && !ev.retain && !ev.dup);
    CHECK(45, take_tx(c, out, sizeof(out)) == 0);
    CHECK(46, umqtt_rs_ack(c, 7, 7) == UMQTT_RS_OK);
    static const uint8_t ack7[] = {0x40, 0x02, 0x00, 0x07};
    CHECK(23, take_tx(c, out, sizeof(out)) == 4 && memcmp(out, ack7, 4) == 0);

    // Invalid topics are refused with a typed detail and nothing queued.
    umqtt_rs_bytes_t wild = {(const uint8_t *)"a/+", 3};
    CHECK(24, umqtt_rs_publish(c, 8, wild, payload, 0, false, &pid, &separate) == UMQTT_RS_ERR_TOPIC);
    CHECK(25, umqtt_rs_error_detail(c) == UMQTT_RS_TOPIC_WILDCARD && take_tx(c, out, sizeof(out)) == 0);

    // A packet bigger than the rx buffer asks for a bigger one.
    static const uint8_t huge_header[] = {0x30, 0xc8, 0x01}; // PUBLISH, remaining length 200
    CHECK(26, feed(c, huge_header, sizeof(huge_header)) == 0);
    CHECK(27, umqtt_rs_next_event(c, 9, &ev) == UMQTT_RS_ERR_RX_TOO_SMALL && umqtt_rs_error_detail(c) == 203);

    // An unacknowledged QoS 1 message is stored, and resent with DUP after a
    // reconnect with clean_session = 0.
    umqtt_rs_connection_lost(c);
    opts.clean_session = false;
    CHECK(32, umqtt_rs_connect(c, 12, &opts) == UMQTT_RS_OK);
    take_tx(c, out, sizeof(out));
    CHECK(33, feed(c, connack, sizeof(connack)) == 0 && umqtt_rs_next_event(c, 13, &ev) == UMQTT_RS_OK);
    CHECK(34, umqtt_rs_publish(c, 14, topic, payload, 1, false, &pid, &separate) == UMQTT_RS_OK && pid == 2);
    CHECK(35, umqtt_rs_store_used(c) == sizeof(publish));
    take_tx(c, out, sizeof(out));
    umqtt_rs_connection_lost(c);
    CHECK(36, umqtt_rs_connect(c, 15, &opts) == UMQTT_RS_OK);
    take_tx(c, out, sizeof(out));
    CHECK(37, feed(c, connack, sizeof(connack)) == 0 && umqtt_rs_next_event(c, 16, &ev) == UMQTT_RS_OK);
    static const uint8_t resent[] = {
        0x3a, 9,                    // PUBLISH QoS 1 with DUP, remaining length 9
        0x00, 0x03, 'a', '/', 'b',  // topic "a/b"
        0x00, 0x02,                 // the same packet id, 2
        'h', 'i',                   // payload
    };
    CHECK(38, take_tx(c, out, sizeof(out)) == sizeof(resent) && memcmp(out, resent, sizeof(resent)) == 0);
    static const uint8_t puback2[] = {0x40, 0x02, 0x00, 0x02}; // PUBACK id 2
    CHECK(39, feed(c, puback2, sizeof(puback2)) == 0 && umqtt_rs_next_event(c, 17, &ev) == UMQTT_RS_OK);
    CHECK(40, ev.kind == UMQTT_RS_EV_PUBLISHED && umqtt_rs_store_used(c) == 0);
    opts.clean_session = true;

    // A malformed packet is a decode error.
    umqtt_rs_connection_lost(c);
    CHECK(28, umqtt_rs_connect(c, 10, &opts) == UMQTT_RS_OK);
    take_tx(c, out, sizeof(out));
    static const uint8_t bad[] = {0x21, 0x02, 0x00, 0x00}; // CONNACK with reserved flag bit set
    CHECK(29, feed(c, bad, sizeof(bad)) == 0);
    CHECK(30, umqtt_rs_next_event(c, 11, &ev) == UMQTT_RS_ERR_DECODE);
    CHECK(31, umqtt_rs_error_detail(c) == UMQTT_RS_DECODE_RESERVED_FLAGS);
    #if UMQTT_RS_MQTT5
    return abi_test_v5();
    #else
    return 0;
    #endif
}

#if UMQTT_RS_MQTT5
// The first property of `props` with identifier `id`, or false.
static bool find_prop(umqtt_rs_bytes_t props, uint8_t id, umqtt_rs_prop_t *out) {
    size_t at = 0;
    while (umqtt_rs_prop_next(props, &at, out)) {
        if (out->id == id) {
            return true;
        }
    }
    return false;
}

// MQTT 5 through the header: properties both ways, the CONNACK's limits,
// reason codes, an incoming topic alias, a server DISCONNECT.
static int abi_test_v5(void) {
    static umqtt_rs_client_t client;
    static uint8_t rx[64], tx[64], store[64], aliases[32];
    uint8_t out[128];
    umqtt_rs_event_t ev;
    umqtt_rs_prop_t prop;
    umqtt_rs_client_t *c = &client;

    umqtt_rs_init(c, rx, sizeof(rx), tx, sizeof(tx), store, sizeof(store));
    CHECK(101, umqtt_rs_set_protocol(c, 3) == UMQTT_RS_ERR_ARGUMENT);
    CHECK(102, umqtt_rs_error_detail(c) == UMQTT_RS_ARG_PROTOCOL);
    CHECK(103, umqtt_rs_set_protocol(c, 5) == UMQTT_RS_OK);
    umqtt_rs_set_alias_buffer(c, aliases, sizeof(aliases));

    umqtt_rs_connect_opts_t opts;
    memset(&opts, 0, sizeof(opts));
    opts.client_id = (umqtt_rs_bytes_t) {(const uint8_t *)"c", 1};
    opts.keepalive_s = 10;
    opts.clean_session = true;
    umqtt_rs_prop_t user = {
        .a = {(const uint8_t *)"k", 1}, .b = {(const uint8_t *)"v", 1},
        .id = 0x26, .kind = UMQTT_RS_PROP_PAIR,
    };
    umqtt_rs_connect5_opts_t v5;
    memset(&v5, 0, sizeof(v5));
    v5.props = (umqtt_rs_props_t) {&user, 1};
    v5.session_expiry = 60;
    v5.topic_alias_maximum = 2;
    v5.request_problem_information = true;
    CHECK(104, umqtt_rs_connect5(c, 0, &opts, &v5) == UMQTT_RS_OK);
    static const uint8_t connect[] = {
        0x10, 32,                         // CONNECT, remaining length 32
        0x00, 0x04, 'M', 'Q', 'T', 'T',   // protocol name
        0x05,                             // level 5
        0x02,                             // flags: clean start
        0x00, 0x0a,                       // keepalive 10 s
        18,                               // properties, 18 bytes:
        0x11, 0x00, 0x00, 0x00, 0x3c,     //   session expiry 60 s
        0x21, 0x00, 0x20,                 //   receive maximum 32
        0x22, 0x00, 0x02,                 //   topic alias maximum 2
        0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', // user property k=v
        0x00, 0x01, 'c',                  // client id "c"
    };
    CHECK(105, take_tx(c, out, sizeof(out)) == sizeof(connect) && memcmp(out, connect, sizeof(connect)) == 0);

    static const uint8_t connack[] = {
        0x20, 12,                   // CONNACK, remaining length 12
        0x00, 0x00,                 // no session present, success
        9,                          // properties, 9 bytes:
        0x21, 0x00, 0x05,           //   receive maximum 5
        0x24, 0x01,                 //   maximum QoS 1
        0x12, 0x00, 0x01, 'x',      //   assigned client identifier "x"
    };
    CHECK(106, feed(c, connack, sizeof(connack)) == 0);
    CHECK(107, umqtt_rs_next_event(c, 1, &ev) == UMQTT_RS_OK && ev.kind == UMQTT_RS_EV_CONNECTED);
    CHECK(108, find_prop(ev.props, 0x12, &prop) && prop.kind == UMQTT_RS_PROP_STR && prop.a.len == 1 && prop.a.ptr[0] == 'x');
    CHECK(109, find_prop(ev.props, 0x21, &prop) && prop.kind == UMQTT_RS_PROP_INT && prop.value == 5 && !prop.many);
    umqtt_rs_server_limits_t limits;
    umqtt_rs_server_limits(c, &limits);
    CHECK(110, limits.receive_maximum == 5 && limits.maximum_qos == 1 && limits.retain_available);
    CHECK(111, limits.maximum_packet_size == 0 && !limits.server_keep_alive);

    // Above the broker's maximum QoS: refused, nothing queued.
    uint16_t pid = 0;
    bool separate = true;
    umqtt_rs_bytes_t topic = {(const uint8_t *)"a/b", 3}, payload = {(const uint8_t *)"hi", 2};
    umqtt_rs_prop_t content_type = {.a = {(const uint8_t *)"t/p", 3}, .id = 0x03, .kind = UMQTT_RS_PROP_BIN};
    umqtt_rs_props_t props = {&content_type, 1};
    CHECK(112, umqtt_rs_publish5(c, 2, topic, payload, 2, false, props, &pid, &separate) == UMQTT_RS_ERR_ARGUMENT);
    CHECK(113, umqtt_rs_error_detail(c) == UMQTT_RS_ARG_QOS_NOT_SUPPORTED && take_tx(c, out, sizeof(out)) == 0);
    // A property PUBLISH may not carry.
    umqtt_rs_prop_t expiry = {.value = 1, .id = 0x11, .kind = UMQTT_RS_PROP_INT};
    umqtt_rs_props_t bad = {&expiry, 1};
    CHECK(114, umqtt_rs_publish5(c, 2, topic, payload, 1, false, bad, &pid, &separate) == UMQTT_RS_ERR_PROPERTY);
    CHECK(115, umqtt_rs_error_detail(c) == 0x11 && take_tx(c, out, sizeof(out)) == 0);

    CHECK(116, umqtt_rs_publish5(c, 3, topic, payload, 1, false, props, &pid, &separate) == UMQTT_RS_OK);
    CHECK(117, pid == 1 && !separate);
    static const uint8_t publish[] = {
        0x32, 16,                       // PUBLISH QoS 1, remaining length 16
        0x00, 0x03, 'a', '/', 'b',      // topic "a/b"
        0x00, 0x01,                     // packet id 1
        6,                              // properties, 6 bytes:
        0x03, 0x00, 0x03, 't', '/', 'p', //   content type "t/p"
        'h', 'i',                       // payload
    };
    CHECK(118, take_tx(c, out, sizeof(out)) == sizeof(publish) && memcmp(out, publish, sizeof(publish)) == 0);
    static const uint8_t refused[] = {0x40, 0x03, 0x00, 0x01, 0x87}; // PUBACK id 1: not authorized
    CHECK(119, feed(c, refused, sizeof(refused)) == 0);
    CHECK(120, umqtt_rs_next_event(c, 4, &ev) == UMQTT_RS_OK && ev.kind == UMQTT_RS_EV_PUBLISH_FAILED);
    CHECK(121, ev.pid == 1 && ev.reason == 0x87 && umqtt_rs_inflight(c) == 0);

    // An incoming message sets topic alias 1, the next one uses it alone.
    static const uint8_t aliased[] = {
        0x30, 15,                       // PUBLISH QoS 0, remaining length 15
        0x00, 0x01, 't',                // topic "t"
        10,                             // properties, 10 bytes:
        0x23, 0x00, 0x01,               //   topic alias 1
        0x26, 0x00, 0x01, 'k', 0x00, 0x01, 'v', // user property k=v
        'z',                            // payload
        0x30, 7,                        // PUBLISH QoS 0, remaining length 7
        0x00, 0x00,                     // no topic:
        3, 0x23, 0x00, 0x01,            //   topic alias 1
        'y',                            // payload
    };
    CHECK(122, feed(c, aliased, sizeof(aliased)) == 0);
    CHECK(123, umqtt_rs_next_event(c, 5, &ev) == UMQTT_RS_OK && ev.kind == UMQTT_RS_EV_MESSAGE);
    CHECK(124, find_prop(ev.props, 0x26, &prop) && prop.kind == UMQTT_RS_PROP_PAIR && prop.many);
    CHECK(125, prop.a.len == 1 && prop.a.ptr[0] == 'k' && prop.b.len == 1 && prop.b.ptr[0] == 'v');
    CHECK(126, umqtt_rs_next_event(c, 6, &ev) == UMQTT_RS_OK && ev.kind == UMQTT_RS_EV_MESSAGE);
    CHECK(127, ev.topic_len == 1 && ev.topic[0] == 't' && ev.payload_len == 1 && ev.payload[0] == 'y');

    // The broker closes the connection, saying why.
    static const uint8_t disconnect[] = {
        0xe0, 8,                        // DISCONNECT, remaining length 8
        0x8b,                           // server shutting down
        6, 0x1f, 0x00, 0x03, 'b', 'y', 'e', // reason string "bye"
    };
    CHECK(128, feed(c, disconnect, sizeof(disconnect)) == 0);
    CHECK(129, umqtt_rs_next_event(c, 7, &ev) == UMQTT_RS_ERR_SERVER_DISCONNECT && umqtt_rs_error_detail(c) == 0x8b);
    CHECK(130, find_prop(ev.props, 0x1f, &prop) && prop.a.len == 3 && memcmp(prop.a.ptr, "bye", 3) == 0);
    CHECK(131, !umqtt_rs_is_connected(c));
    return 0;
}
#endif
