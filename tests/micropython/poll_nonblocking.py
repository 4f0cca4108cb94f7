# The client works with select.poll and in non-blocking mode:
# - poll() reports the client readable when a message has arrived;
# - next_timeout() says when the keepalive ping is due, and a loop that only
#   polls the client and calls check_msg() keeps the connection alive;
# - setblocking(False): publish returns the id at once and raises
#   OSError(EAGAIN) when the window is full; wait_msg() never blocks.
import errno
import select
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox

inbox = Inbox()
c = client("poll", keepalive=2)
c.set_callback(inbox)
c.connect()
t = topic("poll")
c.subscribe(t)
p = select.poll()
p.register(c, select.POLLIN)
print("idle poll", p.poll(0))
nt = c.next_timeout()
print("next_timeout within keepalive", nt is not None and 0 <= nt <= 2000)

other = client("poll-pub")
other.connect()
other.publish(t, b"wake")
t0 = time.ticks_ms()
ready = p.poll(2000)
print("readable", len(ready) == 1 and ready[0][0] is c)
c.check_msg()
print("got", [m for _, m in inbox.msgs])

# Idle for 3x the keepalive, waking only for the client or its timer.
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < 6000:
    p.poll(c.next_timeout() or 1000)
    c.check_msg()
other.publish(t, b"still here")
ready = p.poll(2000)
c.check_msg()
print("alive", inbox.msgs[-1][1])

c.setblocking(False)
full = None
ids = []
for i in range(100):
    try:
        ids.append(c.publish(t, b"nb", qos=1))
    except OSError as e:
        full = e.errno == errno.EAGAIN
        break
print("ids returned", len(ids) >= 1, "window full EAGAIN", full)
t0 = time.ticks_ms()
c.wait_msg()
print("wait_msg did not block", time.ticks_diff(time.ticks_ms(), t0) < 100)
c.setblocking(True)
print("drain", c.drain(5))
c.disconnect()
other.disconnect()
