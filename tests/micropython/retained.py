# A retained message is delivered to a client that subscribes later.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

t = topic("retained")
p = client("ret-pub")
p.connect()
p.publish(t, b"kept", retain=True, qos=1)

inbox = Inbox()
s = client("ret-sub")
s.set_callback(inbox)
s.connect()
s.subscribe(t, qos=1)
print("received", wait_until(s, lambda: inbox.msgs), inbox.msgs[0][1])
s.disconnect()

# clear it: an empty retained message deletes the broker's copy
p.publish(t, b"", retain=True, qos=1)
p.disconnect()
