# Non-blocking mode: a full transport is "not yet", never an error.  With
# the transport taking nothing (a peer that stopped reading) and the tx
# buffer full, messages still arrive: check_msg() delivers them and returns
# without raising, their acks wait (owed) and go out, in order, once the
# transport takes bytes again; the client object polls readable when the
# transport does; nothing is lost or acked twice.
import errno
import select
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, client, topic, Inbox, wait_until, drain
from slow_stream import SlowStream

t_in, t_out = topic("bp-in"), topic("bp-out")
inbox = Inbox()
c = client("bp", tx_size=64)
c.set_callback(inbox)
c.connect(clean_session=True)
c.disconnect()
slow = SlowStream(HOST, PORT, wlimit=10000)
c.connect(clean_session=False, sock=slow)
c.subscribe(t_in, qos=1)
c.subscribe(t_out, qos=0)
c.setblocking(False)

# Stall the transport and fill the tx buffer with QoS 0 publishes.
slow.stalled = True
queued = 0
try:
    while True:
        c.publish(t_out, b"fill%02d" % queued)
        queued += 1
except OSError as e:
    print("publish says EAGAIN when tx is full", e.errno == errno.EAGAIN, queued > 0)
# Top it up with 2-byte PINGREQs: not even an ack fits now.
try:
    while True:
        c.ping()
except OSError as e:
    print("ping says EAGAIN too", e.errno == errno.EAGAIN)

other = client("bp-pub")
other.connect()
for i in range(5):
    other.publish(t_in, b"in%d" % i, qos=1)

raised = 0
t0 = time.ticks_ms()
while len(inbox.msgs) < 5 and time.ticks_diff(time.ticks_ms(), t0) < 5000:
    try:
        c.check_msg()
    except OSError:
        raised += 1
    time.sleep_ms(5)
print("delivered while stalled", [m for t, m in inbox.msgs if t == t_in.encode()])
print("check_msg raised", raised)
print("bytes wait", c.pending() > 0)

p = select.poll()
p.register(c, select.POLLIN)
print("not readable while stalled", p.poll(0) == [])
slow.stalled = False
print("readable once the transport takes bytes", len(p.poll(1000)) == 1)

# The acks go out: the broker sends nothing again, and the fill messages
# come back to our own subscription in order.
wait_until(c, lambda: c.pending() == 0 and len(inbox.msgs) >= 5 + queued, 5000)
fills = [m for t, m in inbox.msgs if t == t_out.encode()]
print("fills in order", fills == [b"fill%02d" % i for i in range(queued)])
c.disconnect()
# Every QoS 1 message was acknowledged: the session, resumed, brings none
# of them again.
inbox.msgs.clear()
c.setblocking(True)
print("session kept", c.connect(clean_session=False))
drain(c, 500)
print("nothing again", inbox.msgs == [])
c.disconnect()
c.connect(clean_session=True)
c.disconnect()
other.disconnect()
