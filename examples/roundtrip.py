# Smallest end-to-end check (used by `make demo`): subscribe, publish one
# message to ourselves, wait for it. Exit status 0 when it came back intact.
import sys
import time

import config
from umqtt_rs import MQTTClient

TIMEOUT_MS = 5000


def main():
    config.wifi_connect()
    host, port = config.broker()
    cid = config.client_id("roundtrip")
    topic = "%s/%s/roundtrip" % (config.TOPIC_PREFIX, cid)
    text = "hello from umqtt_rs"
    got = []
    c = MQTTClient(cid, host, port=port)
    c.set_callback(lambda t, m: got.append(bytes(m)))
    c.connect()
    c.subscribe(topic, qos=1)
    c.publish(topic, text, qos=1)
    print("sent:", text)
    t0 = time.ticks_ms()
    while not got and time.ticks_diff(time.ticks_ms(), t0) < TIMEOUT_MS:
        if c.check_msg() is None:
            time.sleep_ms(10)
    c.disconnect()
    if not got:
        print("received: nothing within %d ms" % TIMEOUT_MS)
        return 1
    print("received:", got[0].decode())
    return 0 if got[0] == text.encode() else 1


sys.exit(main())
