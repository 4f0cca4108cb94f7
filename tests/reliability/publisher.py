# Reliability test publisher (MicroPython, run by tests/reliability/run.py):
# publishes REL_N QoS 1 and REL_N QoS 2 messages, alternating, pipelined
# (wait=False, the client's window), payload = the topic-local sequence
# number, on the product's robust mode (umqtt_rs_robust.RobustClient): it
# reconnects by itself, the native session resends what was in flight, and
# what is published while offline waits in its queue.  Every message is
# published exactly once by this script: a publish() that returns has
# handed the message to the session or the queue; QueueFull (queue at its
# bound while offline) means it was not taken and is published again after
# wait_msg() let the robust mode reconnect.
#
# Environment: MQTT_HOST, REL_PORT, REL_TAG, REL_N, REL_BACKOFF ("min,max" ms),
# REL_PACE_MS (sleep per 100 messages), REL_TIMEOUT (s), REL_VERBOSE,
# REL_PROGRESS (print "pub: sent N" every this many messages, default 1000).
import os
import sys
import time

sys.path.append(sys.path[0])
from robustlink import ERRORS, QueueFull, make_client, first_connect

HOST = os.getenv("MQTT_HOST") or "127.0.0.1"
PORT = int(os.getenv("REL_PORT"))
TAG = os.getenv("REL_TAG")
N = int(os.getenv("REL_N") or "10000")
BACKOFF = tuple(int(x) for x in (os.getenv("REL_BACKOFF") or "5,1000").split(","))
PACE_MS = int(os.getenv("REL_PACE_MS") or "0")
TIMEOUT_MS = int(float(os.getenv("REL_TIMEOUT") or "150") * 1000)
PROGRESS = int(os.getenv("REL_PROGRESS") or "1000")
WINDOW = 16

TOPICS = ("umqtt_rs/rel/%s/q1" % TAG, "umqtt_rs/rel/%s/q2" % TAG)

c, stats = make_client("rel-pub-" + TAG, HOST, PORT, BACKOFF, bool(os.getenv("REL_VERBOSE")),
                       keepalive=10, window=WINDOW)
t0 = time.ticks_ms()
first_connect(c)
print("pub: connected" if c.connected else "pub: first connect failed, the robust mode goes on")

nxt = [0, 0]  # next sequence number per QoS 1, 2
full = 0  # QueueFull: offline with the queue at its bound
max_queued = 0
total = 0
while nxt[0] < N or nxt[1] < N:
    if time.ticks_diff(time.ticks_ms(), t0) > TIMEOUT_MS:
        print("pub: FAIL timeout at", nxt)
        sys.exit(1)
    i = 0 if (nxt[0] <= nxt[1] and nxt[0] < N) or nxt[1] >= N else 1
    try:
        c.publish(TOPICS[i], str(nxt[i]), qos=i + 1, wait=False)
    except QueueFull:
        full += 1
        c.wait_msg()  # sleeps until the next attempt, reconnects, sends the queue
        continue
    nxt[i] += 1
    if c.queued() > max_queued:
        max_queued = c.queued()
    total += 1
    if total % PROGRESS == 0:
        print("pub: sent", total)
    if total % 1000 == 0 and PACE_MS:
        time.sleep_ms(0)
    if PACE_MS and total % 100 == 0:
        time.sleep_ms(PACE_MS)

# Everything published: wait until the queue is sent and acknowledged.
while c.queued() or not c.drain(1):
    if time.ticks_diff(time.ticks_ms(), t0) > TIMEOUT_MS:
        print("pub: FAIL timeout draining, in flight %d, queued %d" % (c.inflight(), c.queued()))
        sys.exit(1)
    if not c.connected:
        c.wait_msg()
try:
    c.disconnect()
except ERRORS:
    pass
ms = time.ticks_diff(time.ticks_ms(), t0)
print("pub: done qos1=%d qos2=%d in %d ms, %s queue_full=%d max_queued=%d"
      % (nxt[0], nxt[1], ms, stats.summary(), full, max_queued))
print("pub: outages_ms", stats.outages_ms[-5:], "session_present", stats.sp[-5:])
