# umqtt_rs_asyncio: the PUBACK of a publish larger than the transmit buffer
# can be read by the reader task while the publishing task still waits for
# the payload's tail to go out; the publish must still complete.  (On an
# ESP32-C3 one 20 KB publish in four hung that way: the ack came before the
# publishing task registered its id.)  A scripted broker that takes 100
# bytes per write and answers at once makes the order deterministic.
import sys

sys.path.append(sys.path[0] + "/../qemu/support")
from scripted_broker import Broker
import asyncio
from umqtt_rs_asyncio import MQTTClient


async def main():
    b = Broker(wlimit=100)
    c = MQTTClient("race", "scripted", tx_size=256)
    await c.connect(sock=b)
    for qos in (1, 2):
        for size in (300, 1000, 5000):
            try:
                await asyncio.wait_for_ms(c.publish("t", bytes(size), qos=qos), 2000)
                print("qos", qos, "size", size, "published", c.inflight() == 0)
            except asyncio.TimeoutError:
                print("qos", qos, "size", size, "HUNG: pending", c.pending(), "inflight", c.inflight())
    await c.disconnect()


asyncio.run(main())
