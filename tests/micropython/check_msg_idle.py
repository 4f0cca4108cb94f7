# check_msg() returns None at once when nothing is pending.
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox

inbox = Inbox()
c = client("idle")
c.set_callback(inbox)
c.connect()
c.subscribe(topic("idle"))
t0 = time.ticks_ms()
r = c.check_msg()
dt = time.ticks_diff(time.ticks_ms(), t0)
print("result", r)
print("fast", dt < 50)
print("nothing delivered", inbox.msgs == [])
c.disconnect()
