# SUBSCRIBE / UNSUBSCRIBE over the scripted broker: the bytes, packet ids,
# a refused subscription (return code 0x80) raising MQTTException(0x80).
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker
from umqtt_rs import MQTTClient, MQTTException

b = Broker()
c = MQTTClient("qemu", "scripted")
c.connect(sock=b)
b.take()
c.subscribe("a/+", qos=1)
b.show()
c.subscribe(b"b/#")
b.show()
c.unsubscribe("a/+")
b.show()
b.granted = 0x80
try:
    c.subscribe("refused/#", qos=2)
except MQTTException as e:
    print("refused", hex(e.args[0]))
b.show()
# The connection stays usable.
b.granted = None
c.subscribe("c", qos=2)
b.show()
try:
    c.subscribe("bad/#/x")
except ValueError:
    print("ValueError")
b.show()
