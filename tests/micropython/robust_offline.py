# RobustClient's offline queue: publishes made while disconnected wait in a
# bounded queue (QoS 0 dropped unless queue_qos0) and go out in order after
# the next CONNACK; a QoS 1/2 message beyond the bound raises QueueFull.
# Connection attempts follow a bounded exponential backoff with jitter.
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, cid, client, topic, Inbox, wait_until
from umqtt_rs_robust import RobustClient, QueueFull

t = topic("rb-offline")
watch = Inbox()
s = client("rb-offline-watch")
s.set_callback(watch)
s.connect()
s.subscribe(t, 1)

# Not connected yet: everything is offline.
c = RobustClient(cid("rb-offline"), HOST, port=PORT, queue_size=3, queue_bytes=200)
print("qos0 dropped", c.publish(t, b"q0"), c.dropped)
for i in range(3):
    c.publish(t, b"m%d" % i, qos=1)
try:
    c.publish(t, b"m3", qos=1)
except QueueFull as e:
    print("QueueFull", e)
print("queued", c.queued())
c.connect()
print("flushed", c.queued(), "drain", c.drain(5))
wait_until(s, lambda: len(watch.msgs) >= 3)
print("received", [m for _, m in watch.msgs])

# The byte bound: topic + payload bytes.
d = RobustClient(cid("rb-offline-d"), HOST, port=PORT, queue_bytes=100, queue_qos0=True)
d.publish(t, b"x" * 10)
try:
    d.publish(t, b"y" * 60, qos=2)
except QueueFull:
    print("QueueFull bytes", d.queued())

# An unreachable broker: connect() raises, later calls try again only when
# the backoff says so, and never block meanwhile.
u = RobustClient(cid("rb-offline-u"), HOST, port=1, backoff_min=1, backoff_max=8, jitter=0.5)
try:
    u.connect()
except OSError:
    print("connect failed", u.connected)
t0 = time.ticks_ms()
for i in range(100):
    u.check_msg()
u.publish(t, b"later", qos=1)
print("no wait", time.ticks_diff(time.ticks_ms(), t0) < 500, "queued", u.queued())

ok = True
for n in range(1, 8):
    cap = min(8, 1 << (n - 1)) * 1000
    for _ in range(20):
        ms = u.backoff_ms(n)
        ok = ok and cap // 2 <= ms <= cap
print("backoff within [d/2, d], d = 1, 2, 4, 8, 8... s:", ok)
s.disconnect()
c.disconnect()
