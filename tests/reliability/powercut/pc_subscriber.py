# Power-cut test subscriber (MicroPython, run and killed by power_cut.py):
# the session in a file; sub.log, one line per event: "start", "got I" in
# the callback (the application recording the message; I even: QoS 1, odd:
# QoS 2), "tick" after each check_msg() that handled something (so the
# client's own bookkeeping after a callback is over when a later line is
# there), "error E" when check_msg() raised, "ready" once subscribed.  Ends when PC_DIR/stop exists and
# nothing arrived for a second.
import os
import sys
import time

sys.path.append(sys.path[0])
from pc_common import DIR, TOPICS, Log, client, connect

log = Log("sub")
note = log.note
note("start")
got = [0]


def on_message(topic, msg):
    note("got %s" % msg.decode())
    got[0] += 1


c = client("sub")
c.set_callback(on_message)
connect(c)
try:
    os.stat(DIR + "/subscribed")
except OSError:
    c.subscribe(TOPICS[0], 1)
    c.subscribe(TOPICS[1], 2)
    open(DIR + "/subscribed", "w").close()
note("ready")
idle_since = time.ticks_ms()
while True:
    before = got[0]
    try:
        c.check_msg()
    except OSError as e:
        note("error %s" % e)
        connect(c)
    if got[0] != before:
        note("tick")
        idle_since = time.ticks_ms()
    else:
        time.sleep_ms(2)
    if time.ticks_diff(time.ticks_ms(), idle_since) > 1000:
        try:
            os.stat(DIR + "/stop")
            break
        except OSError:
            pass
c.disconnect()
note("end")
