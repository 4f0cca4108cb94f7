# Power-cut test publisher (MicroPython, run and killed by power_cut.py):
# publishes messages 0..2N-1 (even: QoS 1, odd: QoS 2; payload the message
# number) with its session in a file, so that a process killed at any
# moment and started again goes on where the last one was.  pub.log, one
# line per event: "start", "try I" before publish(), "sent I" after it
# returned (the application recording that it did), "done".
import os
import time

from umqtt_rs import MQTTClient

HOST = os.getenv("MQTT_HOST") or "127.0.0.1"
PORT = int(os.getenv("PC_PORT"))
TAG = os.getenv("PC_TAG")
N = int(os.getenv("PC_N"))
DIR = os.getenv("PC_DIR")
TOPICS = ("umqtt_rs/pc/%s/q1" % TAG, "umqtt_rs/pc/%s/q2" % TAG)

sent = set()
try:
    with open(DIR + "/pub.log") as f:
        for line in f:
            w = line.split()
            if len(w) == 2 and w[0] == "sent":
                sent.add(int(w[1]))
except OSError:
    pass
log = open(DIR + "/pub.log", "a")


def note(text):
    log.write(text + "\n")
    log.flush()


note("start")
c = MQTTClient("pc-pub-" + TAG, HOST, port=PORT, keepalive=10, session_file=DIR + "/pub.ses")


def connect():
    while True:
        try:
            c.connect(clean_session=False)
            return
        except OSError:
            time.sleep_ms(20)


connect()
for i in range(2 * N):
    if i in sent:
        continue
    note("try %d" % i)
    while True:
        try:
            c.publish(TOPICS[i % 2], b"%d" % i, qos=1 + i % 2, wait=False)
            break
        except OSError:
            connect()
    note("sent %d" % i)
while True:
    try:
        if c.drain(5):
            break
    except OSError:
        pass
    connect()
note("done")
c.disconnect()
