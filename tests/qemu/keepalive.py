# Keepalive over the scripted broker: an idle client sends PINGREQ by itself
# (after half the keepalive) and wait_msg() returns on the PINGRESP; a broker
# that stops answering is detected (OSError or MQTTException) and the
# connection is closed.  Uses the board's ticks clock (mp_hal_ticks_ms).
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker
from umqtt_rs import MQTTClient, MQTTException

b = Broker()
c = MQTTClient("qemu", "scripted", keepalive=1)
c.connect(sock=b)
b.take()
c.wait_msg()  # nothing arrives: the client pings, the broker answers
b.show()
c.ping()
b.show()
c.wait_msg()
print("pong left", len(b.tx))

b = Broker(ping=False)
c = MQTTClient("qemu", "scripted", keepalive=1)
c.connect(sock=b)
b.take()
try:
    for i in range(10):
        c.wait_msg()
    print("not detected")
except (OSError, MQTTException):
    print("OSError or MQTTException detected")
b.show()
print("closed", b.closed, c.sock)
