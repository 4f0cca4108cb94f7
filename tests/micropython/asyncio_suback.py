# umqtt_rs_asyncio: subscribe/unsubscribe await their ack without blocking
# the loop; a refused subscription (the fake broker refuses every filter)
# raises MQTTException(0x80) and the client keeps working.
import sys

try:
    import asyncio
    from umqtt_rs_asyncio import MQTTClient
except ImportError:
    print("SKIP")
    raise SystemExit

sys.path.append(sys.path[0] + "/support")
from mqtt_test import FAKE_PORT, HOST, PORT, cid, topic
from umqtt_rs import MQTTException


async def main():
    c = MQTTClient(cid("aio-suback"), HOST, port=FAKE_PORT)
    await c.connect()
    try:
        await c.subscribe(topic("refused"), 1)
        print("accepted")
    except MQTTException as e:
        print("refused", e.args[0] == 0x80)
    await c.ping()
    print("still connected")
    await c.disconnect()

    c = MQTTClient(cid("aio-suback2"), HOST, port=PORT)
    await c.connect()
    t = topic("aio-suback")
    await asyncio.gather(c.subscribe(t + "/a", 1), c.subscribe(t + "/b", 2))
    await c.publish(t + "/b", b"both", qos=1)
    async for top, msg in c.messages():
        print("got", msg)
        break
    await c.unsubscribe(t + "/a")
    print("unsubscribed")
    await c.disconnect()


asyncio.run(main())
