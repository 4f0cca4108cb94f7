// mqtt_bench.c: the libmosquitto side of `make bench` (the native ceiling),
// and the publisher that feeds the receive cases of every client.
//
//   mqtt_bench HOST PORT pub  N QOS SIZE TOPIC   publish N messages; QoS 1
//                                                waits for each PUBACK
//   mqtt_bench HOST PORT pipe N WINDOW SIZE TOPIC  QoS 1, WINDOW in flight
//   mqtt_bench HOST PORT sub  N QOS TOPIC        subscribe, print READY,
//                                                receive N messages
//   mqtt_bench HOST PORT rtt  N SIZE TOPIC       publish, wait for our own
//                                                copy, N times
//   mqtt_bench HOST PORT feed N QOS SIZE TOPIC   publisher for receive cases
//
// N = 0 does the setup only (the baseline the orchestrator subtracts).
// Prints one JSON line.  Single-threaded (mosquitto_loop), TCP_NODELAY set
// as umqtt_rs does; every wait is bounded (alarm()).

#include <mosquitto.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RUN_LIMIT_S 120

static struct state {
    int connected;
    int subscribed;
    long acked;   // PUBACKs (QoS 1) / writes (QoS 0) seen by on_publish
    long received;
    uint64_t t_first, t_last;
} st;

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what, int rc) {
    fprintf(stderr, "mqtt_bench: %s: %s\n", what, mosquitto_strerror(rc));
    exit(2);
}

static void on_connect(struct mosquitto *m, void *obj, int rc) {
    (void)m;
    (void)obj;
    if (rc != 0) {
        fprintf(stderr, "mqtt_bench: connection refused (%d)\n", rc);
        exit(2);
    }
    st.connected = 1;
}

static void on_subscribe(struct mosquitto *m, void *obj, int mid, int n, const int *granted) {
    (void)m;
    (void)obj;
    (void)mid;
    (void)n;
    (void)granted;
    st.subscribed = 1;
}

static void on_publish(struct mosquitto *m, void *obj, int mid) {
    (void)m;
    (void)obj;
    (void)mid;
    st.acked++;
}

static void on_message(struct mosquitto *m, void *obj, const struct mosquitto_message *msg) {
    (void)m;
    (void)obj;
    (void)msg;
    uint64_t t = now_ns();
    if (st.received++ == 0) {
        st.t_first = t;
    }
    st.t_last = t;
}

static void loop_once(struct mosquitto *m, int timeout_ms) {
    int rc = mosquitto_loop(m, timeout_ms, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
        die("loop", rc);
    }
}

static void publish(struct mosquitto *m, const char *topic, const char *buf, int size, int qos) {
    int rc = mosquitto_publish(m, NULL, topic, size, buf, qos, false);
    if (rc != MOSQ_ERR_SUCCESS) {
        die("publish", rc);
    }
}

