# The three QoS levels: subscribe at QoS 2, publish one message at each level
# and print what comes back. QoS 0 is at most once, 1 at least once
# (PUBACK), 2 exactly once (PUBREC/PUBREL/PUBCOMP).
import time

import config
from umqtt_rs import MQTTClient

TOPIC = "%s/%s/qos" % (config.TOPIC_PREFIX, config.client_id("q"))
received = []


def on_message(topic, msg):
    received.append(bytes(msg))
    print("received:", msg.decode())


def main():
    config.wifi_connect()
    host, port = config.broker()
    c = MQTTClient(config.client_id("qos"), host, port=port)
    c.set_callback(on_message)
    c.connect()
    c.subscribe(TOPIC, qos=2)
    for qos in (0, 1, 2):
        c.publish(TOPIC, "qos %d message" % qos, qos=qos)
        print("sent: qos %d message" % qos)
    t0 = time.ticks_ms()
    while len(received) < 3 and time.ticks_diff(time.ticks_ms(), t0) < 5000:
        if c.check_msg() is None:
            time.sleep_ms(10)
    c.disconnect()
    print("got %d of 3" % len(received))
    if len(received) != 3:
        raise SystemExit(1)


main()
