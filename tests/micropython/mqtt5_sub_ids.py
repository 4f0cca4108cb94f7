# MQTT 5 subscription identifiers: every SUBSCRIBE carries one (the
# client's own, or subscribe(props={PROP_SUBSCRIPTION_IDENTIFIER: n})), and
# a message goes to the callbacks of exactly the subscriptions it is for.
# The client's own identifiers are not in the callbacks' props (a message
# without other properties still has None); the application's are.
# mosquitto sends one copy per matching subscription: with overlapping
# filters each copy used to reach every matching filter's callback (each
# callback called once per copy); now each callback gets its
# subscription's copy once, and a subscription without a callback gives
# its copy to set_callback's function only.  The fake broker shows the
# SUBSCRIBE on the wire (the identifier, user properties) and refuses, before
# sending, what its CONNACK said it lacks (wildcards, shared subscriptions,
# subscription identifiers).
import sys

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import client, cid, topic, wait_until, drain, HOST, FAKE_PORT

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
from umqtt_rs import MQTTClient, PROP_SUBSCRIPTION_IDENTIFIER as SUB_ID

calls = []


def cb(name):
    return lambda t, m, p: calls.append((name, m, None if p is None else p.get(SUB_ID)))


c = client("v5ids", protocol=5)
c.set_callback(cb("default"), props=True)
c.connect()
pub = client("v5idspub", protocol=5)
pub.connect()
base = topic("ids")

# Overlapping filters, each with its callback.
c.subscribe(base + "/#", 1, cb=cb("all"))
c.subscribe(base + "/x", 1, cb=cb("x"))
pub.publish(base + "/x", b"1", qos=1)
wait_until(c, lambda: len(calls) >= 2)
drain(c, 300)
print("overlap", sorted(calls))

# A subscription without a callback: its copy goes to set_callback's
# function, the other filter's to its callback.
del calls[:]
c.subscribe(base + "/y/+", 1)
pub.publish(base + "/y/z", b"2", qos=1)
wait_until(c, lambda: len(calls) >= 2)
drain(c, 300)
print("no callback", sorted(calls))

# The application's own identifier reaches the message's properties.
del calls[:]
c.subscribe(base + "/own", 0, cb=cb("own"), props={SUB_ID: 777})
pub.publish(base + "/own", b"3")
wait_until(c, lambda: len(calls) >= 2)
drain(c, 300)
print("own id", sorted(calls))

# After unsubscribing a filter, only the others get the message.
del calls[:]
c.unsubscribe(base + "/x")
pub.publish(base + "/x", b"4", qos=1)
wait_until(c, lambda: len(calls) >= 1)
drain(c, 300)
print("unsubscribed", sorted(calls))

# A message that arrives while a callback runs is kept and dispatched the
# same way afterwards.
del calls[:]


def slow(t, m, p):
    calls.append(("slow", m, p))
    if m == b"5":
        pub.publish(base + "/k/b", b"6", qos=1)
        drain(c, 300)  # "6" arrives now, is kept


c.subscribe(base + "/k/#", 1, cb=slow)
pub.publish(base + "/k/a", b"5", qos=1)
wait_until(c, lambda: len(calls) >= 3)
drain(c, 300)
print("kept", [(n, m) for n, m, _ in sorted(calls)])
c.disconnect()
pub.disconnect()

# The wire: the fake broker echoes each SUBSCRIBE body (packet id,
# properties, filters) on echo/sub.
seen = []
e = MQTTClient(cid("echo5ids"), HOST, FAKE_PORT, protocol=5)
e.set_callback(lambda t, m: seen.append(bytes(m)))
e.connect()
e.subscribe("echo/sub")
e.subscribe("a/+", 1, props={umqtt_rs.PROP_USER_PROPERTY: [("k", "v")]})
e.subscribe("b", 2, props={SUB_ID: 300})
wait_until(e, lambda: len(seen) >= 3)
for s in seen:
    print("subscribe body", s[2:])
e.disconnect()

# A broker without wildcards, shared subscriptions or identifiers: those
# are refused before anything is sent; a plain filter goes without an
# identifier.
seen = []
n = MQTTClient(cid("nosub5"), HOST, FAKE_PORT, protocol=5)
n.set_callback(lambda t, m: seen.append(bytes(m)))
n.connect()
for f, kw in (("a/+", {}), ("a/#", {}), ("$share/g/a", {}), ("a", {"props": {SUB_ID: 5}})):
    try:
        n.subscribe(f, 0, **kw)
        print("sent?", f)
    except ValueError as ex:
        print("refused", f, ex)
n.subscribe("echo/sub")
wait_until(n, lambda: len(seen) >= 1)
print("no identifier", seen[0][2:])
n.disconnect()
