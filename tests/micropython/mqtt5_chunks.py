# MQTT 5 messages larger than the chunk size (set_callback(f, chunks=N,
# props=True)): each piece's call has the message's properties, at QoS 0,
# 1 and 2 through mosquitto, with a receive buffer smaller than one
# message; a message whose topic came as a topic alias alone (the fake
# broker) names its topic on every piece; without props=True the calls
# are f(topic, chunk, offset, total) as in 3.1.1.
import sys

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import client, cid, topic, wait_until, HOST, FAKE_PORT

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
from umqtt_rs import MQTTClient

P = umqtt_rs
SIZE = 10000
payload = bytes((i * 31 + (i >> 7)) & 0xFF for i in range(SIZE))
PROPS = {P.PROP_CONTENT_TYPE: "application/x-big", P.PROP_USER_PROPERTY: [("k", "v")]}

pieces = []


def on_piece(t, chunk, offset, total, props):
    pieces.append((bytes(t), bytes(chunk), offset, total, props))


sub = client("v5chunks", protocol=5, rx_size=1500)
sub.set_callback(on_piece, chunks=1000, props=True)
sub.connect()
t = topic("chunks5")
sub.subscribe(t, 2)
pub = client("v5chunks-pub", protocol=5, tx_size=16000)
pub.connect()
for qos in (0, 1, 2):
    del pieces[:]
    pub.publish(t, payload, qos=qos, props=PROPS)
    wait_until(sub, lambda: pieces and pieces[-1][2] + len(pieces[-1][1]) == SIZE, 5000)
    print(
        "qos", qos, len(pieces), "pieces",
        b"".join(p[1] for p in pieces) == payload,
        all(p[0] == t.encode() and p[3] == SIZE and p[4] == PROPS for p in pieces),
    )
# A small message comes whole, as f(topic, msg, props).
sub.set_callback(lambda tp, m, p: pieces.append((m, p)), chunks=1000, props=True)
del pieces[:]
pub.publish(t, b"small", qos=1, props=PROPS)
wait_until(sub, lambda: pieces, 5000)
print("small", pieces == [(b"small", PROPS)])
pub.disconnect()
sub.disconnect()

# Topic alias alone: every piece names the topic.
del pieces[:]
a = MQTTClient(cid("aliasbig5"), HOST, FAKE_PORT, protocol=5, rx_size=1200)
a.set_callback(on_piece, chunks=1000, props=True)
a.connect(props={P.PROP_TOPIC_ALIAS_MAXIMUM: 4})
wait_until(a, lambda: len(pieces) >= 6, 5000)
print("aliased", [(p[0], p[1][:1], p[2]) for p in pieces])
a.disconnect()
