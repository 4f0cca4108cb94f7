# cmdline: -X heapsize=400K (set by tools/mpy-heap.sh, see tools/run-mpy-tests.sh)
# A message larger than the free heap (umqtt.simple: MemoryError halfway
# through the packet, stream out of step).  With a 400 KB heap a 2 MB PUBLISH
# ends in MQTTException with the connection closed, never MemoryError; a
# 100 KB message, larger than the buffer but not the memory, still arrives;
# and the same client then works against a real broker.
import gc
import sys

sys.path.append(sys.path[0] + "/../support")
from mqtt_test import FAKE_PORT, HOST, PORT, RUN, Inbox, topic, wait_until
from umqtt_rs import MQTTClient, MQTTException

gc.collect()
print("small heap", gc.mem_free() < 500 * 1024)


def attempt(name):
    c = MQTTClient("bad-%s-%s" % (name, RUN), HOST, port=FAKE_PORT, rx_size=256, max_packet_size=0)
    inbox = Inbox()
    c.set_callback(inbox)
    try:
        c.connect()
        wait_until(c, lambda: len(inbox.msgs) == 2, 5000)
        print(name, "delivered", [(t, len(m)) for t, m in inbox.msgs])
    except MQTTException as e:
        print(name, "MQTTException", e)
    except MemoryError:
        print(name, "MemoryError")
    print("  closed", c.sock is None)
    if c.sock is not None:
        c.disconnect()
    return c


attempt("big")
attempt("large")
c = attempt("big")
gc.collect()
# The same object, on a real broker.
inbox = Inbox()
c.set_callback(inbox)
import socket

s = socket.socket()
s.connect(socket.getaddrinfo(HOST, PORT)[0][-1])
c.connect(sock=s)
t = topic("afterbig")
c.subscribe(t, qos=1)
c.publish(t, b"x" * 1000, qos=1)
print("works again", wait_until(c, lambda: inbox.msgs), len(inbox.msgs[0][1]))
c.disconnect()
