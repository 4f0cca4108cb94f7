# cmdline: -X heapsize=256K (set by tools/run-mpy-tests.sh for this folder)
# A message far larger than the heap: a 2 MB QoS 1 PUBLISH (from the fake
# broker of tools/broker.py) reaches set_callback(f, chunks=4096) as pieces
# f(topic, chunk, offset, total), never held whole; the sha256 of the pieces
# is the message's; the PUBACK goes out after the last piece (the broker
# then sends "acked"); the heap's high-water mark stays far below the size.
import gc
import hashlib
import sys
import time

sys.path.append(sys.path[0] + "/../support")
from mqtt_test import FAKE_PORT, HOST, RUN
from umqtt_rs import MQTTClient

SIZE = 2 * 1024 * 1024
gc.collect()
print("heap is 256 KB", gc.mem_free() + gc.mem_alloc() <= 256 * 1024)

digest = hashlib.sha256()
state = {"bytes": 0, "pieces": 0, "in_order": True, "total": 0, "high": 0}
small = []


def on_message(topic, msg, *piece):
    if not piece:
        small.append((bytes(topic), bytes(msg)))
        return
    offset, total = piece
    if offset != state["bytes"]:
        state["in_order"] = False
    digest.update(msg)
    state["bytes"] += len(msg)
    state["pieces"] += 1
    state["total"] = total
    state["high"] = max(state["high"], gc.mem_alloc())


c = MQTTClient("bad-bigqos1-%s" % RUN, HOST, port=FAKE_PORT)
c.set_callback(on_message, chunks=4096)
gc.collect()
start = gc.mem_alloc()
c.connect()
t0 = time.ticks_ms()
while not small and time.ticks_diff(time.ticks_ms(), t0) < 20000:
    c.check_msg()
    time.sleep_ms(1)
print("received", state["bytes"], "of", state["total"], "in", state["pieces"], "pieces, in order", state["in_order"])
want = hashlib.sha256()
block = bytes(i * 7 & 0xFF for i in range(256))
for _ in range(SIZE // 256):
    want.update(block)
print("sha256 matches", digest.digest() == want.digest())
print("PUBACK after the last piece", small == [(b"r", b"acked")])
high = state["high"] - start
print("heap high-water over the start under 32 KB", high < 32 * 1024)
c.disconnect()
