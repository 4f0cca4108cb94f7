#!/usr/bin/env python3
"""Reproduction: a QoS 2 message is delivered twice after more than 64 are unreleased.

    python3 tests/reliability/repro/qos2_dup_after_held_overflow.py [firmware]

A scripted broker (this process) sends 65 QoS 2 PUBLISHes (ids 1..65) and no
PUBREL, reads the 65 PUBRECs but acts as if they were lost with the
connection, and closes it.  On the reconnect (clean_session=False, same
object) it resends id 1 with DUP=1, as a broker must when it has no PUBREC
(mosquitto 2.0.11 resent up to 132 unreleased QoS 2 messages to the
reliability subscriber after a cut).  When the client held at most 64 ids
it had forgotten id 1 and delivered "m1" a second time; it now holds
MAX_INCOMING_QOS2 = 256 (beyond that the oldest is still forgotten, by
design).  Expected: m1 delivered once; exit status 1 when twice.
"""

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from scripted_peer import read_packet, run  # noqa: E402
COUNT = 65

CLIENT = r"""
import os, time
from umqtt_rs import MQTTClient
got = []
c = MQTTClient("repro", "127.0.0.1", port=int(os.getenv("PORT")))
c.set_callback(lambda t, m: got.append(m))
c.connect(clean_session=False)
try:
    while True:
        c.wait_msg()
except OSError as e:
    print("first connection ended:", repr(e), "delivered", len(got))
print("session present", c.connect(clean_session=False))
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < 1000:
    c.check_msg()
    time.sleep_ms(10)
print("m1 delivered %d times" % got.count(b"m1"))
"""



def publish(pid, payload, dup=False):
    body = b"\x00\x02/t" + pid.to_bytes(2, "big") + payload
    return bytes((0x3C if dup else 0x34, len(body))) + body


def broker(lsock, log):
    lsock.settimeout(10)
    conn, _ = lsock.accept()
    conn.settimeout(10)
    read_packet(conn)  # CONNECT
    conn.sendall(b"\x20\x02\x00\x00" + b"".join(publish(i, b"m%d" % i) for i in range(1, COUNT + 1)))
    recs = 0
    while recs < COUNT:
        first, _ = read_packet(conn)
        recs += first == 0x50
    log.append("broker: %d PUBRECs dropped, closing without PUBREL" % recs)
    conn.close()
    conn, _ = lsock.accept()
    conn.settimeout(10)
    read_packet(conn)  # CONNECT
    conn.sendall(b"\x20\x02\x01\x00" + publish(1, b"m1", dup=True))
    first, body = read_packet(conn)
    log.append("broker got %02x %s" % (first, body.hex()))
    conn.sendall(b"".join(b"\x62\x02" + i.to_bytes(2, "big") for i in range(1, COUNT + 1)))
    time.sleep(1.5)
    conn.close()


def main():
    return run(CLIENT, broker, "m1 delivered 1 times")


if __name__ == "__main__":
    sys.exit(main())
