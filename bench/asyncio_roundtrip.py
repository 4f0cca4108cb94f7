# asyncio_roundtrip.py: round trip (publish to our own subscription, get the
# message back) with the blocking umqtt_rs client and with umqtt_rs_asyncio,
# QoS 0 and QoS 1 (QoS 1 awaits the PUBACK too), and umqtt_rs_asyncio waiting
# on the client object instead of its socket (N/10 round trips: each costs
# about a millisecond, see the module's header).  Not a timed test: prints
# microseconds per round trip (median and best of 5 runs of N) and the ratio.
#
#   python3 tools/broker.py run -- build/unix/micropython bench/asyncio_roundtrip.py [N]
#
# Needs MQTT_HOST/MQTT_PORT (tools/broker.py sets them).
import asyncio
import os
import random
import sys
import time

from umqtt_rs import MQTTClient
import umqtt_rs_asyncio

HOST = os.getenv("MQTT_HOST") or "127.0.0.1"
PORT = int(os.getenv("MQTT_PORT") or "1883")
N = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
RUNS = 5
TAG = "%08x" % random.getrandbits(32)
MSG = b"x" * 32


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2]


def stats(runs):
    return median(runs), min(runs)


def blocking(qos):
    got = []
    c = MQTTClient("rtt-b-" + TAG, HOST, port=PORT)
    c.set_callback(lambda t, m: got.append(m))
    c.connect()
    t = "umqtt_rs/bench/%s/b" % TAG
    c.subscribe(t, qos)
    runs = []
    for _ in range(RUNS):
        t0 = time.ticks_us()
        for _ in range(N):
            got.clear()
            c.publish(t, MSG, qos=qos)
            while not got:
                c.wait_msg()
        runs.append(time.ticks_diff(time.ticks_us(), t0) / N)
    c.disconnect()
    return stats(runs)


async def nonblocking(qos, wait_on):
    c = umqtt_rs_asyncio.MQTTClient("rtt-a-" + TAG, HOST, port=PORT, wait_on=wait_on)
    await c.connect()
    t = "umqtt_rs/bench/%s/a" % TAG
    await c.subscribe(t, qos)
    msgs = c.messages()
    runs = []
    for _ in range(RUNS):
        t0 = time.ticks_us()
        n = N // 10 if wait_on == "client" else N
        for _ in range(n):
            await c.publish(t, MSG, qos=qos)
            await msgs.__anext__()
        runs.append(time.ticks_diff(time.ticks_us(), t0) / n)
    await c.disconnect()
    return stats(runs)


print("round trip, us per message: median / best of %d runs of %d" % (RUNS, N))
for qos in (0, 1):
    b = blocking(qos)
    a = asyncio.run(nonblocking(qos, "sock"))
    o = asyncio.run(nonblocking(qos, "client"))
    print(
        "qos %d  blocking %.1f / %.1f   asyncio %.1f / %.1f (x%.2f / x%.2f)   asyncio wait_on=client %.0f (x%.0f)"
        % (qos, b[0], b[1], a[0], a[1], a[0] / b[0], a[1] / b[1], o[0], o[0] / b[0])
    )
