# Per-filter callbacks: subscribe(filter, qos, cb) routes matching messages
# to cb (every matching filter's cb runs, '+', '#' and '$' rules apply);
# messages matching no such filter go to set_callback's function. Several
# filters go in one SUBSCRIBE; unsubscribe drops a filter's callback.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, wait_until

base = topic("filters")
got = []


def tag(name):
    return lambda t, m: got.append((name, t[len(base) + 1 :], m))


c = client("filters")
c.set_callback(tag("default"))
c.connect()
c.subscribe(base + "/room/+/temp", 1, tag("temps"))
c.subscribe([(base + "/room/#", 0), (base + "/door", 1)], cb=tag("house"))
c.subscribe(base + "/other")
for sub, msg in (("room/kitchen/temp", b"21"), ("door", b"open"), ("other", b"x"), ("room", b"all")):
    c.publish(base + "/" + sub, msg, qos=1)
print(wait_until(c, lambda: len(got) >= 5))
for g in sorted(got):
    print(g)
got.clear()
c.unsubscribe(base + "/room/+/temp")
c.publish(base + "/room/hall/temp", b"19", qos=1)
print(wait_until(c, lambda: len(got) >= 1), got)
try:
    c.subscribe([(base + "/a", 0), ("bad/#/filter", 0)], cb=tag("x"))
except ValueError as e:
    print("ValueError")
c.disconnect()
