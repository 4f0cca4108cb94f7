# MQTT 5 features the broker carries out, against mosquitto: shared
# subscriptions ($share/group/filter: each message to one member of the
# group; a per-filter callback gets its messages), and the will delay (PROP_WILL_DELAY_INTERVAL: the will comes that
# long after the connection is lost, and not at all when the client is back
# first).
import sys
import time

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import client, topic, wait_until, drain, RUN

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
P = umqtt_rs

# Shared subscription: two members, 20 messages, each delivered once.
t = topic("shared")
members = []
for name in ("share-a", "share-b"):
    got = []
    m = client(name, protocol=5)
    m.connect()
    f = "$share/g%s/%s" % (RUN, t)
    if name == "share-a":
        # A per-filter callback: a shared filter matches its filter part.
        m.subscribe(f, 1, cb=lambda tp, msg, got=got: got.append(msg))
    else:
        m.set_callback(lambda tp, msg, got=got: got.append(msg))
        m.subscribe(f, 1)
    members.append((m, got))
pub = client("share-pub", protocol=5)
pub.connect()
for i in range(20):
    pub.publish(t, b"%d" % i, qos=1)
t0 = time.ticks_ms()
while sum(len(g) for _, g in members) < 20 and time.ticks_diff(time.ticks_ms(), t0) < 5000:
    for m, _ in members:
        drain(m, 20)
for m, _ in members:
    drain(m, 200)
a, b = members[0][1], members[1][1]
print("each message once", sorted(a + b) == sorted(b"%d" % i for i in range(20)))
print("both members got some", len(a) > 0 and len(b) > 0)
for m, _ in members:
    m.disconnect()

# Will delay: the will comes about 2 s after the connection is lost.
wills = []
sub = client("will-sub", protocol=5)
sub.set_callback(lambda tp, msg: wills.append((msg, time.ticks_ms())))
sub.connect()
sub.subscribe(topic("will/#"), 1)


def lose(name, delay):
    w = client(name, protocol=5)
    w.set_last_will(topic("will/" + name), b"gone", qos=1, props={P.PROP_WILL_DELAY_INTERVAL: delay})
    w.connect(clean_session=False, props={P.PROP_SESSION_EXPIRY_INTERVAL: 30})
    w.sock.close()  # the connection lost: no DISCONNECT
    return w, time.ticks_ms()


w, lost = lose("delayed", 2)
print("will after the delay", wait_until(sub, lambda: len(wills) == 1, 6000))
waited = time.ticks_diff(wills[0][1], lost)
print("not before 1.5 s", waited >= 1500, "nor long after", waited < 5000)

# Back before the delay: no will.
del wills[:]
w, lost = lose("back", 3)
time.sleep_ms(500)
w = client("back", protocol=5)
w.connect(clean_session=False, props={P.PROP_SESSION_EXPIRY_INTERVAL: 30})
drain(sub, 4000)
print("no will when back in time", wills == [])
w.disconnect(session_expiry=0)
pub.disconnect()
sub.disconnect()
