# Reliability test subscriber (MicroPython, run by tests/reliability/run.py):
# the product's robust mode (umqtt_rs_robust.RobustClient: persistent session,
# fixed client id, reconnects and resubscribes by itself) subscribed to the
# QoS 1 and QoS 2 topics of publisher.py; checks that every QoS 1 message
# arrives at least once with first occurrences in order, and every QoS 2
# message exactly once in order.  Prints "sub: ready" once subscribed, then
# "sub: qos1 deliveries=.. duplicates=.., qos2 deliveries=.. duplicates=.."
# and "sub: OK" or "sub: FAIL" (exit status 1).
#
# Environment: as publisher.py, plus REL_LINGER_MS (how long to keep
# listening for late duplicates after the last message) and REL_RESUBSCRIBE
# (RobustClient's resubscribe option: "auto", the default, or "always"),
# REL_ORDER ("strict" or "report", below) and REL_QOS2_DUPS ("fail", the
# default: a QoS 2 duplicate fails the test; "count": duplicates are only
# counted, for run.py to weigh against the broker's re-sends of released
# ids that its proxy counted); REL_PROGRESS=K prints "sub: got N" each time
# the number of distinct messages received reaches a multiple of K.  With
# "count", lines "sub: dup2 S S*K ..." list the QoS 2 messages delivered more
# than once (S: sequence number, K: extra deliveries when more than one).
import os
import select
import sys
import time

sys.path.append(sys.path[0])
from robustlink import ERRORS, make_client, first_connect, wait_connected
from tally import Tally

HOST = os.getenv("MQTT_HOST") or "127.0.0.1"
PORT = int(os.getenv("REL_PORT"))
TAG = os.getenv("REL_TAG")
N = int(os.getenv("REL_N") or "10000")
BACKOFF = tuple(int(x) for x in (os.getenv("REL_BACKOFF") or "5,1000").split(","))
TIMEOUT_MS = int(float(os.getenv("REL_TIMEOUT") or "150") * 1000)
LINGER_MS = int(os.getenv("REL_LINGER_MS") or "1000")
# Created by run.py when the publisher has finished: from then on, wait at
# most GRACE_MS for what is missing.
STOP_FILE = os.getenv("REL_STOP_FILE")
GRACE_MS = 15000
RESUBSCRIBE = os.getenv("REL_RESUBSCRIBE") or "auto"
# "strict": a message arriving after a higher-numbered one fails the test;
# "report": it is only counted (the broker, not the client, reordered it).
STRICT_ORDER = (os.getenv("REL_ORDER") or "strict") == "strict"
QOS2_DUPS_FAIL = (os.getenv("REL_QOS2_DUPS") or "fail") == "fail"
PROGRESS = int(os.getenv("REL_PROGRESS") or "0")

TOPICS = ("umqtt_rs/rel/%s/q1" % TAG, "umqtt_rs/rel/%s/q2" % TAG)
TRACE = bool(os.getenv("REL_TRACE"))
T1 = TOPICS[0].encode()
T2 = TOPICS[1].encode()

tally = Tally(N, STRICT_ORDER, QOS2_DUPS_FAIL, PROGRESS)
error = tally.error


def on_message(topic, msg, retained, qos, dup):
    i = 0 if topic == T1 else 1 if topic == T2 else -1
    if i < 0:
        error("unexpected topic %r" % topic)
        return
    if qos != i + 1:
        error("topic %d delivered at QoS %d" % (i + 1, qos))
    s = int(msg)
    if TRACE:
        print("sub: got qos%d %d dup=%d" % (qos, s, dup))
    tally.deliver(i, s, dup)


c, stats = make_client("rel-sub-" + TAG, HOST, PORT, BACKOFF, bool(os.getenv("REL_VERBOSE")),
                       keepalive=10, resubscribe=RESUBSCRIBE)
c.set_callback(on_message, flags=True)
t0 = time.ticks_ms()
first_connect(c)
c.subscribe(TOPICS[0], 1)
c.subscribe(TOPICS[1], 2)
# A subscription whose SUBACK was lost is renewed by the next connect, before
# `connected` is set: once connected, both are in place on the broker.
if not wait_connected(c, TIMEOUT_MS):
    print("sub: FAIL not connected")
    sys.exit(1)
subs = c.subscriptions()
if subs != {TOPICS[0].encode(): 1, TOPICS[1].encode(): 2}:
    print("sub: FAIL subscriptions", subs)
    sys.exit(1)
print("sub: ready")


def stop_requested():
    try:
        os.stat(STOP_FILE)
        return True
    except (OSError, TypeError):
        return False


done_at = None
poller = None
sock = None
stop_at = None
checked = t0
while True:
    now = time.ticks_ms()
    if time.ticks_diff(now, t0) > TIMEOUT_MS:
        error("timeout")
        break
    if stop_at is None and time.ticks_diff(now, checked) > 500:
        checked = now
        if stop_requested():
            stop_at = now
    if stop_at is not None and time.ticks_diff(now, stop_at) > GRACE_MS:
        error("publisher done %d ms ago, messages still missing" % GRACE_MS)
        break
    if done_at is None and tally.done():
        done_at = now
    if done_at is not None and time.ticks_diff(now, done_at) > LINGER_MS:
        break
    # Wait on the socket while connected; while offline, check_msg() makes
    # a connection attempt whenever the backoff says one is due.
    if c.connected:
        if c.sock is not sock:
            sock = c.sock
            poller = select.poll()
            poller.register(sock, select.POLLIN)
        poller.poll(50)
    else:
        time.sleep_ms(1)
    c.check_msg()
subs_end = c.subscriptions()
try:
    c.disconnect()
except ERRORS:
    pass

ms = time.ticks_diff(time.ticks_ms(), t0)
tally.report()
print("sub: %s connects=%d in %d ms" % (stats.summary(), stats.connects, ms))
print("sub: outages_ms", stats.outages_ms[-5:], "session_present", stats.sp[-5:])
if subs_end != subs:
    error("subscriptions at the end %r" % subs_end)
if not tally.finish():
    sys.exit(1)
