# set_callback(f, view=True): topic and msg are read-only memoryviews into
# the receive buffer (no objects allocated per message), with the same
# content as the bytes objects otherwise; flags=True and per-filter
# callbacks get them too.  They are valid while the callback runs: after it,
# or once it calls into the client (rx may move), they are empty, never
# stale bytes.  Messages that arrive while a callback runs are kept as bytes.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, wait_until

t = topic("view")
t_filter = topic("view-filter")
seen = []
kept = []


def cb(tp, msg, retained, qos, dup):
    seen.append((type(tp).__name__, type(msg).__name__, bytes(tp) == t.encode(), bytes(msg), qos))
    kept.append(msg)
    if msg == b"publish":
        c.publish(t_filter, b"from the callback", qos=1)
        seen.append(("after a call into the client", bytes(msg)))


def on_filter(tp, msg, retained, qos, dup):
    seen.append(("filter", type(msg).__name__, bytes(msg)))


c = client("view")
c.set_callback(cb, flags=True, view=True)
c.connect()
c.subscribe(t, qos=1)
c.subscribe(t_filter, qos=1, cb=on_filter)
pub = client("view-pub")
pub.connect()
pub.publish(t, b"first", qos=1)
pub.publish(t, b"x" * 3000, qos=0)
wait_until(c, lambda: len(seen) == 2)
print(seen[0])
print(seen[1][:3], len(seen[1][3]), seen[1][4])
print("empty after the callback", [bytes(m) for m in kept])
seen.clear()
kept.clear()
pub.publish(t, b"publish", qos=1)
wait_until(c, lambda: len(seen) == 3)
for s in seen:
    print(s)
c.disconnect()
pub.disconnect()
