# RobustClient(..., session_file=path): the subscriptions are kept with the
# session, so a client made again from the file (a new process after deep
# sleep or a power cut) knows them, and renews them when the broker lost the
# session (session_present=0).
import os
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import cid, client, topic, HOST, PORT, Inbox, wait_until
from umqtt_rs_robust import RobustClient

F = "/tmp/umqtt_rs_robust_session_test.ses"
for name in (F, F + ".tmp"):
    try:
        os.remove(name)
    except OSError:
        pass
t = topic("robust-ses")
name = cid("robust-ses")
c = RobustClient(name, HOST, port=PORT, session_file=F)
c.connect()
c.subscribe(t, 1)
print("subscribed", c.subscriptions() == {t.encode(): 1})
c.disconnect()
del c

# The broker loses the session (a clean connect with the same id).
from umqtt_rs import MQTTClient

MQTTClient(name, HOST, port=PORT).connect(clean_session=True)

inbox = Inbox()
c = RobustClient(name, HOST, port=PORT, session_file=F)
c.set_callback(inbox)
print("restored", c.subscriptions() == {t.encode(): 1})
print("session present", c.connect())
p = client("robust-ses-pub")
p.connect()
p.publish(t, b"after the restore", qos=1)
print("received", wait_until(c, lambda: inbox.msgs, 5000), inbox.msgs == [(t.encode(), b"after the restore")])
c.unsubscribe(t)
c.disconnect()
print("kept after unsubscribe", RobustClient(name, HOST, port=PORT, session_file=F).subscriptions())
p.disconnect()
os.remove(F)
