# Deep sleep: the session survives as bytes.  A client with QoS 1 and 2
# messages in flight (one past its PUBREC) and a held incoming QoS 2 id saves
# session_bytes(); a new client object made from them (what a new process
# after deep sleep or a power cut has) resends, at its clean_session=False
# connect, the PUBLISH with DUP and its original id and the PUBREL, and does
# not deliver the held id's resend again.  Damaged bytes raise ValueError.
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker, ack, publish
from umqtt_rs import MQTTClient

got = []
b = Broker(acks=False)
c = MQTTClient("sleepy", "scripted")
c.set_callback(lambda t, m: got.append(m))
c.connect(sock=b)
b.take()
p1 = c.publish(b"t", b"one", qos=1, wait=False)
p2 = c.publish(b"t", b"two", qos=2, wait=False)
b.send(ack("PUBREC", p2))
b.send(publish(b"in", b"held", qos=2, pid=9))
c.check_msg()
b.show()
print("got", got, "in flight", c.inflight())
saved = c.session_bytes()
print("saved", len(saved), "bytes")
print("empty session", len(MQTTClient("other", "scripted").session_bytes()), "bytes")
del c

c = MQTTClient("sleepy", "scripted", session=saved)
c.set_callback(lambda t, m: got.append(m))
print("restored, in flight", c.inflight())
b = Broker(session_present=1, acks=False)
print("session present", c.connect(clean_session=False, sock=b))
b.show()
b.send(publish(b"in", b"held", qos=2, pid=9, dup=True))
b.send(ack("PUBACK", p1), ack("PUBCOMP", p2))
c.check_msg()
b.show()
print("got", got, "in flight", c.inflight())
print("ids go on", c.publish(b"t", b"three", qos=1, wait=False) == p2 + 1)

for bad in (saved[:-1], saved[:8] + b"\x00" + saved[9:], b"not a session"):
    try:
        MQTTClient("x", "scripted", session=bad)
    except ValueError as e:
        print("ValueError:", e)
