# QoS 0 and 1: subscribe at each QoS, publish at each QoS, every message
# arrives exactly once.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until, drain

LEVELS = (0, 1)
inbox = Inbox()
c = client("qos01")
c.set_callback(inbox)
c.connect()
for sq in LEVELS:
    c.subscribe(topic("sub%d" % sq), qos=sq)
expected = []
for sq in LEVELS:
    for pq in LEVELS:
        msg = "s%d-p%d" % (sq, pq)
        c.publish(topic("sub%d" % sq), msg, qos=pq)
        expected.append(msg.encode())
print("all", wait_until(c, lambda: len(inbox.msgs) >= len(expected)))
drain(c)  # a duplicate would show up here
print("received", sorted(m for _, m in inbox.msgs))
print("once each", sorted(m for _, m in inbox.msgs) == sorted(expected))
c.disconnect()
