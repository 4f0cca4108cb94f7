# set_callback + subscribe + publish to self, received by wait_msg and by
# check_msg; unsubscribe stops delivery.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

inbox = Inbox()
c = client("pubsub")
c.set_callback(inbox)
c.connect()
t = topic("a")
marker = topic("marker")
c.subscribe(t)
c.subscribe(marker)

c.publish(t, b"one")
while not inbox.msgs:
    c.wait_msg()  # blocks until the message (or a stray PINGRESP) is handled
print("wait_msg", inbox.msgs[0] == (t.encode(), b"one"))

c.publish(t, b"two")
print("check_msg", wait_until(c, lambda: len(inbox.msgs) == 2), inbox.msgs[1][1])

c.unsubscribe(t)
# The marker is published after the unsubscribed topic on the same
# connection, so once it has arrived the other one would have too.
c.publish(t, b"three")
c.publish(marker, b"end")
print("marker", wait_until(c, lambda: inbox.msgs[-1][0] == marker.encode()))
print("after unsubscribe", [m for _, m in inbox.msgs])
c.disconnect()
