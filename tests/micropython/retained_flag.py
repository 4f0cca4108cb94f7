# Extension over umqtt.simple: set_callback(cb, flags=True) calls
# cb(topic, msg, retained, qos, dup), so the application sees the RETAIN flag
# (set for a stored message, clear for a live one).
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, wait_until

got = []


def cb(topic, msg, retained, qos, dup):
    got.append((bytes(msg), retained, qos, dup))


t = topic("retflag")
p = client("retflag-pub")
p.connect()
p.publish(t, b"stored", retain=True, qos=1)

s = client("retflag-sub")
s.set_callback(cb, flags=True)
s.connect()
s.subscribe(t, qos=1)
print("stored", wait_until(s, lambda: got), got[:1])
p.publish(t, b"live", qos=1)
print("live", wait_until(s, lambda: len(got) == 2), got[1:])
s.disconnect()
p.publish(t, b"", retain=True, qos=1)
p.disconnect()
