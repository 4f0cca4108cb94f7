# Non-blocking mode never corrupts and never throws for backpressure: a 64 KB
# QoS 1 publish through a transport that takes 500 bytes at a time and says
# "would block" every other write goes out as a tail behind the bytes queued
# before it; check_msg() writes what the transport takes and returns; a
# publish queued meanwhile goes after it.  The subscriber gets both, intact,
# in order.
import errno
import gc
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, client, topic, Inbox, wait_until
from slow_stream import SlowStream

# 64 KB: the payload, then the subscriber's receive buffer and the bytes its
# callback gets, in one process.  A heap that cannot hold that (an
# ESP32-C3's, about 150 KB) sends 16 KB: still 16 times the transmit buffer,
# 33 partial writes.
SIZE = 64 * 1024 if gc.mem_free() > 400_000 else 16 * 1024
payload = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(SIZE))

inbox = Inbox()
sub = client("nbbig-sub", max_packet_size=100_000)
sub.set_callback(inbox)
sub.connect()
t = topic("nbbig")
sub.subscribe(t, qos=1)

pub = client("nbbig-pub", tx_size=1024, max_packet_size=100_000)
slow = SlowStream(HOST, PORT)
pub.connect(sock=slow)
pub.setblocking(False)
pid = pub.publish(t, payload, qos=1)
print("returned at once, bytes pending", pid > 0, pub.pending() > 0)

# A second publish while the tail is pending: queued behind it, or EAGAIN
# (the README's rule) until the transport took enough.
eagain = 0
t0 = time.ticks_ms()
while True:
    try:
        pub.publish(t, b"after", qos=1)
        break
    except OSError as e:
        if e.errno != errno.EAGAIN:
            raise
        eagain += 1
        pub.check_msg()
    if time.ticks_diff(time.ticks_ms(), t0) > 10000:
        print("second publish never queued")
        break
print("second publish queued", eagain >= 0)

errors = 0
t0 = time.ticks_ms()
while (pub.pending() or pub.inflight()) and time.ticks_diff(time.ticks_ms(), t0) < 10000:
    try:
        pub.check_msg()
    except OSError:
        errors += 1
    sub.check_msg()
print("all written and acknowledged", pub.pending() == 0 and pub.inflight() == 0)
print("check_msg raised", errors)
print("the transport said 'would block'", slow.blocked > 10)
print("received", wait_until(sub, lambda: len(inbox.msgs) == 2, 5000))
msgs = [m for _, m in inbox.msgs]
print("intact and in order", len(msgs) == 2 and msgs[0] == payload and msgs[1] == b"after")
pub.disconnect()
sub.disconnect()
