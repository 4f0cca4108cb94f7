# umqtt_rs_asyncio keeps the connection alive while the application only
# awaits messages: keepalive=2, nothing but `async for` for 7 s (mosquitto
# drops a silent client after 1.5 x keepalive), then a message published by
# another client still arrives.
import sys
import time

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, cid, client, topic
import asyncio
from umqtt_rs_asyncio import MQTTClient

t = topic("aio-ka")


async def later():
    await asyncio.sleep(7)
    p = client("aio-ka-pub")
    p.connect()
    p.publish(t, b"still here", qos=1)
    p.disconnect()


async def main():
    c = MQTTClient(cid("aio-ka"), HOST, port=PORT, keepalive=2)
    await c.connect()
    await c.subscribe(t, 1)
    asyncio.create_task(later())
    t0 = time.ticks_ms()
    async for _, msg in c.messages():
        break
    print("received", msg, "after >= 7 s", time.ticks_diff(time.ticks_ms(), t0) >= 7000)
    await c.disconnect()


asyncio.run(main())
