# Pipelined QoS 1/2: publish(..., wait=False) returns the packet id at once;
# at most `window` messages are in flight (publish waits for an ack when the
# window is full); the ack callback reports each id once; drain() waits for
# the rest. Every message arrives, in order per topic (one topic per QoS:
# MQTT orders messages of one QoS on one topic).
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

N = 500
inbox = Inbox()
sub = client("pipe-sub")
sub.set_callback(inbox)
sub.connect()
t = topic("pipe")
topics = {1: topic("pipe1"), 2: topic("pipe2")}
sub.subscribe(topics[1], qos=1)
sub.subscribe(topics[2], qos=2)

acked = []
most_inflight = 0
pub = client("pipe-pub", window=4)
pub.set_ack_callback(acked.append)
pub.connect()
ids = []
for i in range(N):
    qos = 1 + i % 2
    ids.append(pub.publish(topics[qos], b"%d" % i, qos=qos, wait=False))
    most_inflight = max(most_inflight, pub.inflight())
print("ids distinct in window", all(ids[i] != ids[i + 1] for i in range(N - 1)))
print("window respected", 1 <= most_inflight <= 4)
print("drain", pub.drain(10))
print("inflight", pub.inflight())
print("acks", len(acked), sorted(acked) == sorted(ids))
print("received", wait_until(sub, lambda: len(inbox.msgs) >= N))
for q in (1, 2):
    got = [int(m) for t_, m in inbox.msgs if t_ == topics[q].encode()]
    print("qos", q, "in order", got == list(range(q - 1, N, 2)))

# QoS 0 with wait=False returns 0; the umqtt.simple form returns None.
print(pub.publish(t, b"q0", wait=False), pub.publish(t, b"q1", qos=1))
pub.disconnect()
sub.disconnect()
