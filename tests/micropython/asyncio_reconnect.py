# umqtt_rs_asyncio when the connection is lost (the socket closed under it):
# the message iterator and pending awaits raise OSError; connect() on the
# same object (clean_session=False) resumes the session and messages flow.
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import HOST, PORT, cid, client, topic
import asyncio
from umqtt_rs_asyncio import MQTTClient

t = topic("aio-reconnect")


async def main():
    c = MQTTClient(cid("aio-reconnect"), HOST, port=PORT, keepalive=30)
    await c.connect(clean_session=True)
    print("connect", await c.connect(clean_session=False))
    await c.subscribe(t, 1)
    c.sock.close()
    try:
        async for m in c.messages():
            print("unexpected", m)
    except OSError:
        print("iterator: OSError")
    try:
        await c.publish(t, b"x", qos=1)
    except OSError:
        print("publish: OSError")
    p = client("aio-reconnect-pub")
    p.connect()
    p.publish(t, b"while away", qos=1)
    print("reconnect, session present", await c.connect(clean_session=False))
    async for _, msg in c.messages():
        print("received", msg)
        break
    p.disconnect()
    await c.disconnect()


asyncio.run(main())
