# A 200 KB message is published and received back intact.  The message is
# held three times (the payload, the receive buffer, the bytes the callback
# gets): a heap under 1 MB (an ESP32-C3 has about 150 KB) gets a 40 KB one,
# still 40 times the client's 1 KB buffers.
import gc
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client, topic, Inbox, wait_until

SIZE = 200 * 1024 if gc.mem_free() > 1024 * 1024 else 40 * 1024


def checksum(b):
    try:
        import hashlib

        return hashlib.sha256(b).digest()
    except (ImportError, AttributeError):
        s = 0
        for i in range(0, len(b)):
            s = (s * 31 + b[i]) & 0xFFFFFFFF
        return s


payload = bytearray(SIZE)
for i in range(SIZE):
    payload[i] = (i * 7 + (i >> 8)) & 0xFF
inbox = Inbox()
c = client("big", max_packet_size=256 * 1024)
c.set_callback(inbox)
c.connect()
t = topic("big")
c.subscribe(t, qos=1)
c.publish(t, payload, qos=1)
print("received", wait_until(c, lambda: inbox.msgs, 10000))
msg = inbox.msgs[0][1]
print("length", len(msg) == SIZE)
print("checksum", checksum(msg) == checksum(payload))
c.disconnect()
