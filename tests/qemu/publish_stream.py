# publish(topic, src, qos=..., length=n): the payload is read from a stream
# as it goes out (here 300 bytes through a 64-byte tx buffer), after the
# header, in order; a source that ends before `length` raises ValueError and
# closes the connection (the packet cannot be finished); a QoS 1 streamed
# message is not resent after a reconnect (it is not stored).
import io
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker
from umqtt_rs import MQTTClient

payload = bytes(range(256)) + bytes(range(44))
b = Broker(wlimit=50, acks=False)
c = MQTTClient("streamer", "scripted", tx_size=64)
c.connect(sock=b)
b.take()
c.publish(b"s", io.BytesIO(payload), qos=1, length=len(payload), wait=False)
p = b.take()
print(len(p), "packet:", p[0][:8], "payload intact", p[0][8:] == payload)
print("in flight", c.inflight())

try:
    c.publish(b"s", io.BytesIO(b"short"), length=10)
except ValueError as e:
    print("ValueError:", e)
print("closed", c.sock is None)

b = Broker(acks=False, session_present=1)
c.connect(sock=b, clean_session=False)
print("after reconnect", [q[0] for q in b.take()], "in flight", c.inflight())
