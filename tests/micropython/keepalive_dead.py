# A broker that stops answering is detected: with keepalive=1 and a fake
# broker that never sends PINGRESP, wait_msg() raises OSError or
# MQTTException within a few seconds instead of blocking forever.
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import FAKE_PORT, client
from umqtt_rs import MQTTException

c = client("silent", port=FAKE_PORT, keepalive=1)
print("connect", c.connect())
t0 = time.ticks_ms()
try:
    while time.ticks_diff(time.ticks_ms(), t0) < 20000:
        c.wait_msg()
    print("not detected")
except (OSError, MQTTException) as e:
    # Either class is acceptable; print one line for both.
    print("OSError or MQTTException detected")
    print("within 10 s", time.ticks_diff(time.ticks_ms(), t0) < 10000)
try:
    c.sock.close()
except Exception:
    pass
