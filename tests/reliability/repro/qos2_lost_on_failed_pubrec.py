#!/usr/bin/env python3
"""Reproduction: a QoS 2 message is lost when the PUBREC write fails.

    python3 tests/reliability/repro/qos2_lost_on_failed_pubrec.py [firmware]

A scripted broker (this process) sends CONNACK + a QoS 2 PUBLISH (id 1) in
one write, then resets the connection.  The client has the PUBLISH in its rx
buffer; handling it holds id 1 and queues PUBREC; the PUBREC write fails
(ECONNRESET) and the OSError propagates before the callback ran.  On the
reconnect (clean_session=False, same object) the broker resends the PUBLISH
with DUP=1 and id 1, as MQTT-4.3.3 requires; the client takes it for a
duplicate of a delivered message, answers PUBREC, completes the flow, and
never calls the callback: the message is lost.  Expected: "delivered
[b'm1']"; exit status 1 when it is lost.
"""

import os
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from scripted_peer import read_packet, run  # noqa: E402

CLIENT = r"""
import os, time
from umqtt_rs import MQTTClient
got = []
c = MQTTClient("repro", "127.0.0.1", port=int(os.getenv("PORT")))
c.set_callback(lambda t, m: got.append(m))
c.connect(clean_session=False)
time.sleep_ms(300)                    # the reset arrives meanwhile
try:
    c.wait_msg()                      # PUBLISH id 1 handled, PUBREC write fails
    print("no error on the first connection")
except OSError as e:
    print("first connection:", repr(e), "delivered", got)
print("session present", c.connect(clean_session=False))
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < 1000:
    c.check_msg()
    time.sleep_ms(10)
print("delivered", got)
"""



PUBLISH = bytes((0x34, 8, 0, 2)) + b"/t" + b"\x00\x01" + b"m1"  # QoS 2, id 1, "m1"
PUBLISH_DUP = bytes((0x3C,)) + PUBLISH[1:]  # the same with DUP=1


def broker(lsock, log):
    lsock.settimeout(10)
    # Connection 1: CONNACK + PUBLISH in one write, then a reset.
    conn, _ = lsock.accept()
    conn.settimeout(10)
    read_packet(conn)  # CONNECT
    conn.sendall(b"\x20\x02\x00\x00" + PUBLISH)
    time.sleep(0.1)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
    # Connection 2: session present; resend the PUBLISH with DUP, finish the flow.
    conn, _ = lsock.accept()
    conn.settimeout(10)
    read_packet(conn)  # CONNECT
    conn.sendall(b"\x20\x02\x01\x00" + PUBLISH_DUP)
    first, body = read_packet(conn)
    log.append("broker got %02x %s" % (first, body.hex()))
    if first == 0x50:  # PUBREC -> PUBREL
        conn.sendall(b"\x62\x02" + body[:2])
        first, body = read_packet(conn)
        log.append("broker got %02x %s" % (first, body.hex()))
    time.sleep(1.5)
    conn.close()


def main():
    return run(CLIENT, broker, "delivered [b'm1']")


if __name__ == "__main__":
    sys.exit(main())
