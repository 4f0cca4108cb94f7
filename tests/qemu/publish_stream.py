# publish(topic, src, qos=..., length=n): the payload is read from a stream
# as it goes out (here 300 bytes through a 64-byte tx buffer), after the
# header, in order; a source that ends before `length` raises ValueError and
# closes the connection (the packet cannot be finished).  A QoS 1/2 message
# from a seekable source is resent after a reconnect (DUP set, the payload
# read again from where it started); one from a source without seek() is not
# (it is not stored); a source whose seek() fails on the resend closes the
# connection with that error.  A Python subclass of a built-in stream is
# read through its built-in part (MicroPython's C stream calls would crash
# on the instance), also when its __init__ does not call super().__init__.
import io
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker
from umqtt_rs import MQTTClient

payload = bytes(range(256)) + bytes(range(44))


class OneWay(io.IOBase):
    # A source without seek(), like a socket or a sensor.
    def __init__(self, data):
        self.data = data

    def readinto(self, buf):
        n = min(len(buf), len(self.data))
        buf[:n] = self.data[:n]
        self.data = self.data[n:]
        return n


class SeekOnce(OneWay):
    # seek() answers where it is, then fails.
    def seek(self, *a):
        if getattr(self, "sought", False):
            raise OSError(5)
        self.sought = True
        return 0


def show(b):
    for p in b.take():
        if p[0] >> 4 == 3:
            print(hex(p[0]), "payload intact", p[8:] == payload)
        else:
            print(hex(p[0]))


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

# The source read from a middle position: the resend starts there again.
src = io.BytesIO(b"ignored-" + payload)
src.read(8)
b = Broker(acks=False, session_present=1)
c.connect(sock=b, clean_session=False)
c.publish(b"s", src, qos=2, length=len(payload), wait=False)
c.publish(b"s", OneWay(payload), qos=1, length=len(payload), wait=False)
print("resent after reconnect, then two new:")
show(b)
print("in flight", c.inflight())

b = Broker(session_present=1)
c.connect(sock=b, clean_session=False)
for _ in range(4):
    c.check_msg()
print("second reconnect, acknowledged:")
show(b)
print("in flight", c.inflight())

# A clean session forgets them all; a failing seek() closes the connection.
c.connect(sock=Broker(acks=False))
c.publish(b"s", SeekOnce(payload), qos=1, length=len(payload), wait=False)
try:
    c.connect(sock=Broker(session_present=1), clean_session=False)
except OSError as e:
    print("OSError", e.errno, "closed", c.sock is None)
b = Broker(session_present=1)
c.connect(sock=b, clean_session=True)
c.check_msg()
show(b)
print("in flight", c.inflight())

class Sub(io.BytesIO):
    pass


class Own(io.BytesIO):
    def __init__(self, data):
        self.data = data


b = Broker()
c.connect(sock=b)
c.publish(b"s", Sub(payload), qos=1, length=len(payload))
show(b)
c.publish(b"s", Own(payload), qos=1, length=len(payload))
show(b)
print("in flight", c.inflight())
