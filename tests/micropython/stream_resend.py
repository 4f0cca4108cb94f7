# A QoS 1/2 message streamed from a seekable source (publish(..., length=n)
# from a file or io.BytesIO) survives a cut: the next connect that finds
# the session resends it with its payload read again from where it started,
# and a subscriber gets it exactly once (QoS 2) or at least once (QoS 1),
# intact.  The cuts: after the whole PUBLISH went out but before its PUBREC
# came back (the broker has it), and in the middle of the payload (the
# broker has nothing).
import io
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until, drain
from cut_stream import Cut, EPIPE as _EPIPE

SIZE = 6000
payload = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(SIZE))


def run(name, qos, src, cut):
    t = topic("stream-resend-" + name)
    inbox = Inbox()
    sub = client("stream-resend-sub-" + name)
    sub.set_callback(inbox)
    sub.connect()
    sub.subscribe(t, qos=2)
    c = client("stream-resend-" + name, tx_size=512)
    c.connect(sock=cut, clean_session=False)
    cut.deaf = True
    try:
        c.publish(t, src, qos=qos, length=SIZE, wait=False)
        print(name, "sent whole, in flight", c.inflight())
    except OSError as e:
        print(name, "cut while sending:", e.errno == _EPIPE, "closed", c.sock is None)
    drain(sub, 300)
    print(name, "session present", c.connect(clean_session=False))
    print(name, "acknowledged", wait_until(c, lambda: not c.inflight(), 5000))
    wait_until(sub, lambda: inbox.msgs, 5000)
    drain(sub, 500)
    print(name, "received", len(inbox.msgs), "intact", all(m == (t.encode(), payload) for m in inbox.msgs))
    c.disconnect()
    sub.disconnect()


# The broker has the message (its PUBREC is lost): the resend is a duplicate
# it recognises; one delivery.
run("qos2-acklost", 2, io.BytesIO(payload), Cut())

# Half the payload went out: the broker has nothing; the resend is whole.
F = "/tmp/umqtt_rs_stream_resend_test.bin"
with open(F, "wb") as f:
    f.write(b"skipped" + payload)
with open(F, "rb") as f:
    f.read(7)  # the payload starts here, not at 0
    run("qos1-midpayload", 1, f, Cut(budget=3000))
with open(F, "rb") as f:
    f.read(7)
    run("qos2-midpayload", 2, f, Cut(budget=3000))
