# Invalid topics raise ValueError before anything is sent: after each one
# the same connection still publishes and receives normally.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

inbox = Inbox()
c = client("invalid")
c.set_callback(inbox)
c.connect()
ok = topic("ok")
c.subscribe(ok)
n = 0


def still_works():
    global n
    n += 1
    c.publish(ok, "check%d" % n)
    return wait_until(c, lambda: len(inbox.msgs) == n) and inbox.msgs[-1] == (ok.encode(), b"check%d" % n)


# 65,537 bytes: over the 16-bit length.  Made in one allocation: a small heap
# (an ESP32-C3's, about 150 KB) has no room for "t/" + "x" * 65535, which
# holds two 64 KB strings at once.
long_topic = b"x" * 65537
cases = (
    ("publish ''", lambda: c.publish("", b"x")),
    ("publish 'a/+/b'", lambda: c.publish("a/+/b", b"x")),
    ("publish 'a/#'", lambda: c.publish("a/#", b"x")),
    ("publish long", lambda: c.publish(long_topic, b"x")),
    ("subscribe 'a/#/b'", lambda: c.subscribe("a/#/b")),
    ("subscribe 'a+'", lambda: c.subscribe("a+")),
    ("subscribe long", lambda: c.subscribe(long_topic)),
)
for name, op in cases:
    try:
        op()
        print(name, "accepted")
    except ValueError:
        print(name, "ValueError")
    print(" still works", still_works())
c.disconnect()
