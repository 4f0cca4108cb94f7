# umqtt_rs_asyncio with other tasks: a ticker task keeps running while the
# client waits for messages (the loop is not blocked), two tasks publish QoS 1
# concurrently and each awaits its own acks (pipelined in the window), and a
# consumer task receives every message in order per publisher.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, cid, topic
import asyncio
from umqtt_rs_asyncio import MQTTClient

N = 200
t = topic("aio-conc")
ticks = 0


async def ticker():
    global ticks
    while True:
        await asyncio.sleep_ms(10)
        ticks += 1


async def publisher(c, name):
    for i in range(N):
        await c.publish(t + "/" + name, b"%s%d" % (name, i), qos=1)
    return name


async def consumer(c, got):
    async for topic_, msg in c.messages():
        got.setdefault(topic_[-1:], []).append(int(msg[1:]))
        if sum(len(v) for v in got.values()) == 2 * N:
            return


async def main():
    c = MQTTClient(cid("aio-conc"), HOST, port=PORT, keepalive=30, window=4, queue_size=2 * N)
    await c.connect()
    await c.subscribe(t + "/+", 1)
    tk = asyncio.create_task(ticker())

    # only waiting: the ticker runs meanwhile
    t0 = ticks
    got = {}
    try:
        await asyncio.wait_for_ms(consumer(c, got), 300)
    except asyncio.TimeoutError:
        print("idle wait timed out, ticker ran", ticks - t0 >= 10)

    cons = asyncio.create_task(consumer(c, got))
    r = await asyncio.gather(publisher(c, "a"), publisher(c, "b"))
    print("publishers done", r, "inflight", c.inflight())
    await asyncio.wait_for(cons, 10)
    for k in (b"a", b"b"):
        print(k, "in order", got[k] == list(range(N)))
    print("dropped", c.dropped)
    tk.cancel()
    await c.disconnect()


asyncio.run(main())
