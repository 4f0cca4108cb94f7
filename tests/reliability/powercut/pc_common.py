# What the power-cut test's publisher and subscriber share: the settings
# from power_cut.py, the event log, the client with its session file, and a
# connect that retries until the broker answers.
import os
import time

from umqtt_rs import MQTTClient

HOST = os.getenv("MQTT_HOST") or "127.0.0.1"
PORT = int(os.getenv("PC_PORT"))
TAG = os.getenv("PC_TAG")
DIR = os.getenv("PC_DIR")
TOPICS = ("umqtt_rs/pc/%s/q1" % TAG, "umqtt_rs/pc/%s/q2" % TAG)


class Log:
    """One line per event in DIR/NAME.log, on disk before the next step."""

    def __init__(self, name):
        self.f = open(DIR + "/" + name + ".log", "a")

    def note(self, text):
        self.f.write(text + "\n")
        self.f.flush()


def client(role):
    # PC_PROTOCOL=5 (power_cut.py --protocol 5): an MQTT 5 client.
    kw = {"protocol": 5} if os.getenv("PC_PROTOCOL") == "5" else {}
    return MQTTClient("pc-%s-%s" % (role, TAG), HOST, port=PORT, keepalive=10, session_file=DIR + "/" + role + ".ses", **kw)


def connect(c):
    while True:
        try:
            c.connect(clean_session=False)
            return
        except OSError:
            time.sleep_ms(20)
