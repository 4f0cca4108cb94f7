# The broker publishes the last will when a client drops without DISCONNECT.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

will = topic("status")
inbox = Inbox()
b = client("will-watch")
b.set_callback(inbox)
b.connect()
b.subscribe(will, qos=1)

a = client("will-dies")
a.set_last_will(will, "offline", retain=False, qos=1)
a.connect()
a.sock.close()  # drop the TCP connection: no DISCONNECT is sent

print("will", wait_until(b, lambda: inbox.msgs), [m for _, m in inbox.msgs])
print("topic", inbox.msgs[0][0] == will.encode())
b.disconnect()
