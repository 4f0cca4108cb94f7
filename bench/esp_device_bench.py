# Runs on an ESP32 device (tools/esp_qemu.py bench), which prepends
#   CASE, LIB, N, SIZE = "pub0" | "pub1" | "recv", "umqtt_rs" | "umqtt.simple", n, payload bytes
# pub0/pub1: N publishes of SIZE bytes at QoS 0/1 (QoS 1 waits for each
# PUBACK), timed around the loop.  recv: subscribe, print READY, and take N
# QoS 0 messages that the host publishes; timed first to last message.
# Prints "RESULT <messages> <msg/s>".  The broker is the host's, 10.0.2.100.
import time

if LIB == "umqtt_rs":
    from umqtt_rs import MQTTClient
else:
    from umqtt.simple import MQTTClient

topic = b"bench/" + LIB.encode()
payload = bytes(SIZE)
got = [0, 0, 0]  # messages, first and last arrival (ticks_us)


def cb(t, m):
    now = time.ticks_us()
    if not got[0]:
        got[1] = now
    got[0] += 1
    got[2] = now


c = MQTTClient("bench-" + LIB, "10.0.2.100", 1883)
c.connect()
if CASE == "recv":
    c.set_callback(cb)
    c.subscribe(topic, 0)
    print("READY")
    while got[0] < N:
        c.wait_msg()
    dt = time.ticks_diff(got[2], got[1])
    rate = (got[0] - 1) * 1000000 / dt if dt > 0 else 0
    n = got[0]
else:
    qos = 1 if CASE == "pub1" else 0
    t0 = time.ticks_us()
    for i in range(N):
        c.publish(topic, payload, False, qos)
    rate = N * 1000000 / time.ticks_diff(time.ticks_us(), t0)
    n = N
c.disconnect()
print("RESULT", n, rate)
