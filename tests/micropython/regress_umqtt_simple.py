# Regressions for the umqtt.simple bugs of issue 6 not covered elsewhere
# (many_qos1: ids past 65,535; unicode_topic: non-ASCII str topics;
# smallheap/big_incoming: a message larger than the free heap):
# - a topic the broker would reject (not UTF-8, U+0000, a wildcard in a
#   publish or will topic, a bad QoS) raises ValueError before anything is
#   sent, instead of returning while the broker drops the connection;
# - an incoming QoS 2 message through wait_msg() reaches the callback once
#   and wait_msg() returns normally (umqtt.simple: AssertionError).
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until, drain

inbox = Inbox()
c = client("regress")
c.set_callback(inbox)
c.connect()
ok = topic("ok")
c.subscribe(ok, qos=2)
cases = (
    ("publish non-UTF-8 bytes", lambda: c.publish(b"a/\xff\xfe", b"x")),
    ("publish truncated UTF-8", lambda: c.publish(b"a/\xc3", b"x")),
    ("publish U+0000", lambda: c.publish("a/\x00b", b"x")),
    ("publish qos 3", lambda: c.publish(ok, b"x", qos=3)),
    ("subscribe non-UTF-8", lambda: c.subscribe(b"\xc3\x28")),
    ("subscribe U+0000", lambda: c.subscribe("a\x00")),
    ("subscribe qos 3", lambda: c.subscribe(ok, qos=3)),
    ("unsubscribe 'a/#/b'", lambda: c.unsubscribe("a/#/b")),
)
for name, op in cases:
    try:
        op()
        print(name, "accepted")
    except ValueError as e:
        print(name, "ValueError")
p = client("regress-pub")
p.connect()
p.publish(ok, b"qos2 once", qos=2)
c.wait_msg()  # the PUBLISH: delivered, no AssertionError
drain(c)  # the PUBREL
print("received", inbox.msgs == [(ok.encode(), b"qos2 once")], "connected", c.sock is not None)
p.disconnect()
c.disconnect()

# A will topic with a wildcard is refused at connect(), before any byte.
w = client("regress-will")
w.set_last_will("a/+", b"gone")
try:
    w.connect()
    print("will accepted")
except ValueError:
    print("will ValueError", w.sock is None)

# Client id rules [MQTT-3.1.3-4, MQTT-3.1.3-7]: not UTF-8, or empty without
# clean session, is refused at connect() before any socket is opened.
from mqtt_test import HOST, PORT
from umqtt_rs import MQTTClient

for cid, clean in ((b"\xff\xfe", True), ("", False)):
    k = MQTTClient(cid, HOST, port=PORT)
    try:
        k.connect(clean_session=clean)
        print("client id accepted")
    except ValueError:
        print("client id ValueError", k.sock is None)
k = MQTTClient("", HOST, port=PORT)
print("empty id with clean session", k.connect(clean_session=True))
k.disconnect()
