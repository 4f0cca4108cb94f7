# MQTT 5 properties both ways through mosquitto: two clients of ours, one
# publishing with every PUBLISH property a client sends, the other seeing
# them in set_callback(..., props=True); request/response with Response
# Topic and Correlation Data; the CONNACK's properties (client.connack),
# an assigned client identifier, CONNECT and will properties.
import sys

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import client, topic, wait_until, HOST, PORT

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")  # a firmware built without MQTT 5
    raise SystemExit
from umqtt_rs import MQTTClient

got = []
sub = client("v5sub", protocol=5)
sub.set_callback(lambda t, m, p: got.append((t, m, p)), props=True)
sub.connect(props={umqtt_rs.PROP_SESSION_EXPIRY_INTERVAL: 0, umqtt_rs.PROP_USER_PROPERTY: [("who", "sub")]})
print("protocol", sub.protocol)
# mosquitto 2.0.11's CONNACK: its receive maximum and topic alias maximum.
print("connack", sub.connack.get(umqtt_rs.PROP_RECEIVE_MAXIMUM), sub.connack.get(umqtt_rs.PROP_TOPIC_ALIAS_MAXIMUM))
t = topic("props")
sub.subscribe(t, 1)

pub = client("v5pub", protocol=5)
pub.connect()
props = {
    umqtt_rs.PROP_PAYLOAD_FORMAT_INDICATOR: 1,
    umqtt_rs.PROP_MESSAGE_EXPIRY_INTERVAL: 3600,
    umqtt_rs.PROP_CONTENT_TYPE: "text/plain",
    umqtt_rs.PROP_RESPONSE_TOPIC: topic("reply"),
    umqtt_rs.PROP_CORRELATION_DATA: b"\x00\x01id",
    umqtt_rs.PROP_USER_PROPERTY: [("a", "1"), ("b", "2"), ("a", "3")],
}
pub.publish(t, "héllo", qos=1, props=props)
print("received", wait_until(sub, lambda: len(got) == 1))
tp, msg, p = got[0]
print(tp == t.encode(), msg.decode())
print("format", p[umqtt_rs.PROP_PAYLOAD_FORMAT_INDICATOR])
# The broker forwards what is left of the expiry interval.
print("expiry", 3590 <= p[umqtt_rs.PROP_MESSAGE_EXPIRY_INTERVAL] <= 3600)
print("content type", p[umqtt_rs.PROP_CONTENT_TYPE])
print("response topic", p[umqtt_rs.PROP_RESPONSE_TOPIC] == topic("reply"))
print("correlation", p[umqtt_rs.PROP_CORRELATION_DATA])
print("user", p[umqtt_rs.PROP_USER_PROPERTY])

# A message without properties: props is None.
pub.publish(t, b"plain", qos=0)
print("plain", wait_until(sub, lambda: len(got) == 2), got[1][1], got[1][2])

# Request/response: the responder answers on the request's Response Topic
# with its Correlation Data; the requester matches them.
answers = []
pub.set_callback(lambda t, m, p: answers.append((t, m, p)), props=True)
pub.subscribe(topic("reply"), 1)


def respond(t, m, p):
    sub.publish(p[umqtt_rs.PROP_RESPONSE_TOPIC], b"re:" + m, qos=1,
                props={umqtt_rs.PROP_CORRELATION_DATA: p[umqtt_rs.PROP_CORRELATION_DATA]})


sub.set_callback(respond, props=True)
pub.publish(t, b"ping", qos=1, props={umqtt_rs.PROP_RESPONSE_TOPIC: topic("reply"), umqtt_rs.PROP_CORRELATION_DATA: b"r1"})
print("answered", wait_until(sub, lambda: wait_until(pub, lambda: len(answers) == 1, 50)))
print(answers[0][1], answers[0][2][umqtt_rs.PROP_CORRELATION_DATA])

# An empty client id: the broker assigns one (readable in connack).
anon = MQTTClient("", HOST, PORT, protocol=5)
anon.connect()
print("assigned", anon.connack[umqtt_rs.PROP_ASSIGNED_CLIENT_IDENTIFIER].startswith("auto-"))
anon.disconnect()

# Will properties: the will carries its own properties to the subscriber;
# disconnect(reason=4) (Disconnect with Will Message) makes the broker send it.
wills = []
sub.set_callback(lambda t, m, p: wills.append((m, p)), props=True)
sub.subscribe(topic("will"), 1)
w = client("v5will", protocol=5)
w.set_last_will(topic("will"), b"gone", qos=1, props={umqtt_rs.PROP_CONTENT_TYPE: "x/will", umqtt_rs.PROP_USER_PROPERTY: [("w", "1")]})
w.connect()
w.disconnect(reason=4)
print("will", wait_until(sub, lambda: len(wills) == 1), wills[0][0], wills[0][1][umqtt_rs.PROP_CONTENT_TYPE], wills[0][1][umqtt_rs.PROP_USER_PROPERTY])

# Property errors are ValueErrors, nothing sent.
for bad in ({umqtt_rs.PROP_SESSION_EXPIRY_INTERVAL: 1}, {umqtt_rs.PROP_TOPIC_ALIAS: 1}, {umqtt_rs.PROP_PAYLOAD_FORMAT_INDICATOR: 7},
            {umqtt_rs.PROP_USER_PROPERTY: [("only-one",)]}, {umqtt_rs.PROP_CONTENT_TYPE: 5}, "notadict"):
    try:
        pub.publish(t, b"x", props=bad)
        print("sent?")
    except (ValueError, TypeError) as e:
        print(type(e).__name__)
print("still connected", pub.is_connected())
pub.disconnect(props={umqtt_rs.PROP_REASON_STRING: "done", umqtt_rs.PROP_USER_PROPERTY: [("k", "v")]})
sub.disconnect()
