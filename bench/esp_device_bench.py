# Runs on an ESP32 device (tools/esp_qemu.py bench), which prepends
#   CASE, LIB, N, SIZE = "pub0" | "pub1" | "recv",
#                        "umqtt_rs" | "umqtt.simple" | "umqtt_rs+coalesce" | "umqtt_rs+pipelined"
#                        | "sock.write" (a floor),
#                        n, payload bytes
# pub0/pub1: N publishes of SIZE bytes at QoS 0/1 (QoS 1 waits for each
# PUBACK), timed around the loop.  recv: subscribe, print READY, and take N
# QoS 0 messages that the host publishes; timed first to last message.
# Prints "RESULT <messages> <msg/s>".  The broker is the host's, 10.0.2.100.
import time

if LIB.startswith("umqtt_rs"):
    from umqtt_rs import MQTTClient
elif LIB == "umqtt.simple":
    from umqtt.simple import MQTTClient
else:
    # LIB "sock.write": the floor, a loop that only writes a prebuilt
    # PUBLISH of the same size to a connected socket; at QoS 1 (pub1) it
    # also reads the PUBACK, blocking (lwIP wakes the read when it comes).
    import socket

    class MQTTClient:
        def __init__(self, cid, host, port):
            self.cid, self.addr = cid.encode(), socket.getaddrinfo(host, port)[0][-1]

        def connect(self):
            self.s = socket.socket()
            self.s.connect(self.addr)
            body = b"\x00\x04MQTT\x04\x02\x00\x00" + bytes((0, len(self.cid))) + self.cid
            self.s.write(bytes((0x10, len(body))) + body)
            self.s.read(4)  # CONNACK

        def publish(self, topic, msg, retain, qos):
            # Built once: only the write is timed.
            if not hasattr(self, "pkt"):
                vh = bytes((0, len(topic))) + topic + (b"\x00\x01" if qos else b"") + msg
                self.pkt = bytes((0x30 | qos << 1, len(vh))) + vh
            self.s.write(self.pkt)
            if qos:
                self.s.read(4)  # PUBACK of id 1, free again for the next

        def disconnect(self):
            self.s.write(b"\xe0\x00")
            self.s.close()

topic = b"bench/" + LIB.replace("+", "-").encode()  # no wildcard in a topic
payload = bytes(SIZE)
got = [0, 0, 0]  # messages, first and last arrival (ticks_us)


def cb(t, m):
    now = time.ticks_us()
    if not got[0]:
        got[1] = now
    got[0] += 1
    got[2] = now


if LIB == "umqtt_rs+coalesce":
    # (pub0 only) publishes share writes: several packets per write.
    c = MQTTClient("bench-" + LIB, "10.0.2.100", 1883, coalesce=True)
else:
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
    if LIB == "umqtt_rs+pipelined":
        # (pub1 only) publish(wait=False) up to the window (16), then drain():
        # every PUBACK is in when the loop ends.
        for i in range(N):
            c.publish(topic, payload, False, qos, wait=False)
        c.drain()
    else:
        for i in range(N):
            c.publish(topic, payload, False, qos)
    if LIB == "umqtt_rs+coalesce":
        c.flush()  # the last ones, inside the timed loop
    rate = N * 1000000 / time.ticks_diff(time.ticks_us(), t0)
    n = N
c.disconnect()
print("RESULT", n, rate)
