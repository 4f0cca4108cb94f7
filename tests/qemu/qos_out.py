# Publishing at QoS 0, 1 and 2 over the scripted broker: the PUBLISH bytes,
# packet ids 1, 2, 3..., PUBREL with the id of the PUBREC, and publish()
# returning only after PUBACK / PUBCOMP.
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker, ack, publish
from umqtt_rs import MQTTClient

b = Broker()
c = MQTTClient("qemu", "scripted")
c.connect(sock=b)
b.take()

c.publish("t/0", b"zero")
b.show()
c.publish("t/1", "one", qos=1)
b.show()
c.publish(b"t/2", bytearray(b"two"), qos=2, retain=True)
b.show()
c.publish("t/1", memoryview(b"again"), qos=1)
b.show()
print("left", len(b.tx))

# The broker sends a message before the PUBACK: publish() hands it to the
# callback and returns after the PUBACK for its own id (4).
c.set_callback(lambda t, m: print("meanwhile", t, m))
b.acks = False
b.send(publish(b"t/in", b"first"), ack("PUBACK", 4))
c.publish("t/late", "x", qos=1)
b.show()
print("left", len(b.tx))
