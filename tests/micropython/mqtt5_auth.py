# MQTT 5 enhanced authentication against the fake broker's auth5 (method
# CHAL; its challenges are answered by the data reversed): a challenge
# before the CONNACK answered by set_auth_callback's function, reauth()
# with a second challenge and the broker's Success; a wrong answer refused
# (CONNACK 0x87); a challenge nobody answers, or a callback that raises,
# ends the connection; reauth() without a method is a ValueError, and a
# second one under way too; mosquitto refuses a method it lacks (0x8c).
import sys

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import cid, client, HOST, FAKE_PORT

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
from umqtt_rs import MQTTClient, MQTTException

P = umqtt_rs
METHOD = {P.PROP_AUTHENTICATION_METHOD: "CHAL", P.PROP_AUTHENTICATION_DATA: b"hello"}
calls = []


def step(reason, props):
    data = props.get(P.PROP_AUTHENTICATION_DATA)
    calls.append((reason, props.get(P.PROP_AUTHENTICATION_METHOD), data))
    return None if data is None else bytes(reversed(data))


c = MQTTClient(cid("auth5"), HOST, FAKE_PORT, protocol=5)
c.set_auth_callback(step)
print("session present", c.connect(props=METHOD))
print("at connect", calls, c.connack)
del calls[:]
c.reauth(b"again")
print("reauth", calls)
del calls[:]
c.reauth()
print("reauth again", calls, c.is_connected())
# Non-blocking: reauth() returns at once; a second one before the broker's
# Success is refused by the client.
c.setblocking(False)
c.reauth(b"x")
try:
    c.reauth(b"y")
except ValueError as e:
    print("ValueError:", e)
c.setblocking(True)
c.disconnect()

# A wrong answer: the broker refuses the connection.
c = MQTTClient(cid("auth5-wrong"), HOST, FAKE_PORT, protocol=5)
c.set_auth_callback(lambda reason, props: b"no")
try:
    c.connect(props=METHOD)
except MQTTException as e:
    print("wrong answer:", hex(e.args[0]), c.is_connected())

# No callback: the challenge cannot be answered.
c = MQTTClient(cid("auth5-nocb"), HOST, FAKE_PORT, protocol=5)
try:
    c.connect(props=METHOD)
except MQTTException as e:
    print("no callback:", e, c.is_connected())


# A callback that raises: its exception, the connection closed.
def broken(reason, props):
    raise RuntimeError("no key")


c = MQTTClient(cid("auth5-raise"), HOST, FAKE_PORT, protocol=5)
c.set_auth_callback(broken)
try:
    c.connect(props=METHOD)
except RuntimeError as e:
    print("callback raised:", e, c.is_connected())

# reauth() needs the method of connect(props=...).
m = client("auth-none", protocol=5)
m.connect()
try:
    m.reauth(b"x")
except ValueError as e:
    print("ValueError:", e)
m.disconnect()
# mosquitto without an authentication plugin refuses the method: 0x8c.
try:
    m.connect(props=METHOD)
except MQTTException as e:
    print("mosquitto:", hex(e.args[0]), m.is_connected())
