# Receiving at QoS 0, 1 and 2 from the scripted broker: delivery to the
# callback, PUBACK / PUBREC / PUBCOMP with the message's packet id, a QoS 2
# message delivered once even when the broker repeats it before PUBREL.
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker, ack, publish
from umqtt_rs import MQTTClient


def cb(topic, msg, retained, qos, dup):
    print("got", topic, msg, "retained", retained, "qos", qos, "dup", dup)


b = Broker()
c = MQTTClient("qemu", "scripted")
c.set_callback(cb, flags=True)
c.connect(sock=b)
c.subscribe("in/#", qos=2)
b.show()

b.send(publish(b"in/0", b"zero"))
c.wait_msg()
b.show()

b.send(publish(b"in/1", b"one", qos=1, pid=7, retain=True))
c.wait_msg()
b.show()

b.send(publish(b"in/2", b"two", qos=2, pid=0x1234))
c.wait_msg()
b.show()
# The broker did not see our PUBREC and sends the message again, DUP set.
b.send(publish(b"in/2", b"two", qos=2, pid=0x1234, dup=True))
c.check_msg()
b.show()
b.send(ack("PUBREL", 0x1234))
c.check_msg()
b.show()

# Several packets in one read are all handled by one check_msg().
b.send(publish(b"in/a", b"A", qos=1, pid=8), publish(b"in/b", b"B"), publish(b"in/c", b"C", qos=2, pid=9))
print("check_msg", c.check_msg())
b.show()
b.send(ack("PUBREL", 9))
c.check_msg()
b.show()
