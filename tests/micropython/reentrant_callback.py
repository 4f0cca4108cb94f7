# A message callback may call back into the client that called it: each
# method either works or raises a clear error, and the outer call goes on
# (nothing freed under it, nothing acknowledged twice or lost).  Messages
# that arrive meanwhile are kept and delivered, in order, once the callback
# returned: callbacks never nest.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until, drain

t = topic("reent")
t_reply = topic("reent-reply")
t_new = topic("reent-new")
c = client("reent", rx_size=64)
log = []
replies = Inbox()
depth = [0, 0]  # now, most


def cb(tp, m):
    depth[0] += 1
    depth[1] = max(depth)
    try:
        react(bytes(m))
    finally:
        depth[0] -= 1


def react(m):
    log.append(m)
    if m == b"publish":
        # QoS 1 with wait: messages arriving meanwhile are delivered
        # (nested) before the PUBACK.
        c.publish(t_reply, b"reply to " + m, qos=1)
    elif m == b"subscribe":
        c.subscribe(t_new, qos=1, cb=lambda tp, m: log.append(b"new:" + bytes(m)))
    elif m == b"unsubscribe":
        c.unsubscribe(t_new)
    elif m == b"check_msg":
        c.check_msg()
    elif m == b"wait_msg":
        c.wait_msg()
    elif m == b"ping":
        c.ping()
    elif m == b"disconnect":
        c.disconnect()


c.set_callback(cb)
c.connect()
c.subscribe(t, qos=1)
c.subscribe(t_reply, qos=1, cb=replies)
pub = client("reent-pub")
pub.connect()
for m in (b"publish", b"subscribe", b"unsubscribe", b"check_msg", b"wait_msg", b"ping", b"x" * 100, b"last"):
    pub.publish(t, m, qos=1)
print("delivered", wait_until(c, lambda: b"last" in log))
print("order", log[:8])
print("reply", wait_until(c, lambda: replies.msgs) and replies.msgs[0][1])
print("never nested", depth[1] == 1)
pub.publish(t_new, b"via filter", qos=1)
drain(c, 300)
print("unsubscribed before it", b"new:via filter" not in log)

# disconnect() from a callback: the outer check_msg() returns quietly.
pub.publish(t, b"disconnect", qos=1)
wait_until(c, lambda: c.sock is None)
print("disconnected", c.sock is None, c.is_connected())
c.connect()
c.subscribe(t, qos=1)
pub.publish(t, b"back", qos=1)
print("works again", wait_until(c, lambda: b"back" in log))
# Nothing was acknowledged twice or left behind: an idle drain brings nothing.
n = len(log)
drain(c, 300)
print("no duplicates", len(log) == n, log.count(b"publish"), log.count(b"last"))
c.disconnect()
pub.disconnect()
