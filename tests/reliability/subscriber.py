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
from dupreport import report_qos2_dups

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

# Per topic: how often each sequence number arrived (saturating at 255),
# the highest first occurrence so far, and the problems seen.
count = [bytearray(N), bytearray(N)]
distinct = [0, 0]  # sequence numbers received at least once
last_first = [-1, -1]
dups = [0, 0]  # deliveries of a number seen before (QoS 1: allowed)
dup_flag = [0, 0]  # deliveries with the DUP flag set
late = [0, 0]  # first occurrences after a higher number's
errors = []


def error(text):
    if len(errors) < 20:
        errors.append(text)



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
    if dup:
        dup_flag[i] += 1
    if not 0 <= s < N:
        error("QoS %d message %d out of range" % (i + 1, s))
        return
    seen = count[i][s]
    if seen == 0:
        distinct[i] += 1
        if PROGRESS and (distinct[0] + distinct[1]) % PROGRESS == 0:
            print("sub: got", distinct[0] + distinct[1])
        if s < last_first[i]:
            late[i] += 1
            if STRICT_ORDER:
                error("QoS %d message %d arrived after %d (out of order)" % (i + 1, s, last_first[i]))
        else:
            last_first[i] = s
    else:
        dups[i] += 1
        if i == 1 and QOS2_DUPS_FAIL:
            error("QoS 2 message %d delivered %d times (dup flag %d)" % (s, seen + 1, dup))
    if seen < 255:
        count[i][s] = seen + 1


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
    if done_at is None and distinct[0] >= N and distinct[1] >= N:
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
for i in (0, 1):
    missing = [k for k in range(N) if count[i][k] == 0]
    if missing:
        errors.append("QoS %d: %d messages never arrived, first %r" % (i + 1, len(missing), missing[:5]))
print("sub: qos1 received %d of %d (+%d duplicates, %d late), qos2 received %d of %d (+%d duplicates, %d late), "
      "dup flags %d/%d" % (distinct[0], N, dups[0], late[0], distinct[1], N, dups[1], late[1], dup_flag[0], dup_flag[1]))
print("sub: qos1 deliveries=%d duplicates=%d, qos2 deliveries=%d duplicates=%d"
      % (distinct[0] + dups[0], dups[0], distinct[1] + dups[1], dups[1]))
if not QOS2_DUPS_FAIL:
    report_qos2_dups(count[1])
print("sub: %s connects=%d in %d ms" % (stats.summary(), stats.connects, ms))
print("sub: outages_ms", stats.outages_ms[-5:], "session_present", stats.sp[-5:])
if subs_end != subs:
    errors.append("subscriptions at the end %r" % subs_end)
if errors:
    for e in errors:
        print("sub: error:", e)
    print("sub: FAIL")
    sys.exit(1)
print("sub: OK")
