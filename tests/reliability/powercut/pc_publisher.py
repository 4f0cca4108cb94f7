# Power-cut test publisher (MicroPython, run and killed by power_cut.py):
# publishes messages 0..2N-1 (even: QoS 1, odd: QoS 2; payload the message
# number) with its session in a file, so that a process killed at any
# moment and started again goes on where the last one was.  pub.log, one
# line per event: "start", "try I" before publish(), "sent I" after it
# returned (the application recording that it did), "error I ..." when
# publish() raised (and is tried again), "done".
import os
import sys

sys.path.append(sys.path[0])
from pc_common import DIR, TOPICS, Log, client, connect

N = int(os.getenv("PC_N"))

sent = set()
try:
    with open(DIR + "/pub.log") as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[0] == "sent":
                sent.add(int(w[1]))
except OSError:
    pass
log = Log("pub")
note = log.note
note("start")
c = client("pub")
connect(c)
for i in range(2 * N):
    if i in sent:
        continue
    note("try %d" % i)
    while True:
        try:
            c.publish(TOPICS[i % 2], b"%d" % i, qos=1 + i % 2, wait=False)
            break
        except OSError as e:
            note("error %d %s inflight %d" % (i, e, c.inflight()))
            connect(c)
    note("sent %d" % i)
while True:
    try:
        if c.drain(5):
            break
    except OSError:
        pass
    connect(c)
note("done")
c.disconnect()
