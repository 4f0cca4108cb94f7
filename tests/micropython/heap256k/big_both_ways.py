# cmdline: -X heapsize=256K (set by tools/run-mpy-tests.sh for this folder)
# A 2 MB message both ways through mosquitto with a 256 KB heap: published
# at QoS 1 from a stream (publish(topic, src, qos=1, length=n): read as it
# goes out, never in memory whole) and received in pieces
# (set_callback(f, chunks=4096)); the sha256 matches on both sides and the
# heap's high-water mark (live memory, sampled every 16 pieces) stays far
# below the message size.
import gc
import hashlib
import io
import sys
import time

sys.path.append(sys.path[0] + "/../support")
from mqtt_test import client, topic

SIZE = 2 * 1024 * 1024
BLOCK = bytes(i * 7 & 0xFF for i in range(256))


class Source(io.IOBase):
    # SIZE bytes of BLOCK repeated, and their sha256 as they are read.
    def __init__(self):
        self.pos = 0
        self.sha = hashlib.sha256()

    def readinto(self, buf):
        n = min(len(buf), SIZE - self.pos, 256 - self.pos % 256)
        buf[:n] = BLOCK[self.pos % 256 : self.pos % 256 + n]
        self.sha.update(memoryview(buf)[:n])
        self.pos += n
        return n


got = {"bytes": 0, "high": 0, "last": False}
sha_in = hashlib.sha256()


def on_message(tp, msg, *piece):
    offset, total = piece
    sha_in.update(msg)
    got["bytes"] += len(msg)
    got["last"] = offset + len(msg) == total
    if offset % (16 * 4096) == 0:
        gc.collect()  # live memory, not the garbage this test makes
        got["high"] = max(got["high"], gc.mem_alloc())


t = topic("both")
sub = client("both-sub")
sub.set_callback(on_message, chunks=4096)
sub.connect()
sub.subscribe(t, qos=1)
pub = client("both-pub", max_packet_size=0)
pub.connect()
gc.collect()
start = gc.mem_alloc()
src = Source()
pub.publish(t, src, qos=1, wait=False, length=SIZE)
t0 = time.ticks_ms()
while (pub.inflight() or not got["last"]) and time.ticks_diff(time.ticks_ms(), t0) < 30000:
    pub.check_msg()
    sub.check_msg()
print("sent", src.pos, "acknowledged", pub.inflight() == 0)
print("received", got["bytes"], "last piece", got["last"])
print("sha256 matches", src.sha.digest() == sha_in.digest())
high = got["high"] - start
print("heap high-water over the start: under %d KB" % next(k for k in (16, 32, 64, 128, 1 << 20) if high < k * 1024))
pub.disconnect()
sub.disconnect()
