# protocol=5 through the Python layers: umqtt_rs_asyncio (props on
# connect/publish, subscription options, messages() with props, a refused publish raises
# MQTTException(0x87) from the publish awaiting it and the connection
# stays up) and umqtt_rs_robust (connect/publish props, set_callback
# props, subscription options kept across a reconnect).
import sys
import time

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

# umqtt_rs_robust's subscription options, also when it subscribes again
# after a reconnect that lost the session (expiry 0): no_local keeps our
# own message away, another client's arrives.
t2 = topic("rob5nl")
got2 = []
drops = []
r2 = Robust(cid("rob5nl"), HOST, PORT, protocol=5, on_disconnect=lambda c, e: drops.append(e))
r2.set_callback(lambda t, m: got2.append(bytes(m)))
r2.connect()
r2.subscribe(t2, 1, no_local=True, retain_handling=2)
r2.sock.close()  # the link drops; the broker forgets the session
r2.publish(t2, b"own", qos=1)  # reconnects, subscribes again, publishes
o = Robust(cid("rob5other"), HOST, PORT, protocol=5)
o.connect()
o.publish(t2, b"theirs", qos=1)
o.disconnect()
t0 = time.ticks_ms()
while len(got2) < 2 and time.ticks_diff(time.ticks_ms(), t0) < 1500:
    r2.check_msg()
    time.sleep_ms(5)
print("robust no_local", got2, len(drops), r2.subscriptions() == {t2.encode(): 1})
try:
    r2.subscribe(t2, 1, retain_handling=3)
except ValueError as e:
    print("robust", e)
r2.disconnect()
r3 = Robust(cid("rob311"), HOST, PORT)
try:
    r3.subscribe(t2, 1, no_local=True)
except ValueError as e:
    print("robust 3.1.1", e, r3.subscriptions())
