# MQTT 5 outgoing topic aliases (topic_aliases=, on by default with
# protocol=5): a topic goes out once with an alias, then as the alias
# alone; the broker's maximum and the map bound them, the least recently
# used topic gives way; a new connection sets them again; topic_aliases=0
# sends none.  On the wire through the fake broker's echo5 (it sends each
# PUBLISH body back, Topic Alias Maximum 2), and end to end through
# mosquitto (its default maximum is 10): a 3.1.1 subscriber gets every
# message with its whole topic.
import sys

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import client, cid, topic, wait_until, HOST, FAKE_PORT, Inbox

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
from umqtt_rs import MQTTClient


def seen(body):
    # The client's PUBLISH body: topic, properties (here at most the Topic
    # Alias), payload.
    n = body[0] << 8 | body[1]
    t, at = body[2 : 2 + n], 2 + n
    plen = body[at]
    props = body[at + 1 : at + 1 + plen]
    alias = props[1] << 8 | props[2] if plen == 3 and props[0] == 0x23 else None
    return (bytes(t), alias, bytes(body[at + 1 + plen :]))


def run(c, topics):
    echoes = []
    c.set_callback(lambda t, m: echoes.append(seen(m)))
    for i, t in enumerate(topics):
        c.publish(t, b"%d" % i)
    wait_until(c, lambda: len(echoes) == len(topics))
    for e in echoes:
        print(e)


c = MQTTClient(cid("echo5"), HOST, FAKE_PORT, protocol=5)
c.connect()
print("broker maximum", c.connack[umqtt_rs.PROP_TOPIC_ALIAS_MAXIMUM])
run(c, ["a/b", "a/b", "c", "d", "a/b", "a/b"])
c.disconnect()
print("new connection")
c.connect()
run(c, ["a/b", "a/b"])
c.disconnect()
print("topic_aliases=0")
c = MQTTClient(cid("echo5-off"), HOST, FAKE_PORT, protocol=5, topic_aliases=0)
c.connect()
run(c, ["a/b", "a/b"])
c.disconnect()
print("a map too small for the topic")
c = MQTTClient(cid("echo5-small"), HOST, FAKE_PORT, protocol=5, topic_aliases=10)
c.connect()
run(c, ["a/b", "a/b", "long/topic", "long/topic"])
c.disconnect()
try:
    MQTTClient("x", HOST, protocol=5, topic_aliases=-1)
except ValueError as e:
    print("ValueError:", e)

# Through mosquitto: QoS 0, 1 and 2, three topics, several rounds.
sub = client("aliases-sub")
inbox = Inbox()
sub.set_callback(inbox)
sub.connect()
sub.subscribe(topic("al/#"), 2)
pub = client("aliases-pub", protocol=5)
pub.connect()
print("mosquitto maximum", pub.connack.get(umqtt_rs.PROP_TOPIC_ALIAS_MAXIMUM))
sent = []
for i in range(12):
    t = topic("al/%d" % (i % 3))
    pub.publish(t, b"m%d" % i, qos=i % 3)
    sent.append((t.encode(), b"m%d" % i))
print("all arrived", wait_until(sub, lambda: len(inbox.msgs) == len(sent)))
print("same topics and payloads", sorted(inbox.msgs) == sorted(sent))
pub.disconnect()
sub.disconnect()
