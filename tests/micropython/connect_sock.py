# Extension: connect(sock=stream) runs the session over a stream the
# application opened itself (here a plain socket); a stream without the
# stream protocol is refused with TypeError before anything is sent.
import socket
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, client, topic, Inbox, wait_until

s = socket.socket()
s.connect(socket.getaddrinfo(HOST, PORT)[0][-1])
inbox = Inbox()
c = client("sock")
c.set_callback(inbox)
print("connect", c.connect(sock=s))
print("same stream", c.sock is s)
t = topic("sock")
c.subscribe(t, qos=1)
c.publish(t, b"over my socket", qos=1)
print("received", wait_until(c, lambda: inbox.msgs), inbox.msgs[0][1])
c.disconnect()

try:
    client("nostream").connect(sock=42)
except TypeError:
    print("TypeError")
