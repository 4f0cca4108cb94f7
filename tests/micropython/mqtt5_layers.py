# protocol=5 through the Python layers: umqtt_rs_asyncio (props on
# connect/publish, subscription options, messages() with props, a refused publish raises
# MQTTException(0x87) from the publish awaiting it and the connection
# stays up) and umqtt_rs_robust (connect/publish props, set_callback
# props).
import sys

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import cid, topic, HOST, PORT

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
import asyncio
from umqtt_rs import MQTTException
from umqtt_rs_asyncio import MQTTClient
from umqtt_rs_robust import MQTTClient as Robust


async def main():
    c = MQTTClient(cid("as5"), HOST, PORT, protocol=5, props=True, user="umqtt_rs_acl")
    await c.connect(props={umqtt_rs.PROP_USER_PROPERTY: [("a", "b")]})
    print("asyncio protocol", c.protocol)
    await c.subscribe("umqtt_rs/acl/ok/" + cid("as5"), 1, retain_handling=2)
    await c.publish("umqtt_rs/acl/ok/" + cid("as5"), b"x", qos=1, props={umqtt_rs.PROP_CONTENT_TYPE: "ct"})
    async for m in c.messages():
        print("asyncio message", m[1:])
        break
    for q in (1, 2):
        try:
            await c.publish("umqtt_rs/acl/denied", b"x", qos=q)
            print("published?")
        except MQTTException as e:
            print("asyncio refused qos", q, hex(e.args[0]))
    await c.publish("umqtt_rs/acl/ok/" + cid("as5"), b"y", qos=1)
    print("asyncio still connected", c.is_connected())
    await c.disconnect()


asyncio.run(main())

got = []
r = Robust(cid("rob5"), HOST, PORT, protocol=5)
r.set_callback(lambda t, m, p: got.append((m, p)), props=True)
r.connect(props={umqtt_rs.PROP_SESSION_EXPIRY_INTERVAL: 30})
r.subscribe(topic("rob5"), 1)
r.publish(topic("rob5"), b"z", qos=1, props={umqtt_rs.PROP_USER_PROPERTY: [("r", "1")]})
print("robust", r.protocol, got)
r.disconnect()
