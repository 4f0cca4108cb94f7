# 70,000 QoS 1 publishes on one connection: the 16-bit packet id wraps
# (skipping 0) and every publish is acknowledged; the connection then
# still delivers a message to itself.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

N = 70000
inbox = Inbox()
c = client("many")
c.set_callback(inbox)
c.connect()
bulk = topic("bulk")  # nobody subscribes to it
acked = 0
for i in range(N):
    c.publish(bulk, b"m", qos=1)  # returns once the PUBACK is in
    acked += 1
print("acked", acked)
final = topic("final")
c.subscribe(final, qos=1)
c.publish(final, b"last", qos=1)
print("final", wait_until(c, lambda: inbox.msgs), [m for _, m in inbox.msgs])
c.disconnect()
