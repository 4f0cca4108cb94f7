# A message is acknowledged only after the application has it: when the
# callback raises (here ValueError for QoS 1, MemoryError for QoS 2, as when
# the message objects cannot be allocated), the exception propagates out of
# wait_msg(), no PUBACK/PUBREC is sent and a QoS 2 id is not held, so the
# broker sends the message again after a clean_session=False reconnect; it
# then arrives exactly once.  (umqtt.simple acks a QoS 1 message only after
# its callback too; it has no QoS 2.)
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, wait_until, drain

t1, t2 = topic("raise1"), topic("raise2")
got = []
fail = {t1.encode(): ValueError, t2.encode(): MemoryError}


def cb(t, m, retained, qos, dup):
    exc = fail.pop(bytes(t), None)
    if exc:
        raise exc("cannot take " + m.decode())
    got.append((m, qos, dup))


sub = client("raise-sub")
sub.set_callback(cb, flags=True)
sub.connect(clean_session=True)
sub.disconnect()
print("session", sub.connect(clean_session=False))
sub.subscribe(t1, qos=1)
sub.subscribe(t2, qos=2)

pub = client("raise-pub")
pub.connect()
pub.publish(t1, b"m1", qos=1)
pub.publish(t2, b"n1", qos=2)

raised = []
while len(raised) < 2:
    try:
        sub.wait_msg()
    except (ValueError, MemoryError) as e:
        raised.append(type(e).__name__)
print("raised", sorted(raised))
print("connection kept", sub.is_connected())
# Later messages flow (and are acknowledged) as usual.
pub.publish(t1, b"m2", qos=1)
pub.publish(t2, b"n2", qos=2)
wait_until(sub, lambda: len(got) == 2)
print("later", sorted(got))

# The broker still has m1 and n1 unacknowledged: a reconnect brings them.
sub.disconnect()
got.clear()
print("session", sub.connect(clean_session=False))
wait_until(sub, lambda: len(got) == 2)
drain(sub, 500)
print("again", sorted(got))
sub.disconnect()
sub.connect(clean_session=True)
sub.disconnect()
pub.disconnect()
