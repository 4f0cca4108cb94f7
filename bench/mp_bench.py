# mp_bench.py: the MicroPython side of `make bench`, one case per process.
#
#   micropython mp_bench.py CLIENT HOST PORT MODE N ARGS... TOPIC
#
# CLIENT is "rs" (umqtt_rs) or "simple" (umqtt.simple, found on MICROPYPATH).
# MODE:
#   pub N QOS SIZE        publish N messages (QoS 1 waits for each PUBACK)
#   pipe N WINDOW SIZE    QoS 1 pipelined (umqtt_rs only): MQTTClient(...,
#                         window=WINDOW), publish(..., wait=False) N times
#                         (it waits for an ack only when the window is
#                         full), then drain(); timed up to the last PUBACK
#   heap_pipe N WINDOW SIZE  heap bytes allocated by N pipelined publishes
#   sub N QOS             subscribe, print READY, receive N messages
#   rtt N SIZE            publish and wait for our own copy, N times
#   heap_pub N QOS SIZE   heap bytes allocated by N publishes (GC disabled)
#   heap_sub N QOS        heap bytes allocated per received message
# N = 0 does the setup only: the orchestrator measures the process's CPU time
# from outside and subtracts that baseline.  Prints one JSON line.
import gc
import json
import random
import sys
import time
from array import array

CLIENT, HOST, PORT, MODE, N = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
ARGS = [int(a) for a in sys.argv[6:-1]]
TOPIC = sys.argv[-1].encode()

if CLIENT == "rs":
    from umqtt_rs import MQTTClient
else:
    from umqtt.simple import MQTTClient

count = 0
t_first = 0
t_last = 0
h0 = 0
h1 = 0
result = {"n": N}


def client(tag, **kw):
    cid = "bench-%s-%s-%08x" % (CLIENT, tag, random.getrandbits(32))
    return MQTTClient(cid.encode(), HOST, port=PORT, **kw)


def on_msg(topic, msg):
    global count, t_first, t_last
    count += 1
    t_last = time.ticks_us()
    if count == 1:
        t_first = t_last


def on_msg_heap(topic, msg):
    global count, h0, h1
    count += 1
    if count == 1:
        gc.collect()
        gc.disable()
        h0 = gc.mem_alloc()
    elif count == N:
        h1 = gc.mem_alloc()
        gc.enable()


def empty_loop_heap(n):
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    for _ in range(n):
        pass
    b = gc.mem_alloc()
    gc.enable()
    return b - a


def run_pub(qos, size):
    c = client("pub")
    c.connect()
    msg = b"x" * size
    gc.collect()
    t0 = time.ticks_us()
    if qos == 0:
        for _ in range(N):
            c.publish(TOPIC, msg)
    else:
        for _ in range(N):
            c.publish(TOPIC, msg, False, qos)
    result["elapsed_us"] = time.ticks_diff(time.ticks_us(), t0)
    c.disconnect()


def run_pipe(window, size):
    c = client("pipe", window=window)
    c.connect()
    msg = b"x" * size
    gc.collect()
    t0 = time.ticks_us()
    for _ in range(N):
        c.publish(TOPIC, msg, False, 1, wait=False)
    if not c.drain(30):
        raise SystemExit("drain timed out with %d in flight" % c.inflight())
    result["elapsed_us"] = time.ticks_diff(time.ticks_us(), t0)
    c.disconnect()


def run_heap_pipe(window, size):
    c = client("heap", window=window)
    c.connect()
    msg = b"x" * size
    for _ in range(3):
        c.publish(TOPIC, msg, False, 1, wait=False)
    c.drain(30)
    loop = empty_loop_heap(N)
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    for _ in range(N):
        c.publish(TOPIC, msg, False, 1, wait=False)
    c.drain(30)
    b = gc.mem_alloc()
    gc.enable()
    result["heap_bytes"] = b - a - loop
    c.disconnect()


def run_heap_pub(qos, size):
    c = client("heap")
    c.connect()
    msg = b"x" * size
    for _ in range(3):  # warm up: first calls may fill caches
        c.publish(TOPIC, msg, False, qos)
    loop = empty_loop_heap(N)
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    for _ in range(N):
        c.publish(TOPIC, msg, False, qos)
    b = gc.mem_alloc()
    gc.enable()
    result["heap_bytes"] = b - a - loop
    c.disconnect()


def receive_floor(topic_len, payload_len):
    # What a received message must cost at least: a bytes object for the
    # topic and one for the payload.
    t = memoryview(b"t" * topic_len)
    p = memoryview(b"p" * payload_len)
    gc.collect()
    gc.disable()
    a = gc.mem_alloc()
    x = bytes(t)
    y = bytes(p)
    b = gc.mem_alloc()
    gc.enable()
    return b - a + 0 * (len(x) + len(y))


def run_sub(qos, heap, view=False):
    c = client("sub")
    c.connect()
    if view:
        c.set_callback(on_msg_heap, view=True)  # umqtt_rs only
    else:
        c.set_callback(on_msg_heap if heap else on_msg)
    c.subscribe(TOPIC, qos)
    print("READY")
    while count < N:
        c.wait_msg()
    if heap:
        result["heap_bytes"] = h1 - h0
        result["floor_bytes"] = receive_floor(len(TOPIC), 16)
    else:
        result["elapsed_us"] = time.ticks_diff(t_last, t_first)
    c.disconnect()


def run_rtt(size):
    c = client("rtt")
    c.connect()
    c.set_callback(on_msg)
    c.subscribe(TOPIC)
    msg = b"x" * size
    lat = array("I", bytes(4 * max(N, 1)))
    gc.collect()
    for i in range(N):
        t0 = time.ticks_us()
        c.publish(TOPIC, msg)
        while count == i:
            c.wait_msg()
        lat[i] = time.ticks_diff(time.ticks_us(), t0)
    c.disconnect()
    if N:
        s = sorted(lat)
        result["p50_us"] = s[(N - 1) // 2]
        result["p99_us"] = s[(N * 99 - 1) // 100]


if MODE == "pub":
    run_pub(ARGS[0], ARGS[1])
elif MODE == "pipe":
    run_pipe(ARGS[0], ARGS[1])
elif MODE == "heap_pipe":
    run_heap_pipe(ARGS[0], ARGS[1])
elif MODE == "heap_pub":
    run_heap_pub(ARGS[0], ARGS[1])
elif MODE == "sub":
    run_sub(ARGS[0], False)
elif MODE == "heap_sub":
    run_sub(ARGS[0], True)
elif MODE == "heap_sub_view":
    run_sub(ARGS[0], True, view=True)
elif MODE == "rtt":
    run_rtt(ARGS[0])
else:
    raise SystemExit("unknown mode " + MODE)
print(json.dumps(result))
