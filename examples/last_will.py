# Presence with a last will: the broker publishes "offline" (retained) on
# <TOPIC_PREFIX>/<id>/status if this device vanishes without saying goodbye;
# the device itself publishes "online" (retained) once connected.
# EXAMPLE_COUNT heartbeats EXAMPLE_INTERVAL s apart (default 3 x 1 s on unix,
# forever on a board); EXAMPLE_DROP=1 ends by dropping the connection so the
# broker sends the will, else it says "offline" itself and disconnects.
import time

import config
from umqtt_rs import MQTTClient

CID = config.client_id("presence")
STATUS = "%s/%s/status" % (config.TOPIC_PREFIX, CID)
INTERVAL = float(config.getenv("EXAMPLE_INTERVAL", 1 if config.UNIX else 10))
COUNT = int(config.getenv("EXAMPLE_COUNT", 3 if config.UNIX else 0))
DROP = config.getenv("EXAMPLE_DROP") == "1"


def main():
    config.wifi_connect()
    host, port = config.broker()
    c = MQTTClient(CID, host, port=port, keepalive=10)
    c.set_last_will(STATUS, "offline", retain=True, qos=1)
    c.connect()
    c.publish(STATUS, "online", retain=True, qos=1)
    print(STATUS, "= online")
    n = 0
    while COUNT == 0 or n < COUNT:
        time.sleep(INTERVAL)
        c.check_msg()  # lets the client keep the connection alive
        n += 1
        print("heartbeat", n)
    if DROP:
        c.sock.close()  # no DISCONNECT: the broker publishes the will
        print("dropped: the broker will publish offline")
    else:
        c.publish(STATUS, "offline", retain=True, qos=1)
        c.disconnect()
        print(STATUS, "= offline")


main()
