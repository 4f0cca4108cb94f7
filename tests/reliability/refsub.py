#!/usr/bin/env python3
"""A spec-exact reference subscriber (host Python), to check the measurement
of the cuts scenario itself: ``run.py --subscriber reference`` runs it in
place of subscriber.py on the firmware.

It does what subscriber.py does (same environment, same output lines, same
checks) on raw sockets, with the simplest client that follows MQTT 3.1.1 to
the letter: a persistent session (clean session 0, fixed client id, no keep
alive), every QoS 2 packet id it has delivered held in an unbounded set
until its PUBREL (MQTT-4.3.3-2: a PUBLISH on a held id is not delivered
again; on any other id it is a new publication, DUP or not), each ack sent
as soon as its packet was handled, and every byte received before the
connection's end handled (also after a write to it failed).  So its QoS 2
duplicates are exactly the broker's re-sends of released ids, which the
proxy counts as ``dup_after_release``: the two numbers must match.

REL_REFSUB_HELD_MAX=K makes it a faulty client on purpose, one that forgets
the oldest held id beyond K (as umqtt_rs did with K = 256): a negative
control, which the cuts scenario must fail.

Standard library only; every wait is bounded.
"""

import os
import socket
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))

from faultproxy import MqttFramer  # noqa: E402

sys.path.insert(0, HERE)
from tally import Tally  # noqa: E402

HOST = os.getenv("MQTT_HOST") or "127.0.0.1"
PORT = int(os.getenv("REL_PORT"))
TAG = os.getenv("REL_TAG")
N = int(os.getenv("REL_N") or "10000")
TIMEOUT = float(os.getenv("REL_TIMEOUT") or "150")
LINGER = int(os.getenv("REL_LINGER_MS") or "1000") / 1000
STOP_FILE = os.getenv("REL_STOP_FILE")
GRACE = 15.0  # seconds after the publisher finished
QOS2_DUPS_FAIL = (os.getenv("REL_QOS2_DUPS") or "fail") == "fail"
PROGRESS = int(os.getenv("REL_PROGRESS") or "0")
IO_TIMEOUT = 3.0  # seconds per connect or write
READ_WAIT = 0.05  # seconds per read

TOPICS = ("umqtt_rs/rel/%s/q1" % TAG).encode(), ("umqtt_rs/rel/%s/q2" % TAG).encode()
CLIENT_ID = ("rel-sub-" + TAG).encode()

tally = Tally(N, True, QOS2_DUPS_FAIL, PROGRESS, lambda line: print(line, flush=True))
error = tally.error
held = {}  # QoS 2 ids delivered, PUBREL not yet received (in order): the session outlives connections
HELD_MAX = int(os.getenv("REL_REFSUB_HELD_MAX") or "0")  # 0: exact (a faulty client otherwise)
max_held = 0
forgotten = 0
subscribed = [False, False]
ready = []  # [True] once "sub: ready" was printed
connects = 0
drops = 0


def connect_packet():
    # protocol "MQTT" level 4, flags 0 (clean session 0), keep alive 0, client id
    body = b"\x00\x04MQTT\x04\x00\x00\x00" + len(CLIENT_ID).to_bytes(2, "big") + CLIENT_ID
    return bytes((0x10, len(body))) + body


def subscribe_packet(i):
    # SUBSCRIBE (flags 0b0010), packet id i + 1, one filter at QoS i + 1
    t = TOPICS[i]
    body = (i + 1).to_bytes(2, "big") + len(t).to_bytes(2, "big") + t + bytes((i + 1,))
    return bytes((0x82, len(body))) + body


def deliver(i, payload, dup):
    tally.deliver(i, int(payload), dup)



def hold(pid):
    global max_held, forgotten
    held[pid] = True
    if HELD_MAX and len(held) > HELD_MAX:
        del held[next(iter(held))]  # the faulty client of REL_REFSUB_HELD_MAX
        forgotten += 1
    max_held = max(max_held, len(held))


