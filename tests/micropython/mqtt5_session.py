# MQTT 5 sessions against mosquitto: Session Expiry Interval (a session
# kept across a disconnect gets the messages published meanwhile; one with
# expiry 0 ends with the connection; disconnect(session_expiry=0) ends a
# kept one), Receive Maximum (20 QoS 2 messages to a client that holds 2
# at once, and 300 at the default maximum, all arrive, no protocol error:
# mosquitto 2.0.11 counts a QoS 2 message against our maximum until our
# PUBREC, not our PUBCOMP, and the client allows for it), message expiry
# (a queued message that expired is not delivered), and what
# connect(clean_session=...) sends when no Session Expiry Interval is
# given.
import sys
import time

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import client, topic, wait_until, drain

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
P = umqtt_rs

got = []
t = topic("kept")
pub = client("v5spub", protocol=5)
pub.connect()


def session(expiry):
    c = client("v5sess", protocol=5)
    c.set_callback(lambda tp, m: got.append(m))
    sp = c.connect(False, props={P.PROP_SESSION_EXPIRY_INTERVAL: expiry})
    return c, sp


c, sp = session(60)
c.subscribe(t, 1)
c.disconnect()
pub.publish(t, b"while away", qos=1)
pub.publish(t, b"expired", qos=1, props={P.PROP_MESSAGE_EXPIRY_INTERVAL: 1})
time.sleep(2)
c, sp = session(60)
print("kept session", sp)
drain(c, 500)
print("delivered", got)
# Ending the kept session now: the next connect finds none.
c.disconnect(session_expiry=0)
c, sp = session(0)
print("after session_expiry=0", sp)
c.disconnect()
c, sp = session(0)
print("expiry 0", sp)

# Receive Maximum: the broker sends no more than that unacknowledged.
c.disconnect()
for n, props in ((20, {P.PROP_RECEIVE_MAXIMUM: 2}), (300, None)):
    c = client("v5recv", protocol=5)
    del got[:]
    c.set_callback(lambda tp, m: got.append(m))
    c.connect(props=props)
    r = topic("recvmax%d" % n)
    c.subscribe(r, 2)
    for i in range(n):
        pub.publish(r, b"%d" % i, qos=2, wait=False)
    print("drained", pub.drain(10))
    print("received", n, wait_until(c, lambda: len(got) == n, 10000), got == [b"%d" % i for i in range(n)])
    c.disconnect()

# connect(clean_session=False) without a Session Expiry Interval keeps its
# 3.1.1 meaning (the client sends 0xFFFFFFFF): the session outlives a
# broken connection with its subscription and the messages queued
# meanwhile; clean_session=True (0) ends it with the connection.
got2 = []
d = topic("default")
c = client("v5default", protocol=5)
c.set_callback(lambda tp, m: got2.append(m))
c.connect(True)
c.disconnect()
print("default, first", c.connect(False))
c.subscribe(d, 1)
c.sock.close()  # the link breaks, no DISCONNECT
pub.publish(d, b"meanwhile", qos=1)
print("default, resumed", c.connect(False), wait_until(c, lambda: got2 == [b"meanwhile"]))
c.disconnect()
c.connect(True)
c.disconnect()
print("clean, ended", c.connect(False))
c.disconnect()
c.connect(True)
c.disconnect()
pub.disconnect()
