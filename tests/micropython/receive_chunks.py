# set_callback(f, chunks=N) against mosquitto: a 10 KB QoS 1 message comes
# as f(topic, chunk, offset, total) pieces of at most N bytes while small
# messages still come whole as f(topic, msg); a callback that publishes (and
# waits) meanwhile gets the pieces that arrived in between afterwards, in
# order; a piece whose callback raises abandons the message (the rest is
# dropped, nothing acknowledged) and the broker sends it whole again after
# a clean_session=False reconnect.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, wait_until, drain

t_big, t_small, t_reply = topic("chunks-big"), topic("chunks-small"), topic("chunks-reply")
big = bytes((i * 13) & 0xFF for i in range(10 * 1024))
log = []
state = {"raise_at": None, "reply": True}


def cb(tp, msg, *piece):
    if not piece:
        log.append(("whole", bytes(msg)))
        return
    offset, total = piece
    if offset == state["raise_at"]:
        state["raise_at"] = None
        raise ValueError("no room for piece at %d" % offset)
    log.append(("piece", offset, total, bytes(msg)))
    if offset == 0 and state["reply"]:
        state["reply"] = False
        c.publish(t_reply, b"ack", qos=1)  # waits: later pieces are kept


c = client("chunks")
c.connect(clean_session=True)
c.disconnect()
c.connect(clean_session=False)
c.set_callback(cb, chunks=3000)
c.subscribe(t_big, qos=1)
c.subscribe(t_small, qos=1)
pub = client("chunks-pub", max_packet_size=100_000)
pub.connect()
pub.publish(t_small, b"small", qos=1)
pub.publish(t_big, big, qos=1)
wait_until(c, lambda: sum(1 for e in log if e[0] == "piece") == 4)
print("whole", [e[1] for e in log if e[0] == "whole"])
pieces = [e for e in log if e[0] == "piece"]
print("pieces", [(o, t, len(m)) for _, o, t, m in pieces])
print("intact", b"".join(m for _, _, _, m in pieces) == big)

# A callback that raises on the second piece: abandoned, the rest dropped.
log.clear()
state["raise_at"] = 3000
pub.publish(t_big, big, qos=1)
raised = None
while raised is None:
    try:
        c.wait_msg()
    except ValueError as e:
        raised = str(e)
print("raised", raised)
pub.publish(t_small, b"after", qos=1)
wait_until(c, lambda: ("whole", b"after") in log)
print("then", [e[0] if e[0] == "piece" else e[1] for e in log])
# Reconnect: the broker sends the abandoned message again, whole.
log.clear()
c.disconnect()
print("session", c.connect(clean_session=False))
wait_until(c, lambda: sum(1 for e in log if e[0] == "piece") == 4)
drain(c, 300)
pieces = [e for e in log if e[0] == "piece"]
print("again", [o for _, o, _, _ in pieces], b"".join(m for _, _, _, m in pieces) == big)
c.disconnect()
c.connect(clean_session=True)
c.disconnect()
pub.disconnect()
