# Keepalive pings are automatic: a client with keepalive=2 that only calls
# check_msg() for ~7 s stays connected and still receives a message published
# afterwards. (The broker may drop it after 1.5 x keepalive = 3 s; mosquitto
# 2.0 enforces that late, seen at 3.5-5.7 s, hence 7 s.)
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

t = topic("ka")
inbox = Inbox()
c = client("ka", keepalive=2)
c.set_callback(inbox)
c.connect()
c.subscribe(t)
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < 7000:
    c.check_msg()
    time.sleep_ms(50)

p = client("ka-pub")
p.connect()
p.publish(t, b"still here")
p.disconnect()
print("received", wait_until(c, lambda: inbox.msgs), [m for _, m in inbox.msgs])
c.disconnect()
