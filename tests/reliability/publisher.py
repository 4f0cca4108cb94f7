# Reliability test publisher (MicroPython, run by tests/reliability/run.py):
# publishes REL_N QoS 1 and REL_N QoS 2 messages, alternating, pipelined
# (wait=False, the client's window), payload = the topic-local sequence
# number; reconnects through relink.Relink on every error.
#
# Environment: MQTT_HOST, REL_PORT, REL_TAG, REL_N, REL_BACKOFF ("min,max" ms),
# REL_PACE_MS (sleep per 100 messages), REL_TIMEOUT (s).
import os
import sys
import time

sys.path.append(sys.path[0])
from umqtt_rs import MQTTClient
from relink import Relink, ERRORS

HOST = os.getenv("MQTT_HOST") or "127.0.0.1"
PORT = int(os.getenv("REL_PORT"))
TAG = os.getenv("REL_TAG")
N = int(os.getenv("REL_N") or "10000")
BACKOFF = tuple(int(x) for x in (os.getenv("REL_BACKOFF") or "5,1000").split(","))
PACE_MS = int(os.getenv("REL_PACE_MS") or "0")
TIMEOUT_MS = int(float(os.getenv("REL_TIMEOUT") or "150") * 1000)
WINDOW = 16

TOPICS = ("umqtt_rs/rel/%s/q1" % TAG, "umqtt_rs/rel/%s/q2" % TAG)

c = MQTTClient("rel-pub-" + TAG, HOST, port=PORT, keepalive=10, window=WINDOW)
link = Relink(c, backoff_ms=BACKOFF, verbose=bool(os.getenv("REL_VERBOSE")))
t0 = time.ticks_ms()
link.connect()
print("pub: connected")

nxt = [0, 0]  # next sequence number per QoS 1, 2
stored_on_error = 0
total = 0
while nxt[0] < N or nxt[1] < N:
    if time.ticks_diff(time.ticks_ms(), t0) > TIMEOUT_MS:
        print("pub: FAIL timeout at", nxt)
        sys.exit(1)
    i = 0 if (nxt[0] <= nxt[1] and nxt[0] < N) or nxt[1] >= N else 1
    try:
        # Make room first, so that publish() below never waits for acks
        # (an error during that wait would leave the message unsent).
        while c.inflight() >= WINDOW:
            c.wait_msg()
        before = c.inflight()
        try:
            c.publish(TOPICS[i], str(nxt[i]), qos=i + 1, wait=False)
            nxt[i] += 1
        except ERRORS:
            # Stored in the session (resent after the reconnect) or not?
            if c.inflight() > before:
                nxt[i] += 1
                stored_on_error += 1
            raise
    except ERRORS as e:
        link.dropped(e)
        continue
    total += 1
    if total % 1000 == 0:
        print("pub: sent", total)
        if PACE_MS:
            time.sleep_ms(0)
    if PACE_MS and total % 100 == 0:
        time.sleep_ms(PACE_MS)

# Everything published: wait for the last acknowledgements.
while True:
    if time.ticks_diff(time.ticks_ms(), t0) > TIMEOUT_MS:
        print("pub: FAIL timeout draining, in flight", c.inflight())
        sys.exit(1)
    try:
        if c.drain(1):
            break
    except ERRORS as e:
        link.dropped(e)
try:
    c.disconnect()
except ERRORS:
    pass
ms = time.ticks_diff(time.ticks_ms(), t0)
print("pub: done qos1=%d qos2=%d in %d ms, drops=%d failed_connects=%d stored_on_error=%d max_outage_ms=%d"
      % (nxt[0], nxt[1], ms, link.drops, link.attempts_failed, stored_on_error, link.max_outage_ms()))
print("pub: outages_ms", link.outages_ms[-5:])
