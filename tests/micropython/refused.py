# A refused CONNACK raises MQTTException whose args[0] is the return code.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import FAKE_PORT, client
from umqtt_rs import MQTTException

for code in (5, 1, 2):
    c = client("refuse-%d" % code, port=FAKE_PORT)
    try:
        c.connect()
        print("connected")
    except MQTTException as e:
        print("refused", e.args[0])
    try:
        c.sock.close()
    except Exception:
        pass

# the same fake broker accepts other ids and answers pings
c = client("fake-ok", port=FAKE_PORT)
print("accepted", c.connect())
c.ping()
print("pingresp", c.wait_msg())
c.disconnect()
