# MQTT 5 properties on a payload streamed from a source (publish(...,
# length=n, props=...)): they go out with the header at QoS 0, 1 and 2,
# and a QoS 1/2 message cut in the middle of its payload is resent after
# the reconnect with them (stored with the header), its payload read again.
import io
import sys

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import client, topic, wait_until, drain

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
from cut_stream import Cut, EPIPE

P = umqtt_rs
SIZE = 5000
payload = bytes((i * 13 + (i >> 8)) & 0xFF for i in range(SIZE))
PROPS = {P.PROP_CONTENT_TYPE: "application/x-bin", P.PROP_USER_PROPERTY: [("part", "1"), ("of", "1")]}

got = []
sub = client("v5stream-sub", protocol=5)
sub.set_callback(lambda t, m, p: got.append((m, p)), props=True)
sub.connect()
t = topic("stream5")
sub.subscribe(t, 2)

pub = client("v5stream", protocol=5, tx_size=512)
pub.connect()
for qos in (0, 1, 2):
    del got[:]
    pub.publish(t, io.BytesIO(payload), qos=qos, length=SIZE, props=PROPS)
    wait_until(sub, lambda: got, 5000)
    m, p = got[0]
    print("qos", qos, m == payload, p == PROPS)
pub.disconnect()

# Cut in the middle of the payload: the broker has nothing; the resend
# after the reconnect carries the properties.
for qos in (1, 2):
    del got[:]
    cut = Cut(budget=2500)
    c = client("v5stream-cut%d" % qos, protocol=5, tx_size=512)
    c.connect(sock=cut, clean_session=False)
    cut.deaf = True
    try:
        c.publish(t, io.BytesIO(payload), qos=qos, length=SIZE, wait=False, props=PROPS)
        print("sent whole?")
    except OSError as e:
        print("qos", qos, "cut while sending:", e.errno == EPIPE)
    print("session present", c.connect(clean_session=False))
    print("acknowledged", wait_until(c, lambda: not c.inflight(), 5000))
    wait_until(sub, lambda: got, 5000)
    drain(sub, 300)
    print("resent", len(got), all(m == payload and p == PROPS for m, p in got))
    c.disconnect()
sub.disconnect()
