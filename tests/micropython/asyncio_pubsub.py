# umqtt_rs_asyncio: awaitable connect/subscribe/publish (QoS 0, 1, 2; QoS 1/2
# await the ack)/unsubscribe/disconnect and `async for` over the messages.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, cid, topic
import asyncio
from umqtt_rs import MQTTException
from umqtt_rs_asyncio import MQTTClient


async def main():
    c = MQTTClient(cid("aio-pubsub"), HOST, port=PORT, keepalive=30)
    print("connect", await c.connect())
    t = topic("aio-pubsub")
    await c.subscribe(t, 2)
    for qos in (0, 1, 2):
        print("publish qos", qos, await c.publish(t, b"m%d" % qos, qos=qos), c.inflight())
    got = []
    async for topic_, msg in c.messages():
        got.append(msg)
        if len(got) == 3:
            break
    print("received", sorted(got), topic_ == t.encode())

    await c.unsubscribe(t)
    await c.publish(t, b"unheard", qos=1)
    await c.ping()

    async def next_message():
        async for m in c.messages():
            return m

    try:
        print("after unsubscribe", await asyncio.wait_for_ms(next_message(), 300))
    except asyncio.TimeoutError:
        print("after unsubscribe: nothing")

    try:
        await c.subscribe(topic("aio/#/bad"))
    except ValueError as e:
        print("ValueError", e)

    await c.disconnect()
    n = 0
    async for m in c.messages():
        n += 1
    print("iterator ends after disconnect", n)
    try:
        await c.publish(t, b"x")
    except OSError as e:
        print("publish after disconnect: OSError")


async def flags():
    # flags=True: (topic, msg, retained, qos, dup)
    c = MQTTClient(cid("aio-flags"), HOST, port=PORT, flags=True)
    await c.connect()
    t = topic("aio-flags")
    await c.publish(t, b"kept", qos=1, retain=True)
    await c.subscribe(t, 1)
    await c.publish(t, b"fresh", qos=1)
    got = []
    async for m in c.messages():
        got.append(m[1:])
        if len(got) == 2:
            break
    print("flags", got)
    await c.publish(t, b"", retain=True)  # clear the retained message
    await c.disconnect()


asyncio.run(main())
asyncio.run(flags())
