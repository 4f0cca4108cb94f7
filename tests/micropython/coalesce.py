# MQTTClient(..., coalesce=True): publishes that do not wait (QoS 0, and
# wait=False) stay queued and go out several packets per write: when the
# transmit buffer is full, with the next call that waits or reads
# (check_msg, a QoS 1 publish that waits, subscribe...), flush() or
# disconnect().  Nothing is lost or reordered; without coalesce each publish
# is written at once.
import errno
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

t = topic("coalesce")
inbox = Inbox()
sub = client("coalesce-sub")
sub.set_callback(inbox)
sub.connect()
sub.subscribe(t, 1)

pub = client("coalesce-pub", coalesce=True, tx_size=256)
pub.connect()
pub.publish(t, b"q0-1")
print("queued, not written", pub.pending() > 0)
pub.flush()
print("flush() wrote it", pub.pending() == 0)
print("it arrives", wait_until(sub, lambda: len(inbox.msgs) == 1))

# 100 publishes of 40-byte packets through a 256-byte buffer: written when
# the buffer is full, the rest by a QoS 1 publish that waits; in order.
for i in range(100):
    pub.publish(t, b"m%03d" % i + bytes(30))
print("some still queued", 0 < pub.pending() <= 256)
pub.publish(t, b"q1", qos=1)
print("a waiting publish wrote them", pub.pending() == 0)
ok = wait_until(sub, lambda: len(inbox.msgs) == 102)
got = [m[:4] for _, m in inbox.msgs[1:101]]
print("all arrive in order", ok, got == [b"m%03d" % i for i in range(100)], inbox.msgs[101][1])

# wait=False QoS 1 coalesces too; check_msg() writes them; acks come.
for i in range(5):
    pub.publish(t, b"p%d" % i, qos=1, wait=False)
print("pipelined queued", pub.pending() > 0)
print("acked after check_msg", wait_until(pub, lambda: pub.inflight() == 0))
print("arrive", wait_until(sub, lambda: len(inbox.msgs) == 107), [m for _, m in inbox.msgs[102:]])

# disconnect() writes what is queued before its DISCONNECT.
pub.publish(t, b"last")
pub.disconnect()
print("queued before disconnect arrives", wait_until(sub, lambda: len(inbox.msgs) == 108), inbox.msgs[-1][1])

# Without coalesce: written at once.
plain = client("coalesce-plain")
plain.connect()
plain.publish(t, b"x")
print("default writes at once", plain.pending() == 0)
plain.disconnect()
try:
    plain.flush()
except OSError as e:
    print("flush() when not connected: OSError", e.errno == errno.ENOTCONN)
sub.disconnect()
