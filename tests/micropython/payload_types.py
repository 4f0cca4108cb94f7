# topic and msg may be str, bytes, bytearray or memoryview; the callback
# always gets the exact bytes back.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

inbox = Inbox()
c = client("types")
c.set_callback(inbox)
c.connect()
base = topic("types")
c.subscribe(base + "/#")


def kinds(s):
    b = s.encode()
    # a memoryview slice of a larger buffer: the offset must be honoured
    padded = b"<<" + b + b">>"
    return (
        ("str", s),
        ("bytes", b),
        ("bytearray", bytearray(b)),
        ("memoryview", memoryview(padded)[2 : 2 + len(b)]),
    )


n = 0
for tk, t in kinds(base + "/t"):
    for mk, m in kinds("payload-" + tk):
        c.publish(t, m)
        n += 1
        ok = wait_until(c, lambda: len(inbox.msgs) == n)
        got = inbox.msgs[-1] if ok else None
        print(tk, mk, got == ((base + "/t").encode(), ("payload-" + tk).encode()))

# subscribe and unsubscribe accept bytes topics too
c.subscribe(topic("bytes-sub").encode())
c.publish(topic("bytes-sub"), b"x")
print("bytes subscribe", wait_until(c, lambda: inbox.msgs[-1] == (topic("bytes-sub").encode(), b"x")))
c.unsubscribe(topic("bytes-sub").encode())

# an empty payload is a valid message
c.publish(base + "/empty", b"")
print("empty", wait_until(c, lambda: inbox.msgs[-1] == ((base + "/empty").encode(), b"")))
c.disconnect()
