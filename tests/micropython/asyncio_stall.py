# umqtt_rs_asyncio with a peer that stops reading: a 20 KB publish waits
# (without blocking the loop: another task keeps running) while the
# transport takes nothing, the client is not failed by the backpressure,
# and once the peer reads again the message goes out intact.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, cid, topic
from slow_stream import SlowStream
import asyncio
from umqtt_rs_asyncio import MQTTClient

SIZE = 20 * 1024
payload = bytes(i & 0xFF for i in range(SIZE))


async def ticker(n):
    while True:
        await asyncio.sleep_ms(10)
        n[0] += 1


async def main():
    t = topic("aio-stall")
    sub = MQTTClient(cid("aio-stall-sub"), HOST, port=PORT)
    await sub.connect()
    await sub.subscribe(t, 1)
    c = MQTTClient(cid("aio-stall"), HOST, port=PORT, tx_size=512)
    slow = SlowStream(HOST, PORT)
    await c.connect(sock=slow)
    slow.stalled = True
    ticks = [0]
    tick = asyncio.create_task(ticker(ticks))
    pub = asyncio.create_task(c.publish(t, payload, qos=1))
    await asyncio.sleep_ms(500)
    print("publish waits", not pub.done(), c.pending() > 0)
    print("loop runs", ticks[0] > 10)
    print("client not failed", c._err is None)
    slow.stalled = False
    await asyncio.wait_for_ms(pub, 5000)
    print("published", c.pending() == 0, c.inflight() == 0)

    async def first():
        async for m in sub.messages():
            return m

    _, msg = await asyncio.wait_for_ms(first(), 5000)
    print("received intact", msg == payload)
    tick.cancel()
    await c.disconnect()
    await sub.disconnect()


asyncio.run(main())
