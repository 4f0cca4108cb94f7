# A transport that takes at most 7 bytes per write and says "would block"
# every other time (a socket whose send buffer is nearly full): every packet
# still reaches the broker byte for byte, in blocking and non-blocking mode.
# (A partial write once made the client skip bytes: mosquitto closed the
# connection for a malformed packet.)
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker
from umqtt_rs import MQTTClient

b = Broker(wlimit=7)
c = MQTTClient("partial", "scripted")
c.connect(sock=b)
b.show()
c.publish(b"part/q0", b"0123456789abcdef")
c.publish(b"part/q1", b"fedcba9876543210", qos=1)
c.publish(b"part/q2", b"x" * 40, qos=2)
c.subscribe(b"part/#", 1)
b.show()

c.setblocking(False)
ids = [c.publish(b"part/nb", b"%d" % i, qos=1) for i in range(3)]
for _ in range(50):  # the rest goes out as the transport takes it
    c.check_msg()
print("ids", ids, "inflight", c.inflight())
b.show()
