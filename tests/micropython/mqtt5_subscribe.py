# MQTT 5 subscription options against mosquitto: no_local (not one's own
# messages), retain_handling (0: retained at every subscribe, 1: only for a
# new subscription, 2: never), retain_as_published (the RETAIN flag of
# forwarded live messages); incoming topic aliases (the fake broker, as
# mosquitto 2.0.11 sends none): set, used alone, a topic longer than the
# first alias map, an alias never set (MQTTException, connection closed).
import sys

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import client, cid, topic, wait_until, drain, HOST, FAKE_PORT

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
from umqtt_rs import MQTTClient, MQTTException

got = []
c = client("v5opts", protocol=5)
c.set_callback(lambda t, m, r, q, d: got.append((m, r)), True)
c.connect()
other = client("v5other", protocol=5)
other.connect()

# no_local: our own message is not sent back; another client's is.
t = topic("nolocal")
c.subscribe(t, 1, no_local=True)
c.publish(t, b"mine", qos=1)
other.publish(t, b"theirs", qos=1)
print("no_local", wait_until(c, lambda: len(got) == 1), got)
drain(c, 200)
print("only theirs", got == [(b"theirs", False)])

# retain_handling with a retained message on the topic.
r = topic("retained")
other.publish(r, b"kept", retain=True, qos=1)
for rh in (2, 1, 0):
    c.unsubscribe(r)  # each subscription is new
    del got[:]
    c.subscribe(r, 1, retain_handling=rh)
    drain(c, 300)
    print("retain_handling", rh, "new:", got)
for rh in (1, 0):
    del got[:]
    c.subscribe(r, 1, retain_handling=rh)  # exists already
    drain(c, 300)
    print("retain_handling", rh, "again:", got)

# retain_as_published: a live retained message keeps its RETAIN flag.
for rap in (False, True):
    lt = topic("rap%d" % rap)
    c.subscribe(lt, 1, retain_as_published=rap)
    del got[:]
    other.publish(lt, b"live", retain=True, qos=1)
    wait_until(c, lambda: len(got) == 1)
    print("retain_as_published", rap, got)
    other.publish(lt, b"", retain=True, qos=1)  # clears it
try:
    c.subscribe(t, retain_handling=3)
except ValueError as e:
    print("ValueError:", e)
c.disconnect()
other.disconnect()

# Incoming topic aliases: announced with PROP_TOPIC_ALIAS_MAXIMUM.
msgs = []
a = MQTTClient(cid("alias5"), HOST, FAKE_PORT, protocol=5)
a.set_callback(lambda t, m: msgs.append((t if len(t) < 20 else b"<%d bytes>" % len(t), m)))
a.connect(props={umqtt_rs.PROP_TOPIC_ALIAS_MAXIMUM: 2})
try:
    wait_until(a, lambda: False, 3000)
except MQTTException as e:
    print("unknown alias:", e, a.is_connected())
for m in msgs:
    print(m)
# Without announcing a maximum, any alias is a protocol error.
a = MQTTClient(cid("alias5-none"), HOST, FAKE_PORT, protocol=5)
a.set_callback(lambda t, m: msgs.append(m))
a.connect()
try:
    wait_until(a, lambda: False, 3000)
except MQTTException as e:
    print("no maximum:", e, a.is_connected())