class Connection:
    def __init__(self):
        self.sock = socket.create_connection((HOST, PORT), timeout=IO_TIMEOUT)
        self.broken = False  # a write failed: read what is left, then reconnect
        self.framer = MqttFramer(self.on_packet, whole=True)
        self.send(connect_packet())

    def send(self, data):
        if self.broken:
            return
        try:
            self.sock.settimeout(IO_TIMEOUT)
            self.sock.sendall(data)
        except OSError:
            self.broken = True

    def on_packet(self, first, b, s, e):
        t = first >> 4
        if t == 3:  # PUBLISH
            qos = (first >> 1) & 3
            tl = b[s] << 8 | b[s + 1]
            topic = bytes(b[s + 2 : s + 2 + tl])
            p = s + 2 + tl
            pid = None
            if qos:
                pid = b[p] << 8 | b[p + 1]
                p += 2
            i = TOPICS.index(topic) if topic in TOPICS else -1
            if i < 0:
                error("unexpected topic %r" % topic)
            elif qos != i + 1:
                error("topic %d delivered at QoS %d" % (i + 1, qos))
            if qos == 2:
                if pid not in held:
                    hold(pid)
                    if i >= 0:
                        deliver(i, bytes(b[p:e]), first & 0x08)
                self.send(b"\x50\x02" + pid.to_bytes(2, "big"))  # PUBREC
            else:
                if i >= 0:
                    deliver(i, bytes(b[p:e]), first & 0x08)
                if qos == 1:
                    self.send(b"\x40\x02" + pid.to_bytes(2, "big"))  # PUBACK
        elif t == 6:  # PUBREL
            pid = b[s] << 8 | b[s + 1]
            held.pop(pid, None)
            self.send(b"\x70\x02" + pid.to_bytes(2, "big"))  # PUBCOMP
        elif t == 2:  # CONNACK
            global connects
            connects += 1
            if b[s + 1] != 0:
                error("CONNACK return code %d" % b[s + 1])
            if not b[s] & 1:
                held.clear()  # no session on the broker: no flow to continue
                subscribed[0] = subscribed[1] = False
            for i in (0, 1):
                if not subscribed[i]:
                    self.send(subscribe_packet(i))
        elif t == 9:  # SUBACK
            i = (b[s] << 8 | b[s + 1]) - 1
            if 0 <= i <= 1 and b[s + 2] == i + 1:
                subscribed[i] = True
                if all(subscribed) and not ready:
                    ready.append(True)
                    print("sub: ready", flush=True)
            else:
                error("SUBACK %r" % bytes(b[s:e]))

    def poll(self):
        """Handle what arrives within READ_WAIT; False once the connection ended."""
        self.sock.settimeout(READ_WAIT)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return True
        except OSError:
            return False
        if not data:
            return False
        self.framer.feed(data)
        if self.framer.malformed:
            error("malformed packet from the broker")
            return False
        return True

    def close(self):
        self.sock.close()


def stop_requested():
    return bool(STOP_FILE) and os.path.exists(STOP_FILE)


def main():
    global drops
    t0 = time.monotonic()
    conn = None
    done_at = stop_at = None
    while True:
        now = time.monotonic()
        if now - t0 > TIMEOUT:
            error("timeout")
            break
        if stop_at is None and stop_requested():
            stop_at = now
        if stop_at is not None and now - stop_at > GRACE:
            error("publisher done %.0f s ago, messages still missing" % GRACE)
            break
        if done_at is None and tally.done():
            done_at = now
        if done_at is not None and now - done_at > LINGER:
            break
        if conn is None:
            try:
                conn = Connection()
            except OSError:
                time.sleep(0.01)
                continue
        if not conn.poll():
            conn.close()
            conn = None
            drops += 1
            time.sleep(0.001)
    if conn is not None:
        conn.send(b"\xe0\x00")  # DISCONNECT
        conn.close()
    tally.report()
    print(
        "sub: reference drops=%d connects=%d held_at_end=%d max_held=%d forgotten=%d in %d ms"
        % (drops, connects, len(held), max_held, forgotten, (time.monotonic() - t0) * 1000)
    )
    return 0 if tally.finish() else 1


if __name__ == "__main__":
    sys.exit(main())
