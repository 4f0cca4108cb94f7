# MQTTClient(..., session_file=path): the session is kept in a file,
# written (write-then-rename) whenever it changes and before any packet
# that depends on the change goes out, so a new client object on the same
# file (a new process after a power cut) resends what was in flight and does
# not deliver a held QoS 2 id's resend again.  A damaged file raises
# ValueError.  A QoS 0 message writes nothing.  Without the file, a whole
# PATH.tmp is the session (a power cut between the remove and the rename on
# FAT leaves only it); a damaged PATH.tmp alone is a new session.
import os
import sys

sys.path.append(sys.path[0] + "/../qemu/support")
from scripted_broker import Broker, publish
from umqtt_rs import MQTTClient

F = "/tmp/umqtt_rs_session_file_test.ses"
for name in (F, F + ".tmp"):
    try:
        os.remove(name)
    except OSError:
        pass

b = Broker(acks=False)
c = MQTTClient("filer", "scripted", session_file=F)
print("new session, in flight", c.inflight())
c.connect(sock=b)
os.remove(F)  # written by the connect (a clean session)
c.publish(b"t", b"zero")
print("QoS 0 wrote the file", F[F.rindex("/") + 1 :] in os.listdir("/tmp"))
c.publish(b"t", b"one", qos=1, wait=False)
print("QoS 1 wrote", os.stat(F)[6], "bytes")
c.set_callback(lambda t, m: print("got", t, m))
b.send(publish(b"in", b"x", qos=2, pid=5))
c.check_msg()
b.take()
del c

c = MQTTClient("filer", "scripted", session_file=F)
print("restored, in flight", c.inflight())
c.set_callback(lambda t, m: print("got again", t, m))
b = Broker(session_present=1, acks=False)
c.connect(sock=b, clean_session=False)
b.send(publish(b"in", b"x", qos=2, pid=5, dup=True))
c.check_msg()
b.show()
print("no temporary file left", F[F.rindex("/") + 1 :] + ".tmp" not in os.listdir("/tmp"))

with open(F, "wb") as f:
    f.write(b"junk")
try:
    MQTTClient("filer", "scripted", session_file=F)
except ValueError as e:
    print("ValueError:", e)
os.remove(F)

c = MQTTClient("filer", "scripted", session_file=F)
c.connect(sock=Broker(acks=False))
c.publish(b"t", b"two", qos=1, wait=False)
os.rename(F, F + ".tmp")
c = MQTTClient("filer", "scripted", session_file=F)
print("from PATH.tmp, in flight", c.inflight())
b = Broker(session_present=1, acks=False)
c.connect(sock=b, clean_session=False)
b.show()
print("PATH written, PATH.tmp gone", [n for n in os.listdir("/tmp") if n.startswith("umqtt_rs_session_file_test")])
os.rename(F, F + ".tmp")
with open(F + ".tmp", "r+b") as f:
    f.seek(10)
    f.write(b"\xff")
c = MQTTClient("filer", "scripted", session_file=F)
print("damaged PATH.tmp alone: new session, in flight", c.inflight())
os.remove(F + ".tmp")
