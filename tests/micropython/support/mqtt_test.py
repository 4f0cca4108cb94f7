# Shared helpers for the umqtt_rs MicroPython tests (not a test itself: the
# runner only collects tests/micropython/*.py).
#
# The broker comes from the environment set by tools/broker.py:
# MQTT_HOST, MQTT_PORT, MQTT_TLS_PORT, MQTT_CA_DER, MQTT_BAD_CA_DER, MQTT_FAKE_PORT.
# A device has no environment: tools/esp-qemu-test.py writes the same
# variables into support/mqtt_env.py (a dict ENV) next to this file.
import random
import time

from umqtt_rs import MQTTClient

try:
    from os import getenv
except ImportError:
    from mqtt_env import ENV

    getenv = ENV.get

HOST = getenv("MQTT_HOST") or "127.0.0.1"
PORT = int(getenv("MQTT_PORT") or "1883")
TLS_PORT = int(getenv("MQTT_TLS_PORT") or "8883")
FAKE_PORT = int(getenv("MQTT_FAKE_PORT") or "0")
CA_DER = getenv("MQTT_CA_DER")
BAD_CA_DER = getenv("MQTT_BAD_CA_DER")

# One random tag per test process keeps client ids and topics unique when
# tests run in parallel or against a shared broker.
RUN = "%08x" % random.getrandbits(32)


def cid(name):
    return "%s-%s" % (name, RUN)


def topic(name):
    return "umqtt_rs/test/%s/%s" % (RUN, name)


def client(name, port=None, **kw):
    return MQTTClient(cid(name), HOST, port=port or PORT, **kw)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


class Inbox:
    """A 2-argument callback that records (topic, msg) pairs."""

    def __init__(self):
        self.msgs = []

    def __call__(self, topic, msg):
        self.msgs.append((bytes(topic), bytes(msg)))

    def topics(self):
        return [t for t, _ in self.msgs]


def wait_until(c, cond, timeout_ms=5000):
    """Poll c.check_msg() until cond() is true; False after timeout_ms."""
    t0 = time.ticks_ms()
    while not cond():
        if time.ticks_diff(time.ticks_ms(), t0) > timeout_ms:
            return False
        if c.check_msg() is None:
            time.sleep_ms(2)
    return True


def drain(c, ms=300):
    """Process whatever arrives during ms milliseconds."""
    t0 = time.ticks_ms()
    while time.ticks_diff(time.ticks_ms(), t0) < ms:
        if c.check_msg() is None:
            time.sleep_ms(2)
