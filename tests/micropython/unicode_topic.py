# A non-ASCII str topic and payload are sent as UTF-8 and come back intact
# (lengths are byte lengths, not character counts).
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

inbox = Inbox()
c = client("unicode")
c.set_callback(inbox)
c.connect()
t = topic("capteur/température/é")
c.subscribe(t, qos=1)
c.publish(t, "21,5 °C — ok", qos=1)
print("received", wait_until(c, lambda: inbox.msgs))
rt, rm = inbox.msgs[0]
print("topic", rt == t.encode(), rt.decode().endswith("capteur/température/é"))
print("msg", rm.decode())
c.disconnect()
