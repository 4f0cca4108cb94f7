# A message the application ignores (no callback set) is still acknowledged
# [MQTT-4.5.0-2]: with QoS 1 and 2 messages arriving and no callback, the
# broker gets every PUBACK/PUBREC/PUBCOMP, so a later message still flows
# (mosquitto stops sending to a client whose 20-message window is unacked).
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until, drain

t = topic("noack")
sub = client("noack-sub")
sub.connect()
sub.subscribe(t, 2)
pub = client("noack-pub")
pub.connect()
for i in range(60):
    pub.publish(t, b"%d" % i, qos=1 + i % 2, wait=False)
print("publisher acked", pub.drain(5))
drain(sub, 2000)  # no callback: dropped, but acked (2 s: an emulated device on a busy host needed more than 0.5)
inbox = Inbox()
sub.set_callback(inbox)
pub.publish(t, b"after", qos=1)
print("still flowing", wait_until(sub, lambda: inbox.msgs), [m for _, m in inbox.msgs])
sub.disconnect()
pub.disconnect()
