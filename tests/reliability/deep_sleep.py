#!/usr/bin/env python3
"""Deep sleep on unix: the session crosses a process boundary.

    python3 tests/reliability/deep_sleep.py [firmware]

A scripted broker (a thread of this process) and two runs of the firmware.
The first process publishes a QoS 1 and a QoS 2 message that the broker
does not complete (no PUBACK; PUBREC but no PUBCOMP) and receives a QoS 2
message (id 9, PUBREC sent), writes session_bytes() to a file and exits
without DISCONNECT, as a device going to deep sleep.  The second process
makes a client from the file and connects with clean_session=False: the
broker must see the QoS 1 PUBLISH again with DUP set and its original id,
the PUBREL of the QoS 2 one, and for its resend of id 9 a PUBREC with no
second delivery.  Exit status 0 when all of that holds.
"""

import os
import socket
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from scripted_peer import firmware, read_packet  # noqa: E402

FIRST = r"""
import os, time
from umqtt_rs import MQTTClient
got = []
c = MQTTClient("sleeper", "127.0.0.1", port=int(os.getenv("PORT")))
c.set_callback(lambda t, m: got.append(m))
c.connect(clean_session=False)
print("ids", c.publish("t", b"one", qos=1, wait=False), c.publish("t", b"two", qos=2, wait=False))
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < 500:
    c.check_msg()
    time.sleep_ms(10)
print("got", got, "in flight", c.inflight())
with open(os.getenv("STATE"), "wb") as f:
    f.write(c.session_bytes())
print("saved")
"""

SECOND = r"""
import os, time
from umqtt_rs import MQTTClient
got = []
with open(os.getenv("STATE"), "rb") as f:
    c = MQTTClient("sleeper", "127.0.0.1", port=int(os.getenv("PORT")), session=f.read())
c.set_callback(lambda t, m: got.append(m))
print("restored, in flight", c.inflight())
print("session present", c.connect(clean_session=False))
t0 = time.ticks_ms()
while c.inflight() and time.ticks_diff(time.ticks_ms(), t0) < 3000:
    c.check_msg()
    time.sleep_ms(10)
print("got", got, "in flight", c.inflight())
c.disconnect()
"""


def publish(topic, payload, qos, pid, dup=False):
    body = len(topic).to_bytes(2, "big") + topic + pid.to_bytes(2, "big") + payload
    return bytes((0x30 | (8 if dup else 0) | (qos << 1), len(body))) + body


def broker(lsock, log, seen):
    lsock.settimeout(20)
    # First wake.
    conn, _ = lsock.accept()
    conn.settimeout(10)
    read_packet(conn)  # CONNECT
    conn.sendall(b"\x20\x02\x00\x00")
    ids = []
    while len(ids) < 2:
        first, body = read_packet(conn)
        if first >> 4 == 3:
            n = int.from_bytes(body[:2], "big")
            ids.append((first, int.from_bytes(body[2 + n : 4 + n], "big"), body[4 + n :]))
    seen["first"] = ids
    conn.sendall(b"\x50\x02" + ids[1][1].to_bytes(2, "big"))  # PUBREC for the QoS 2 one
    conn.sendall(publish(b"in", b"held", 2, 9))
    got = []
    try:
        while True:
            first, body = read_packet(conn)
            got.append((first, body))
    except (EOFError, OSError):
        pass
    seen["first_after"] = got
    conn.close()
    # Second wake.
    conn, _ = lsock.accept()
    conn.settimeout(10)
    first, body = read_packet(conn)
    seen["connect_flags"] = body[7]
    conn.sendall(b"\x20\x02\x01\x00")  # session present
    conn.sendall(publish(b"in", b"held", 2, 9, dup=True))
    got = []
    for _ in range(3):
        got.append(read_packet(conn))
    seen["second"] = got
    pid1, pid2 = ids[0][1], ids[1][1]
    conn.sendall(b"\x40\x02" + pid1.to_bytes(2, "big") + b"\x70\x02" + pid2.to_bytes(2, "big"))
    try:
        while True:
            read_packet(conn)
    except (EOFError, OSError):
        pass
    conn.close()


def main():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    seen = {}
    log = []
    t = threading.Thread(target=broker, args=(lsock, log, seen), daemon=True)
    t.start()
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, PORT=str(lsock.getsockname()[1]), STATE=os.path.join(d, "session"))
        outs = []
        for script in (FIRST, SECOND):
            r = subprocess.run([firmware(), "-c", script], env=env, capture_output=True, text=True, timeout=30)
            outs.append(r.stdout + r.stderr)
            print(r.stdout + r.stderr, end="")
    t.join(10)
    (f1, pid1, p1), (f2, pid2, p2) = seen["first"]
    second = seen.get("second", [])
    checks = [
        ("first wake: QoS 1 and QoS 2 published", (f1, f2, p1, p2) == (0x32, 0x34, b"one", b"two")),
        ("first wake: id 9 delivered", "got [b'held']" in outs[0]),
        ("second wake: connects with clean_session=0", seen.get("connect_flags", 2) & 2 == 0),
        ("second wake: QoS 1 PUBLISH again, DUP, same id",
         len(second) > 0 and second[0][0] == 0x3A and second[0][1][3:5] == pid1.to_bytes(2, "big")
         and second[0][1].endswith(b"one")),
        ("second wake: PUBREL for the QoS 2 one", (0x62, pid2.to_bytes(2, "big")) in second),
        ("second wake: id 9 resend acknowledged (PUBREC)", (0x50, b"\x00\x09") in second),
        ("second wake: id 9 not delivered again", "got [] in flight 0" in outs[1]),
    ]
    ok = True
    for what, good in checks:
        print("deep-sleep: %s %s" % ("ok  " if good else "FAIL", what))
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
