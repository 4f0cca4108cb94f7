# umqtt_rs_robust.MQTTClient has umqtt.robust's surface (DELAY, DEBUG,
# delay(i), log(in_reconnect, e), reconnect(), check_msg(attempts=2)) and
# retries publish/wait_msg/check_msg after a reconnect when the socket is
# closed under it.  A QoS 1 publish that failed is resent by the session
# after the reconnect and not published a second time; on_connect and
# on_disconnect are called; subscriptions are renewed when the broker has
# no session (session_present=0).
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, cid, client, topic, Inbox, wait_until
from umqtt_rs_robust import MQTTClient

print("DELAY", MQTTClient.DELAY, "DEBUG", MQTTClient.DEBUG)
events = []


class Client(MQTTClient):
    # What umqtt.robust users do: override delay() and log().
    def delay(self, i):
        events.append("delay %d" % i)

    def log(self, in_reconnect, e):
        events.append("log %s %s" % (in_reconnect, type(e).__name__))


t = topic("rb-compat")
watch = Inbox()  # a separate subscriber sees what the robust client sent
s = client("rb-compat-watch")
s.set_callback(watch)
s.connect()
s.subscribe(t, 1)

inbox = Inbox()
c = Client(cid("rb-compat"), HOST, port=PORT, keepalive=30)
c.on_connect = lambda cl, sp: events.append("connect sp=%d" % sp)
c.on_disconnect = lambda cl, e: events.append("disconnect %s" % type(e).__name__)
c.set_callback(inbox)
print("connect", c.connect())
c.subscribe(t, 1)
print("port", c.port == PORT, "keepalive", c.keepalive, "subscriptions", len(c.subscriptions()))

# publish on a closed socket: the write fails, the message is in the session;
# reconnect (clean_session=False) resends it: it arrives exactly once
c.sock.close()
c.publish(t, b"one", qos=1)
print(events)
events.clear()
wait_until(s, lambda: len(watch.msgs) >= 1)
s.publish(t, b"marker-1", qos=1)
wait_until(s, lambda: watch.msgs[-1][1] == b"marker-1")
print("one once", [m for _, m in watch.msgs].count(b"one"))

# the first connect was clean, so the broker had no session at the
# reconnect: the subscription was renewed and messages arrive again
print("renewed", wait_until(c, lambda: b"marker-1" in [m for _, m in inbox.msgs]))

# wait_msg on a closed socket: reconnect (the session is kept now), then the
# message published meanwhile arrives
c.sock.close()
s.publish(t, b"two", qos=1)
while b"two" not in [m for _, m in inbox.msgs]:
    c.wait_msg()
print("wait_msg got two", events)
events.clear()

# check_msg(attempts=2) on a closed socket: reconnects and returns
c.sock.close()
print("check_msg", c.check_msg(), events)
events.clear()

# reconnect() retries after delay(1), delay(2)... while the broker is
# unreachable (port 1: connection refused)
class GiveUp(Exception):
    pass


calls = []


def delay(i):
    calls.append(i)
    if i == 3:
        raise GiveUp


bad = Client(cid("rb-compat-bad"), HOST, port=1)
bad.delay = delay
try:
    bad.reconnect()
except GiveUp:
    print("reconnect retried", calls, events)
events.clear()

# DEBUG logging as umqtt.robust prints it
c2 = MQTTClient(cid("rb-compat2"), HOST, port=PORT)
c2.DEBUG = True
c2.DELAY = 0
c2.connect()
c2.sock.close()
c2.check_msg()
c2.disconnect()

c.disconnect()
s.disconnect()
