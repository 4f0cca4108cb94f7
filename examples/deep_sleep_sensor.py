# A battery sensor node: wake, publish one reading at QoS 1, sleep.  The MQTT
# session survives the sleep: session_bytes() goes to RTC memory (or a file
# when it does not fit), and the next wake restores it with
# MQTTClient(..., session=...), so a reading whose PUBACK had not come before
# the sleep is resent (same packet id, DUP set) by the next connect instead
# of being lost.  The client id must be the same at every wake.
# Board: machine.deepsleep() between wakes.  Unix: one wake per run, the
# session in the file EXAMPLE_STATE (default deep_sleep.state), EXAMPLE_SLEEP
# seconds (default 10) reported but not slept.
import time

import config
from umqtt_rs import MQTTClient

TOPIC = config.TOPIC_PREFIX + "/sleepy/reading"
SLEEP_S = int(config.getenv("EXAMPLE_SLEEP", 10))
STATE_FILE = config.getenv("EXAMPLE_STATE", "deep_sleep.state")
RTC_BYTES = 2048  # RTC user memory on the ESP32


def stable_id():
    # A session is found by its client id: it must not change between wakes.
    try:
        import machine
        import binascii

        return "sleepy-" + binascii.hexlify(machine.unique_id()).decode()
    except (ImportError, AttributeError):
        return config.getenv("EXAMPLE_ID", "sleepy-unix")


def load():
    try:
        import machine

        data = machine.RTC().memory()
        if data:
            return data
    except (ImportError, AttributeError):
        pass
    try:
        with open(STATE_FILE, "rb") as f:
            return f.read()
    except OSError:
        return None


def save(data):
    try:
        import machine

        if len(data) <= RTC_BYTES:
            machine.RTC().memory(data)
            return "RTC memory"
    except (ImportError, AttributeError):
        pass
    with open(STATE_FILE, "wb") as f:
        f.write(data)
    return STATE_FILE


def read_sensor():
    import random

    return 20 + random.getrandbits(8) / 64  # replace with your sensor


def main():
    config.wifi_connect()
    host, port = config.broker()
    state = load()
    try:
        c = MQTTClient(stable_id(), host, port=port, keepalive=30, session=state)
    except ValueError as e:  # damaged state: start a fresh session
        print("state ignored:", e)
        state = None
        c = MQTTClient(stable_id(), host, port=port, keepalive=30)
    print("restored session" if state else "new session", "with", c.inflight(), "in flight")
    # Resends what was in flight before the sleep, then the new reading.
    c.connect(clean_session=False)
    c.publish(TOPIC, "%.1f" % read_sensor(), qos=1, wait=False)
    acked = c.drain(5)  # what is not acknowledged by then stays in the session
    print("published, acknowledged" if acked else "published, ack pending (kept)")
    where = save(c.session_bytes())
    print("session saved to", where)
    c.disconnect()
    print("sleeping", SLEEP_S, "s")
    try:
        import machine

        machine.deepsleep(SLEEP_S * 1000)
    except (ImportError, AttributeError):
        pass  # unix: run again to wake


main()
