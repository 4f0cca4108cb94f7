# A stream that hands out one byte per read, and a packet that arrives in
# parts: check_msg() never blocks and reassembles the packet over several
# calls ("no data yet" is not an error); wait_msg() waits for the rest.
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker, publish
from umqtt_rs import MQTTClient

got = []
b = Broker(chunk=1)
c = MQTTClient("qemu", "scripted")
c.set_callback(lambda t, m: got.append((t, m)))
c.connect(sock=b)
b.take()

print("idle", c.check_msg(), got)
p = publish(b"chunk/t", b"in pieces", qos=1, pid=3)
# The packet arrives in three parts, between check_msg() calls.
for part in (p[:1], p[1:6], p[6:]):
    b.send(part)
    print("check_msg", c.check_msg(), got)
b.show()

b.send(publish(b"chunk/u", b"x" * 300))
c.wait_msg()
print(got[-1][0], len(got[-1][1]))
print("idle", c.check_msg())
