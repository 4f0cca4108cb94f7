# MQTT 5 reason codes reach the application (UNSUBACK's too: a failure
# raises, suback(pid) gives them in non-blocking mode): a PUBACK/PUBREC refusing a
# publish (mosquitto's ACL: 0x87 Not authorized) raises MQTTException(code)
# from a blocking publish, reaches set_ack_callback(f, reason=True) in
# non-blocking mode, or raises from check_msg without one; SUBACK failure
# codes, a refusing CONNACK and a server DISCONNECT (with its reason
# string) from the fake broker (mosquitto 2.0.11 closes a taken-over
# connection without a DISCONNECT); the
# broker's limits (maximum QoS, retain, maximum packet size) refused with
# ValueError before anything is sent.
import sys

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import client, cid, wait_until, HOST, PORT, FAKE_PORT

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
from umqtt_rs import MQTTClient, MQTTException

# The ACL lets user umqtt_rs_acl publish to umqtt_rs/acl/ok/# only.
c = client("v5acl", user="umqtt_rs_acl", protocol=5)
c.connect()
for qos in (1, 2):
    try:
        c.publish("umqtt_rs/acl/denied", b"x", qos=qos)
        print("published?")
    except MQTTException as e:
        print("qos", qos, "refused", hex(e.args[0]), c.is_connected(), c.inflight())
c.publish("umqtt_rs/acl/ok/t", b"x", qos=1)
print("allowed ok")

# Pipelined: the ack callback gets (pid, code).
acks = []
c.set_ack_callback(lambda pid, code: acks.append((pid, code)), reason=True)
p1 = c.publish("umqtt_rs/acl/denied", b"x", qos=1, wait=False)
p2 = c.publish("umqtt_rs/acl/ok/t", b"x", qos=1, wait=False)
print("drained", c.drain(5))
print("acks", sorted(acks) == sorted([(p1, 0x87), (p2, 0)]))
# Without a reason callback a refusal met by check_msg raises.
c.set_ack_callback(None)
c.setblocking(False)
c.publish("umqtt_rs/acl/denied", b"x", qos=1)
try:
    wait_until(c, lambda: False, 2000)
    print("no refusal?")
except MQTTException as e:
    print("check_msg", hex(e.args[0]), c.is_connected())
c.setblocking(True)
c.disconnect()

# The fake broker's MQTT 5 limits and refusals.
f = MQTTClient(cid("lim5"), HOST, FAKE_PORT, protocol=5)
f.connect()
print("maximum qos", f.connack[umqtt_rs.PROP_MAXIMUM_QOS], "packet", f.connack[umqtt_rs.PROP_MAXIMUM_PACKET_SIZE])
for kw in (dict(qos=1), dict(qos=2), dict(retain=True), dict(msg=b"x" * 100)):
    try:
        f.publish("t", kw.pop("msg", b"x"), **kw)
        print("sent?")
    except ValueError as e:
        print("ValueError:", e)
print("connected", f.is_connected(), f.pending())
try:
    f.subscribe("a/b", 0)
except MQTTException as e:
    print("suback", hex(e.args[0]))
try:
    f.unsubscribe("a/b")
    print("unsubscribed?")
except MQTTException as e:
    print("unsuback", hex(e.args[0]), f.is_connected())
# Non-blocking: suback(pid) gives the UNSUBACK's codes.
f.setblocking(False)
pid = f.unsubscribe(["a/b", "c"])
wait_until(f, lambda: False, 300)
print("unsuback codes", f.suback(pid))
f.setblocking(True)
f.disconnect()

# mosquitto: UNSUBACK 0x11 (No subscription existed) is no failure.
c = client("v5unsub", protocol=5)
c.connect()
c.setblocking(False)
pid = c.unsubscribe("never/subscribed")
wait_until(c, lambda: False, 300)
print("mosquitto unsuback", c.suback(pid))
c.setblocking(True)
c.unsubscribe("never/subscribed")
print("no exception for 0x11")
c.disconnect()
for name in ("refuse5", "kick5"):
    f = MQTTClient(cid(name), HOST, FAKE_PORT, protocol=5)
    try:
        f.connect()
        f.wait_msg()
        print("no exception?")
    except MQTTException as e:
        print(name, hex(e.args[0]), e.args[1], f.is_connected())
