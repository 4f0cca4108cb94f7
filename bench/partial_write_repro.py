# partial_write_repro.py: does umqtt_rs send the right bytes when the
# transport takes only part of a write?  (MicroPython; no network.)
#
#   micropython bench/partial_write_repro.py
#
# A stream (io.IOBase) that accepts at most K bytes per write() and answers
# CONNECT with a CONNACK goes to connect(sock=...); then three QoS 0
# publishes, whose packets go out through the client's tx buffer.  What the
# stream received is compared with the expected PUBLISH bytes.  A socket in
# non-blocking mode does the same as this stream when its send buffer is
# nearly full (bench/econnreset_repro.py: mosquitto then closes the
# connection for a malformed packet, and the next write gets ECONNRESET).
import io
import sys

from umqtt_rs import MQTTClient

TOPIC = b"bench/partial"
MSG = b"0123456789abcdef"


class Stream(io.IOBase):
    def __init__(self, k):
        self.k = k
        self.sent = bytearray()
        self.rx = bytearray(b"\x20\x02\x00\x00")  # CONNACK, accepted
        self.record = False

    def write(self, buf):
        n = min(len(buf), self.k)
        if self.record:
            self.sent += bytes(buf[:n])
        return n

    def readinto(self, buf):
        if not self.rx:
            return None  # nothing yet (EAGAIN)
        n = min(len(buf), len(self.rx))
        buf[:n] = self.rx[:n]
        self.rx = self.rx[n:]
        return n

    def ioctl(self, req, arg):
        if req == 3:  # MP_STREAM_POLL: always writable, readable if bytes wait
            return arg & (4 | (1 if self.rx else 0))
        if req == 4:  # MP_STREAM_CLOSE
            return 0
        return -1  # no file descriptor: the client polls through ioctl


def packet(topic, msg):
    body = bytes([len(topic) >> 8, len(topic) & 0xFF]) + topic + msg
    return bytes([0x30, len(body)]) + body


def run(k):
    s = Stream(k)
    c = MQTTClient(b"partial", "unused")
    c.connect(sock=s)
    s.record = True
    for _ in range(3):
        c.publish(TOPIC, MSG)
    want = packet(TOPIC, MSG) * 3
    got = bytes(s.sent)
    ok = got == want
    print("write accepts at most %3d bytes: %s" % (k, "same bytes" if ok else "CORRUPT"))
    if not ok:
        print("  want", want[:40])
        print("  got ", got[:40])
    return ok


results = [run(k) for k in (1000, 33, 7)]
print("RESULT", "ok" if all(results) else "corrupt stream on partial writes")
sys.exit(0 if all(results) else 1)
