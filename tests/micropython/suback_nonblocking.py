# In non-blocking mode subscribe() returns the packet id at once; the ack
# callback reports the SUBACK (and UNSUBACK) and suback(pid) gives its return
# codes, once. A refused subscription (the fake broker refuses every filter)
# is MQTTException(0x80) in blocking mode, return code 0x80 here.
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import FAKE_PORT, client, topic
from umqtt_rs import MQTTException


def until_acked(c, acks, pid):
    t0 = time.ticks_ms()
    while pid not in acks and time.ticks_diff(time.ticks_ms(), t0) < 3000:
        c.check_msg()
        time.sleep_ms(1)
    return pid in acks


acks = []
c = client("subnb")
c.set_ack_callback(acks.append)
c.connect()
c.setblocking(False)
pid = c.subscribe([(topic("nb1"), 1), (topic("nb2"), 2)])
print("pid returned", isinstance(pid, int) and pid > 0, "codes before", c.suback(pid))
print("acked", until_acked(c, acks, pid), "codes", c.suback(pid), "again", c.suback(pid))
upid = c.unsubscribe(topic("nb1"))
print("unsuback acked", until_acked(c, acks, upid), "codes", c.suback(upid))
c.setblocking(True)
c.disconnect()

acks = []
f = client("subnb-fake", port=FAKE_PORT)
f.set_ack_callback(acks.append)
f.connect()
try:
    f.subscribe(topic("refused"), 1)
except MQTTException as e:
    print("blocking refused", e.args[0] == 0x80)
f.setblocking(False)
pid = f.subscribe(topic("refused"), 1)
print("non-blocking refused", until_acked(f, acks, pid), f.suback(pid))
f.setblocking(True)
f.disconnect()
