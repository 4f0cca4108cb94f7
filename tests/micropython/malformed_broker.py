# A malformed or hostile broker (the fake broker of tools/broker.py, chosen by
# client id "bad-NAME") never crashes, hangs or desynchronises the client:
# each case ends in MQTTException or OSError within a few seconds, with the
# connection closed (client.sock is None), and the same client object then
# connects and works again.  Cases a conforming client must simply handle
# (PUBREL for an unknown id, a burst of QoS 2 messages, a message larger than
# the buffer) are checked for the right outcome instead.
import gc
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import FAKE_PORT, HOST, PORT, RUN, Inbox, topic, wait_until
from umqtt_rs import MQTTClient, MQTTException

LIMIT_MS = 3000  # every case must be over well before this


def make(name, **kw):
    return MQTTClient("bad-%s-%s" % (name, RUN), HOST, port=FAKE_PORT, rx_size=256, tx_size=64, **kw)


def works_again(c):
    # The same object connects to a real broker and round-trips a message.
    c.server, c.port  # readable attributes
    inbox = Inbox()
    c.set_callback(inbox)
    c.connect(sock=_socket_to(HOST, PORT))
    t = topic("again")
    c.subscribe(t, qos=1)
    c.publish(t, b"ok", qos=1)
    ok = wait_until(c, lambda: inbox.msgs) and inbox.msgs == [(t.encode(), b"ok")]
    c.disconnect()
    return ok


def _socket_to(host, port):
    import socket

    s = socket.socket()
    s.connect(socket.getaddrinfo(host, port)[0][-1])
    return s


def run_case(name, action, say=False, label=None, **kw):
    # say: print the exception's text too; label: the name printed.
    c = make(name, **kw)
    t0 = time.ticks_ms()
    try:
        c.connect()
        action(c)
        outcome = "no error"
    except MQTTException as e:
        outcome = "MQTTException"
        if e.args and isinstance(e.args[0], int):
            outcome += " %d" % e.args[0]
        elif say:
            outcome += " (%s)" % e
    except OSError:
        outcome = "OSError"
    fast = time.ticks_diff(time.ticks_ms(), t0) < LIMIT_MS
    closed = c.sock is None
    print(label or name, outcome, "closed" if closed else "OPEN", "fast" if fast else "SLOW")
    if not closed:
        c.disconnect()
    print("  works again", works_again(c))


def wait_error(c):
    # wait_msg() until the client notices (bounded: the fake broker lingers).
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < 2 * LIMIT_MS:
        c.wait_msg()


def subscribe(c):
    c.subscribe("a")


for name in (
    "early",
    "type0",
    "type15",
    "connect",
    "pingreq",
    "subscribe",
    "connack2",
    "flagsack",
    "flagspubrel",
    "flagsqos3",
    "flagsdup0",
    "flagsconnack",
    "len5",
    "lenshort",
    "lenlong",
    "code6",
    "code255",
    "presentrefused",
    "pubackid",
    "pubcompid",
    "pubid0",
    "truncated",
    "truncconnack",
    "utf8",
    "nul",
    "surrogate",
    "wildcard",
    "emptytopic",
    "big",
):
    run_case(name, wait_error)

run_case("subackid", subscribe)

# 268 MB announced: refused from the fixed header (nothing allocated), with
# the size in the message.
run_case("lenhuge", wait_error, say=True)


# RabbitMQ 3.10 answers a QoS 2 publish with PUBACK: the error says so.
def publish_qos2(c):
    c.publish("a", b"x", qos=2)


run_case("qos2puback", publish_qos2, say=True)


# PUBREL for an unknown id is answered with PUBCOMP; the broker then sends "r".
def pubrel(c):
    inbox = Inbox()
    c.set_callback(inbox)
    print("pubrel answered", wait_until(c, lambda: inbox.msgs, LIMIT_MS), inbox.msgs)
    c.disconnect()


run_case("pubrel", pubrel)


# 100 QoS 2 messages before any PUBREL (more than the 64 held ids): all delivered once, all completed.
def qos2burst(c):
    inbox = Inbox()
    c.set_callback(inbox)
    c.subscribe("q", qos=2)
    done = wait_until(c, lambda: (b"r", b"done") in inbox.msgs, LIMIT_MS)
    got = [m for t, m in inbox.msgs if t == b"q"]
    want = [b"m%d" % i for i in range(1, 101)]
    print("qos2 burst", done, len(got), got == want)
    c.disconnect()


run_case("qos2burst", qos2burst)


# A 100 KB message on a 256-byte buffer, within max_packet_size: the buffer
# grows, the message and the one after it arrive intact.  A heap that cannot
# hold 100 KB twice (the receive buffer, then the bytes the callback gets;
# an ESP32-C3 has about 150 KB) gets the same case at 40 KB ("large40k"),
# still 160 times the buffer.
LARGE = 100000 if gc.mem_free() > 400_000 else 40000


def large(c, size=100000):
    inbox = Inbox()
    c.set_callback(inbox)
    wait_until(c, lambda: len(inbox.msgs) == 2, LIMIT_MS)
    big = inbox.msgs[0][1]
    print("large", inbox.msgs[0][0], len(big) == size, big == bytes(i & 0xFF for i in range(size)))
    print("then", inbox.msgs[1])
    c.disconnect()


run_case(
    "large" if LARGE == 100000 else "large40k",
    lambda c: large(c, LARGE),
    label="large",
    max_packet_size=200_000,
)
# The 100 KB one over the default max_packet_size (64 KB): refused from its
# fixed header, nothing allocated.
run_case("large", large, say=True)
