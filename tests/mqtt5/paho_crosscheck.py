#!/usr/bin/python3
"""MQTT 5 cross-check with an independent implementation: paho-mqtt
(Debian's python3-paho-mqtt, MQTTv5) and umqtt_rs exchange PUBLISH
properties through a private mosquitto, and each must see exactly what
the other sent: user properties (repeated names, order kept), content
type, response topic, correlation data, payload format indicator, message
expiry (what is left of it).

    /usr/bin/python3 tests/mqtt5/paho_crosscheck.py build/unix-mqtt5/micropython

Exit status 0 when both sides agree; the firmware must have MQTT 5.
"""

import os
import subprocess
import sys
import tempfile
import threading

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
from broker import Broker  # noqa: E402

import paho.mqtt.client as paho  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

TIMEOUT = 20

# What umqtt_rs sends (PROP_* are the identifiers, as in the module).
OURS = """
import os, sys, umqtt_rs
from umqtt_rs import MQTTClient, MQTTException
P = umqtt_rs
got = []
c = MQTTClient("ours-x", os.getenv("MQTT_HOST"), int(os.getenv("MQTT_PORT")), protocol=5, keepalive=30)
c.set_callback(lambda t, m, p: got.append((t, m, p)), props=True)
c.connect()
c.subscribe("x/from_paho", 1)
c.publish("x/to_paho", "héllo", qos=1, props={
    P.PROP_PAYLOAD_FORMAT_INDICATOR: 1,
    P.PROP_MESSAGE_EXPIRY_INTERVAL: 600,
    P.PROP_CONTENT_TYPE: "text/plain",
    P.PROP_RESPONSE_TOPIC: "x/from_paho",
    P.PROP_CORRELATION_DATA: b"\\x00cid",
    P.PROP_USER_PROPERTY: [("k", "1"), ("k", "2"), ("z", "é")],
})
while not got:
    c.wait_msg()
t, m, p = got[0]
print(repr((t, m, sorted(p.items()))))
"""


def main():
    firmware = os.path.abspath(sys.argv[1])
    with Broker(tls=False) as b:
        seen = {}
        done = threading.Event()
        subscribed = threading.Event()

        def on_connect(cl, userdata, flags, rc, props=None):
            cl.subscribe("x/to_paho", qos=1)

        def on_subscribe(cl, userdata, mid, rcs, props=None):
            subscribed.set()

        def on_message(cl, userdata, msg):
            p = msg.properties
            seen["payload"] = msg.payload
            seen["format"] = getattr(p, "PayloadFormatIndicator", None)
            seen["expiry"] = getattr(p, "MessageExpiryInterval", None)
            seen["content"] = getattr(p, "ContentType", None)
            seen["response"] = getattr(p, "ResponseTopic", None)
            seen["correlation"] = getattr(p, "CorrelationData", None)
            seen["user"] = getattr(p, "UserProperty", None)
            # The answer, with paho's own properties, to the response topic.
            out = Properties(PacketTypes.PUBLISH)
            out.ContentType = "application/x-paho"
            out.CorrelationData = p.CorrelationData
            out.UserProperty = [("from", "paho"), ("n", "1")]
            out.PayloadFormatIndicator = 0
            cl.publish(p.ResponseTopic, b"\x01answer", qos=1, properties=out)
            done.set()

        cl = paho.Client(client_id="paho-x", protocol=paho.MQTTv5)
        cl.on_connect, cl.on_subscribe, cl.on_message = on_connect, on_subscribe, on_message
        cl.connect(b.host, b.port, keepalive=30)
        cl.loop_start()
        try:
            if not subscribed.wait(TIMEOUT):
                print("paho did not subscribe")
                return 1
            with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
                f.write(OURS)
            env = dict(os.environ)
            env.update(b.env)
            r = subprocess.run([firmware, f.name], env=env, capture_output=True, text=True, timeout=TIMEOUT)
            os.unlink(f.name)
            if r.returncode != 0 or not done.is_set():
                print("umqtt_rs side failed:", r.stdout, r.stderr)
                return 1
        finally:
            cl.loop_stop()
            cl.disconnect()

        # What paho saw of ours.
        want = {
            "payload": "héllo".encode(),
            "format": 1,
            "content": "text/plain",
            "response": "x/from_paho",
            "correlation": b"\x00cid",
            "user": [("k", "1"), ("k", "2"), ("z", "é")],
        }
        ok = True
        for k, v in want.items():
            if seen.get(k) != v:
                print("paho saw %s = %r, sent %r" % (k, seen.get(k), v))
                ok = False
        if not (seen.get("expiry") and 590 <= seen["expiry"] <= 600):
            print("paho saw message expiry %r, sent 600" % seen.get("expiry"))
            ok = False
        # What we saw of paho's.
        t, m, props = eval(r.stdout.strip())
        props = dict(props)
        ours_want = {
            0x03: "application/x-paho",
            0x09: b"\x00cid",
            0x26: [("from", "paho"), ("n", "1")],
            0x01: 0,
        }
        if (t, m) != (b"x/from_paho", b"\x01answer"):
            print("umqtt_rs got %r %r" % (t, m))
            ok = False
        for k, v in ours_want.items():
            if props.get(k) != v:
                print("umqtt_rs saw property 0x%02x = %r, paho sent %r" % (k, props.get(k), v))
                ok = False
        print("paho cross-check:", "ok" if ok else "FAILED")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
