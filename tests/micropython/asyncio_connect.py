# umqtt_rs_asyncio.connect awaits the CONNACK without blocking the loop:
# session_present is returned (0, then 1 for a persistent session), a
# refused CONNACK raises MQTTException(rc). The native client in
# non-blocking mode: connect() returns at once, check_msg() takes the
# CONNACK (ack callback with pid 0, is_connected()).
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import FAKE_PORT, HOST, PORT, cid, client
import asyncio
from umqtt_rs import MQTTException
from umqtt_rs_asyncio import MQTTClient


async def main():
    c = MQTTClient(cid("aio-conn"), HOST, port=PORT)
    print("first", await c.connect(clean_session=False))
    await c.disconnect()
    print("again", await c.connect(clean_session=False))
    await c.disconnect()
    await MQTTClient(cid("aio-conn"), HOST, port=PORT).connect(clean_session=True)

    r = MQTTClient("refuse-5-" + cid("aio"), HOST, port=FAKE_PORT)
    try:
        await r.connect()
        print("connected")
    except MQTTException as e:
        print("refused", e.args[0])


asyncio.run(main())

acks = []
n = client("nb-conn")
n.set_ack_callback(acks.append)
n.setblocking(False)
print("returns at once", n.connect(), n.is_connected())
t0 = time.ticks_ms()
while not n.is_connected() and time.ticks_diff(time.ticks_ms(), t0) < 3000:
    n.check_msg()
    time.sleep_ms(1)
print("connected", n.is_connected(), acks, n.session_present)
n.setblocking(True)
n.disconnect()
print("after disconnect", n.is_connected())