// Write out whatever libmosquitto still holds.
static void drain_writes(struct mosquitto *m) {
    while (mosquitto_want_write(m)) {
        loop_once(m, 100);
    }
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: mqtt_bench HOST PORT MODE N ARGS...\n");
        return 2;
    }
    alarm(RUN_LIMIT_S);
    const char *host = argv[1];
    int port = atoi(argv[2]);
    const char *mode = argv[3];
    long n = atol(argv[4]);
    const char *topic = argv[argc - 1];
    int qos = 0, size = 16, window = 1;
    if (!strcmp(mode, "pub") || !strcmp(mode, "feed")) {
        if (argc != 8) {
            return 2;
        }
        qos = atoi(argv[5]);
        size = atoi(argv[6]);
    } else if (!strcmp(mode, "pipe")) {
        if (argc != 8) {
            return 2;
        }
        qos = 1;
        window = atoi(argv[5]);
        size = atoi(argv[6]);
    } else if (!strcmp(mode, "sub")) {
        if (argc != 7) {
            return 2;
        }
        qos = atoi(argv[5]);
    } else if (!strcmp(mode, "rtt")) {
        if (argc != 7) {
            return 2;
        }
        size = atoi(argv[5]);
    } else {
        fprintf(stderr, "mqtt_bench: unknown mode %s\n", mode);
        return 2;
    }
    char *payload = malloc((size_t)size + 1);
    memset(payload, 'x', (size_t)size);

    mosquitto_lib_init();
    char id[64];
    snprintf(id, sizeof id, "bench-c-%s-%d", mode, (int)getpid());
    struct mosquitto *m = mosquitto_new(id, true, NULL);
    if (m == NULL) {
        die("new", MOSQ_ERR_NOMEM);
    }
    mosquitto_int_option(m, MOSQ_OPT_TCP_NODELAY, 1);
    mosquitto_connect_callback_set(m, on_connect);
    mosquitto_subscribe_callback_set(m, on_subscribe);
    mosquitto_publish_callback_set(m, on_publish);
    mosquitto_message_callback_set(m, on_message);
    int rc = mosquitto_connect(m, host, port, 60);
    if (rc != MOSQ_ERR_SUCCESS) {
        die("connect", rc);
    }
    while (!st.connected) {
        loop_once(m, 1000);
    }
    if (!strcmp(mode, "sub") || !strcmp(mode, "rtt")) {
        rc = mosquitto_subscribe(m, NULL, topic, !strcmp(mode, "sub") ? qos : 0);
        if (rc != MOSQ_ERR_SUCCESS) {
            die("subscribe", rc);
        }
        while (!st.subscribed) {
            loop_once(m, 1000);
        }
    }

    uint64_t t0 = now_ns(), t1 = t0;
    double p50 = 0, p99 = 0;
    if (!strcmp(mode, "pub") || !strcmp(mode, "feed")) {
        for (long i = 0; i < n; ++i) {
            publish(m, topic, payload, size, qos);
            if (qos == 0) {
                if (mosquitto_want_write(m)) {
                    loop_once(m, 100);
                }
            } else if (!strcmp(mode, "pub")) {
                st.acked = 0;
                while (st.acked == 0) {
                    loop_once(m, 1000);
                }
            } else {
                loop_once(m, 0); // feed: keep reading PUBACKs, never wait
            }
        }
        drain_writes(m);
        if (qos > 0 && !strcmp(mode, "feed")) {
            while (st.acked < n) {
                loop_once(m, 1000);
            }
        }
        t1 = now_ns();
    } else if (!strcmp(mode, "pipe")) {
        long sent = 0;
        while (st.acked < n) {
            while (sent < n && sent - st.acked < window) {
                publish(m, topic, payload, size, 1);
                sent++;
            }
            loop_once(m, 1000);
        }
        t1 = now_ns();
    } else if (!strcmp(mode, "sub")) {
        printf("READY\n");
        fflush(stdout);
        while (st.received < n) {
            loop_once(m, 1000);
        }
        t0 = st.t_first;
        t1 = st.t_last;
    } else { // rtt
        uint64_t *lat = calloc((size_t)(n > 0 ? n : 1), sizeof *lat);
        for (long i = 0; i < n; ++i) {
            uint64_t a = now_ns();
            publish(m, topic, payload, size, 0);
            while (st.received == i) {
                loop_once(m, 1000);
            }
            lat[i] = now_ns() - a;
        }
        t1 = now_ns();
        if (n > 0) {
            qsort(lat, (size_t)n, sizeof *lat, cmp_u64);
            p50 = lat[(n - 1) / 2] / 1000.0;
            p99 = lat[(n * 99 - 1) / 100] / 1000.0;
        }
        free(lat);
    }
    mosquitto_disconnect(m);
    drain_writes(m);
    mosquitto_destroy(m);
    mosquitto_lib_cleanup();
    free(payload);
    printf("{\"n\": %ld, \"elapsed_us\": %.1f, \"p50_us\": %.2f, \"p99_us\": %.2f}\n",
        n, (double)(t1 - t0) / 1000.0, p50, p99);
    return 0;
}
