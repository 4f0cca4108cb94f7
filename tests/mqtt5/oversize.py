#!/usr/bin/python3
"""MQTT 5 reason code 0x95 (Packet too large) from a real broker.

mosquitto 2.0.11 with ``message_size_limit`` does not announce the limit in
its CONNACK (so the client cannot refuse before sending); it answers a
larger QoS 1/2 PUBLISH with PUBACK/PUBREC 0x95 and drops a larger QoS 0
one.  0x95 is not among the codes MQTT 5 lists for PUBACK/PUBREC, yet it
says what failed: the client must take it as that message's failure and
keep the connection (before stop 11 it closed it as a malformed packet).

    /usr/bin/python3 tests/mqtt5/oversize.py build/unix-mqtt5/micropython

Exit status 0 when the firmware's output is the expected one.
"""

import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from broker import Broker  # noqa: E402

TIMEOUT = 30
LIMIT = 100

SCRIPT = """
import os, umqtt_rs
from umqtt_rs import MQTTClient, MQTTException
HOST, PORT = os.getenv("MQTT_HOST"), int(os.getenv("MQTT_PORT"))
got = []
c = MQTTClient("big5", HOST, PORT, protocol=5)
c.set_callback(lambda t, m: got.append(len(m)))
c.connect()
print("limit announced", umqtt_rs.PROP_MAXIMUM_PACKET_SIZE in (c.connack or {}))
c.subscribe("big/#", 1)
# Blocking publish: MQTTException(0x95); the connection stays up.
for qos in (1, 2):
    try:
        c.publish("big/t", b"x" * 200, qos=qos)
        print("qos", qos, "published?")
    except MQTTException as e:
        print("qos", qos, "refused", hex(e.args[0]), c.is_connected(), c.inflight())
# QoS 0: dropped by the broker, nothing to say.
c.publish("big/t", b"x" * 200)
# Pipelined: the ack callback gets the code per message.
acks = []
c.set_ack_callback(lambda pid, code: acks.append((pid, code)), reason=True)
p1 = c.publish("big/t", b"y" * 300, qos=1, wait=False)
p2 = c.publish("big/t", b"small", qos=1, wait=False)
p3 = c.publish("big/t", b"z" * 150, qos=2, wait=False)
print("drained", c.drain(10))
print("acks", sorted(acks) == sorted([(p1, 0x95), (p2, 0), (p3, 0x95)]))
while not got:
    c.wait_msg()
print("delivered", got, c.is_connected())
c.disconnect()
"""

EXPECTED = """limit announced False
qos 1 refused 0x95 True 0
qos 2 refused 0x95 True 0
drained True
acks True
delivered [5] True
"""


def main():
    firmware = os.path.abspath(sys.argv[1])
    with Broker(tls=False, config=("message_size_limit %d" % LIMIT,)) as b:
        with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
            f.write(SCRIPT)
        env = dict(os.environ)
        env.update(b.env)
        try:
            r = subprocess.run([firmware, f.name], env=env, capture_output=True, text=True, timeout=TIMEOUT)
        finally:
            os.unlink(f.name)
    if r.returncode != 0 or r.stdout != EXPECTED:
        print("oversize: FAILED\n--- got\n%s%s--- expected\n%s" % (r.stdout, r.stderr, EXPECTED))
        return 1
    print("oversize (PUBACK/PUBREC 0x95 from mosquitto): ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
