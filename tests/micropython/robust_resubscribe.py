# RobustClient renews its subscriptions when the broker lost the session: a
# client with the same id connects with clean_session=True (the broker closes
# our connection and discards the session), and the robust client reconnects
# by itself (clean_session=False), sees session_present=0 and resubscribes.
# A reconnect that finds the session (session_present=1) sends nothing again.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, cid, client, topic, Inbox, wait_until
from umqtt_rs_robust import RobustClient

events = []
inbox = Inbox()
t1 = topic("rb-resub1")
t2 = topic("rb-resub2")
c = RobustClient(
    cid("rb-resub"),
    HOST,
    port=PORT,
    keepalive=30,
    on_connect=lambda cl, sp: events.append("connect sp=%d" % sp),
    on_disconnect=lambda cl, e: events.append("disconnect"),
)
c.set_callback(inbox)
c.connect(clean_session=True)  # drop what an earlier run left
c.connect()  # clean_session=False: a session the broker keeps
c.subscribe(t1, 1)
c.subscribe(t2, 0)
c.unsubscribe(t2)
print("subscriptions", sorted(c.subscriptions().values()), events)
events.clear()

p = client("rb-resub-pub")
p.connect()

# a reconnect with the session kept: nothing lost, nothing resent
c.sock.close()
c.check_msg()
p.publish(t1, b"kept", qos=1)
print("kept", wait_until(c, lambda: inbox.msgs), events)
events.clear()

# session taken over and discarded by a clean connect with our id
thief = client("rb-resub")
print("thief session", thief.connect(clean_session=True))
thief.disconnect()
# the robust client notices the closed connection, reconnects, resubscribes
p.publish(t1, b"lost while away", qos=1)  # nobody subscribed: gone
wait_until(c, lambda: len(events) >= 2)
print(events)
p.publish(t1, b"after", qos=1)
print("after", wait_until(c, lambda: inbox.msgs[-1][1] == b"after"), [m for _, m in inbox.msgs])
c.disconnect()
p.disconnect()
