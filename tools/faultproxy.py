#!/usr/bin/env python3
"""A fault-injection TCP proxy for the umqtt_rs tests (loopback only).

Sits between a client (the firmware) and a broker (mosquitto) and forwards
bytes both ways, while it can:

* **cut** a connection (close both ends, or reset them with ``rst=True``)
  after exactly N bytes in one direction: ``cut_at=("up", N)`` for every
  connection, or a list of ``("up"|"down", N)`` / ``None`` consumed one per
  new connection;
* cut at **random** points: ``cut_random=(lo, hi)`` picks, for each new
  connection, a direction ("up" = client to broker, "down" = broker to
  client) and an offset in [lo, hi] in that direction;
  ``cut_random={"up": (lo, hi), "down": (lo, hi)}`` gives each direction its
  own range (the downstream of a publisher carries far fewer bytes); a
  range ``(lo, hi, "log")`` draws the offset log-uniformly (as many cuts in
  1..10 as in 10..100, 100..1000...: mostly short connections, a few long);
* **hold** the clients: ``hold_up=callable`` is asked on every turn of the
  loop, and while it returns true nothing is read from the clients (their
  writes back up, as on a slow link); downstream goes on;
* **split** every write into 1-byte pieces (``split=True``; ``split_gap``
  seconds between pieces, so that the reader sees them one by one);
* **delay** every piece by ``delay`` seconds (latency, order kept);
* **trace** what it forwards: ``trace=path`` appends one line per write,
  ``<connection> <up|down|cut|open> <hex bytes>``, to debug a failure;
* **restart the broker** (``restart_broker()``: cut every connection, stop
  and start the :class:`broker.Broker` given as ``broker=``, same port, same
  persistence file);
* **account for MQTT** (``mqtt=True``, :class:`MqttAccount` as ``p.mqtt``):
  frame the MQTT 3.1.1 packets of the bytes it forwarded, in both directions,
  and count, for the client's QoS 2 receiving flows, each PUBLISH with DUP
  for a packet id whose PUBREL the client had fully received (the broker's
  re-send of a released id, which MQTT-4.3.3-2 makes a new publication for
  the client); and say where each cut fell (between packets, inside a fixed
  header, inside a body).

Every loop waits with a timeout; the proxy runs in one thread.  Faults can be
changed while it runs (``set_faults``).  Counters: ``connections``, ``cuts``
(``cut_log`` lists ``(direction, offset)``; with ``mqtt=True``,
``cut_where`` counts ``(direction, "between"|"header"|"body")``),
``bytes_up``, ``bytes_down``, ``refused`` (clients closed because the broker
did not accept).

As a module::

    from faultproxy import FaultProxy
    with FaultProxy(broker_port, cut_random=(1, 4000), seed=1) as p:
        connect_to("127.0.0.1", p.port)
        ...
        print(p.cuts)

Command line (runs until Ctrl-C, or ``--duration`` seconds)::

    python3 tools/faultproxy.py --target-port 1883 --port 18830 \\
        --cut-random 1 4000 --split --delay 0.01 -v

or with a private mosquitto behind it, running a command with MQTT_HOST and
MQTT_PORT pointing at the proxy (and MQTT_BROKER_PORT at mosquitto)::

    python3 tools/faultproxy.py run --cut-random 1 4000 -- CMD ARGS...

Standard library only.
"""

import argparse
import collections
import math
import os
import random
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

HOST = "127.0.0.1"
TICK = 0.05  # longest wait of the proxy loop, seconds
HOLD_TICK = 0.002  # longest wait while hold_up holds the clients
CONNECT_TIMEOUT = 2.0  # seconds for the broker to accept a connection
STOP_TIMEOUT = 5.0  # seconds for the proxy thread to end
MAX_BUFFER = 256 * 1024  # bytes held per direction before reading pauses
CHUNK = 65536
DIRECTIONS = ("up", "down")


class _Flow:
    """One direction of a proxied connection: bytes read from src, queued, written to dst."""

    def __init__(self, name, src, dst):
        self.name = name
        self.src = src
        self.dst = dst
        self.queue = collections.deque()  # [due time, bytearray]
        self.queued = 0
        self.sent = 0  # bytes forwarded
        self.limit = None  # cut after this many bytes forwarded
        self.next_at = 0.0  # earliest time of the next write (split_gap)
        self.eof = False  # src closed
        self.framer = None  # MqttFramer fed with what was written (mqtt=True)

    def due(self, now):
        return self.queue and self.queue[0][0] <= now and self.next_at <= now

    def next_time(self):
        if not self.queue:
            return None
        return max(self.queue[0][0], self.next_at)


class _Pipe:
    def __init__(self, client, upstream):
        self.client = client
        self.upstream = upstream
        self.up = _Flow("up", client, upstream)
        self.down = _Flow("down", upstream, client)
        self.flows = (self.up, self.down)
        self.closed = False

    def close(self, rst=False):
        if self.closed:
            return
        self.closed = True
        for s in (self.client, self.upstream):
            if rst:
                try:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                except OSError:
                    pass
            try:
                s.close()
            except OSError:
                pass


def _parse_range(r):
    """(lo, hi) or (lo, hi, "uniform"|"log") -> (lo, hi, log?)."""
    lo, hi = int(r[0]), int(r[1])
    kind = r[2] if len(r) > 2 else "uniform"
    if kind not in ("uniform", "log"):
        raise ValueError("cut_random: a range is uniform or log, not %r" % (kind,))
    if not 0 <= lo <= hi:
        raise ValueError("cut_random needs 0 <= lo <= hi")
    return lo, hi, kind == "log"


def _parse_direction(d):
    if d not in DIRECTIONS:
        raise ValueError("direction must be 'up' or 'down', not %r" % (d,))
    return d


# ---------------------------------------------------------------------------
# MQTT accounting of the forwarded bytes

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREL, PUBCOMP = 1, 2, 3, 4, 6, 7
HEAD_MAX = 65536 + 8  # body bytes kept to decode one packet (a CONNECT, a PUBLISH's topic + id)
MAX_EVENTS = 100000  # MqttAccount.events kept
PAYLOAD_HEAD = 32  # payload bytes kept in MqttAccount.events
PROPS_HEAD = 16  # room for an MQTT 5 PUBLISH's property section in a kept head


class MqttFramer:
    """Frames MQTT packets (3.1.1 or 5) out of a byte stream fed in pieces.

    ``feed(data)`` takes the stream's bytes in order, in pieces of any size;
    once a packet's last byte has been fed it calls ``on_packet(first, body,
    start, stop)``: ``first`` is the fixed header's first byte and
    ``body[start:stop]`` the start of the packet's body, at least what its
    type needs (the packet id; a PUBLISH's topic length, topic, id and
    PAYLOAD_HEAD bytes of payload; all of a CONNECT up to HEAD_MAX bytes).  A packet whose last byte never came is
    never reported.  Payload bytes are skipped, not kept: memory stays at
    one packet's head; with ``whole=True`` ``body[start:stop]`` is always
    the whole body (for a client that needs payloads: memory up to one
    whole packet).  A malformed remaining length (more than 4 bytes)
    stops the framing for good (``malformed``; ``on_malformed()`` is called).
    """

    __slots__ = ("on_packet", "on_malformed", "whole", "packets", "malformed", "_buf", "_skip", "_pending")

    def __init__(self, on_packet, on_malformed=None, whole=False):
        self.on_packet = on_packet
        self.on_malformed = on_malformed
        self.whole = whole
        self.packets = 0
        self.malformed = False
        self._buf = bytearray()  # the current packet's start: fixed header + head of the body
        self._skip = 0  # bytes of the current packet still to come, its head already in _pending
        self._pending = None  # (first, head) of that packet

    def where(self):
        """Where the stream stands: "between" packets, inside a fixed "header" or a "body"."""
        if self._skip:
            return "body"
        b = self._buf
        if not b:
            return "between"
        # A complete packet never stays in _buf: a complete fixed header means
        # the body is incomplete.
        for i in range(1, min(len(b), 5)):
            if b[i] < 0x80:
                return "body"
        return "header"

    def feed(self, data):
        if self.malformed:
            return
        if self._skip:
            if len(data) < self._skip:
                self._skip -= len(data)
                return
            data = memoryview(data)[self._skip :]
            self._skip = 0
            first, head = self._pending
            self._pending = None
            self.packets += 1
            self.on_packet(first, head, 0, len(head))
            if not data:
                return
        buf = self._buf
        buf += data
        n = len(buf)
        pos = 0
        while pos < n:
            first = buf[pos]
            # Remaining length: 1..4 bytes, 7 bits each, low group first.
            i = pos + 1
            rl = 0
            shift = 0
            while i < n:
                b = buf[i]
                i += 1
                rl |= (b & 0x7F) << shift
                if b < 0x80:
                    break
                shift += 7
                if shift > 21:
                    self.malformed = True
                    del buf[:]
                    if self.on_malformed is not None:
                        self.on_malformed()
                    return
            else:
                break  # fixed header incomplete
            end = i + rl
            if end <= n:
                self.packets += 1
                self.on_packet(first, buf, i, end)
                pos = end
                continue
            if self.whole:
                break
            # Incomplete: once its head is here, keep only that and skip the rest.
            t = first >> 4
            if t == PUBLISH:
                if not first & 0x06:
                    need = 0
                elif n - i < 2:
                    break
                else:
                    need = 2 + (buf[i] << 8 | buf[i + 1]) + 2 + PROPS_HEAD + PAYLOAD_HEAD
            elif t == CONNECT:
                need = min(rl, HEAD_MAX)
            else:
                need = 2
            need = min(need, rl)
            if i + need <= n:
                self._pending = (first, bytes(buf[i : i + need]))
                self._skip = end - n
                pos = n
            break
        del buf[:pos]


def _var_int(b, p):
    """(value, offset after it) of the variable byte integer at b[p]
    (IndexError past the end)."""
    n = shift = 0
    while True:
        c = b[p]
        p += 1
        n |= (c & 0x7F) << shift
        if c < 0x80 or shift >= 21:
            return n, p
        shift += 7


class _Session:
    """The client's receiving state as the proxy saw it (outlives connections)."""

    __slots__ = ("released", "completed", "open", "message", "held")

    def __init__(self):
        # QoS 2 ids whose PUBREL reached the client, no PUBLISH since ->
        # the message released (topic, payload head), None if unknown
        self.released = {}
        self.message = {}  # QoS 2 id -> (topic, payload head) of its last PUBLISH
        self.held = set()  # QoS 2 ids whose PUBLISH reached the client, PUBREL not yet
        self.completed = set()  # QoS 2 ids whose PUBCOMP came from the client, no PUBLISH since
        self.open = set()  # ids of QoS 1/2 flows to the client not completed (PUBACK, PUBCOMP)


class MqttAccount:
    """What the proxy's clients received, counted from the forwarded bytes.

    A packet counts once its last byte was written to the client's socket
    (down) or to the broker's (up): a packet cut in the middle did not
    arrive.  State is kept per client id (from the CONNECT), across
    connections, as the broker keeps the session; a CONNECT with clean
    session, or a CONNACK without session present, starts it afresh.

    Counters:

    * ``qos2_publishes_down`` / ``qos2_dup_down``: QoS 2 PUBLISH packets
      delivered to clients / of which with DUP set;
    * ``pubrels_down``: PUBREL packets delivered to clients;
    * ``dup_after_release``: QoS 2 PUBLISH with DUP for an id whose PUBREL
      the client had fully received, with no PUBLISH on that id in between,
      carrying the same message as the flow that PUBREL released (same
      topic and first PAYLOAD_HEAD payload bytes).  MQTT-4.3.3-2 makes the
      client treat it as a new publication, so each is one duplicate the
      broker caused (mosquitto 2.0.11 sends them after reconnects).  An
      upper bound: a client that got the PUBREL's bytes but lost the
      connection before reading them still holds the id and drops the
      re-send;
    * ``released_id_reused``: QoS 2 PUBLISH with DUP on such an id carrying
      another message: the broker reused the id (mosquitto's ids wrap after
      65,535 messages) and this is the new message's first complete send
      (mosquitto sets DUP on whatever it sends after a reconnect, sent
      before or not).  Not a duplicate; not counted above;
    * ``dup_after_pubcomp``: those among them whose PUBCOMP the client had
      sent (the proxy forwarded it to the broker, which may still have
      dropped it with the connection): the client had surely released the
      id.  A lower bound of the same;
    * ``events``: ``(connection, client id, packet id, pubcomp seen, topic,
      payload head)`` per ``dup_after_release`` (the first PAYLOAD_HEAD
      bytes of the payload: which message the broker re-sent);
      ``per_connection``: connection -> that count;
    * ``malformed``: connections whose framing failed (then not counted);
    * ``down_types[t]`` / ``up_types[t]``: packets of type t (1 CONNECT ..
      14 DISCONNECT) delivered to clients / to the broker;
    * ``held_max``: the most QoS 2 ids a client had to hold at once: ids
      whose PUBLISH had reached it and whose PUBREL had not (the broker's
      in-flight window as the client sees it; MQTT 3.1.1 does not bound it);
    * ``flows_open``: QoS 1/2 flows from the broker to the clients not
      completed yet: opened by a PUBLISH (or a PUBREL) delivered to the
      client, closed by its PUBACK or PUBCOMP delivered to the broker.  An
      estimate of what the broker has in flight to the clients, which it
      re-sends at once after a reconnect (an ack that reached the broker's
      socket but that the broker dropped with the connection closes a flow
      too early; the broker's re-send opens it again).

    A broker that re-sends a released id with another message of the same
    topic and payload head would be counted in ``dup_after_release``: give
    test messages distinct payloads.
    """

    def __init__(self):
        self.qos2_publishes_down = 0
        self.qos2_dup_down = 0
        self.pubrels_down = 0
        self.dup_after_release = 0
        self.dup_after_pubcomp = 0
        self.malformed = 0
        self.released_id_reused = 0
        self.held_max = 0
        self.down_types = [0] * 16
        self.up_types = [0] * 16
        self.flows_open = 0
        self.events = []
        self.per_connection = collections.Counter()
        self._sessions = {}

    def session(self, client_id):
        s = self._sessions.get(client_id)
        if s is None:
            s = self._sessions[client_id] = _Session()
        return s

    def _clear(self, sess):
        self.flows_open -= len(sess.open)
        sess.open.clear()
        sess.released.clear()
        sess.completed.clear()
        sess.message.clear()
        sess.held.clear()

    def connection(self, number, on_event=None):
        """The framers of a new connection: ``(up, down)``, each with ``feed``."""
        return _MqttConnection(self, number, on_event)

    def stats(self):
        return {
            "qos2_publishes_down": self.qos2_publishes_down,
            "qos2_dup_down": self.qos2_dup_down,
            "pubrels_down": self.pubrels_down,
            "dup_after_release": self.dup_after_release,
            "dup_after_pubcomp": self.dup_after_pubcomp,
            "malformed": self.malformed,
            "released_id_reused": self.released_id_reused,
            "held_max": self.held_max,
            "flows_open": self.flows_open,
        }


class _MqttConnection:
    def __init__(self, acct, number, on_event):
        self.acct = acct
        self.number = number
        self.on_event = on_event
        self.client_id = None
        self.v5 = False  # the CONNECT's protocol level was 5
        self.sess = acct.session(None)
        self.up = MqttFramer(self._up, self._malformed)
        self.down = MqttFramer(self._down, self._malformed)
        self._bad = False

    def _malformed(self):
        if not self._bad:
            self._bad = True
            self.acct.malformed += 1

    def _up(self, first, b, s, e):
        t = first >> 4
        self.acct.up_types[t] += 1
        if t == PUBCOMP or t == PUBACK:
            if e - s < 2:
                self._malformed()
                return
            pid = b[s] << 8 | b[s + 1]
            sess = self.sess
            if pid in sess.open:
                sess.open.remove(pid)
                self.acct.flows_open -= 1
            if t == PUBCOMP:
                sess.completed.add(pid)
        elif t == CONNECT:
            # protocol name, level, flags, keep alive, client id
            try:
                p = s + 2 + (b[s] << 8 | b[s + 1])
                self.v5 = b[p] == 5
                flags = b[p + 1]
                p += 4
                if self.v5:
                    n, p = _var_int(b, p)
                    p += n  # CONNECT properties
                cid = bytes(b[p + 2 : p + 2 + (b[p] << 8 | b[p + 1])])
            except IndexError:
                self._malformed()
                return
            self.client_id = cid
            self.sess = self.acct.session(cid)
            if flags & 0x02:
                self.acct._clear(self.sess)

    def _dup_after_release(self, pid, msg):
        acct = self.acct
        acct.dup_after_release += 1
        acct.per_connection[self.number] += 1
        completed = pid in self.sess.completed
        if completed:
            acct.dup_after_pubcomp += 1
        if len(acct.events) < MAX_EVENTS:
            acct.events.append((self.number, self.client_id, pid, completed) + msg)
        if self.on_event is not None:
            self.on_event("dup-after-release %d%s" % (pid, " pubcomp-seen" if completed else ""))

    def _down(self, first, b, s, e):
        t = first >> 4
        self.acct.down_types[t] += 1
        if t == PUBLISH:
            if not first & 0x06:
                return
            if e - s < 2:
                self._malformed()
                return
            p = s + 2 + (b[s] << 8 | b[s + 1])
            if p + 2 > e:
                self._malformed()
                return
            pid = b[p] << 8 | b[p + 1]
            sess = self.sess
            acct = self.acct
            if first & 0x06 == 0x04:
                acct.qos2_publishes_down += 1
                q = p + 2
                if self.v5:
                    try:
                        n, q = _var_int(b, q)
                    except IndexError:
                        self._malformed()
                        return
                    q += n  # PUBLISH properties
                msg = (bytes(b[s + 2 : p]), bytes(b[q : min(e, q + PAYLOAD_HEAD)]))
                if first & 0x08:
                    acct.qos2_dup_down += 1
                    if pid in sess.released:
                        released = sess.released[pid]
                        if released is None or released == msg:
                            self._dup_after_release(pid, msg)
                        else:
                            acct.released_id_reused += 1
                            if self.on_event is not None:
                                self.on_event("released-id-reused %d" % pid)
                sess.message[pid] = msg
                held = sess.held
                if pid not in held:
                    held.add(pid)
                    if len(held) > acct.held_max:
                        acct.held_max = len(held)
            # Any PUBLISH on the id starts a new flow: the client holds it again.
            sess.released.pop(pid, None)
            sess.completed.discard(pid)
            if pid not in sess.open:
                sess.open.add(pid)
                acct.flows_open += 1
        elif t == PUBREL:
            if e - s < 2:
                self._malformed()
                return
            pid = b[s] << 8 | b[s + 1]
            sess = self.sess
            self.acct.pubrels_down += 1
            sess.released[pid] = sess.message.get(pid)
            sess.held.discard(pid)
            if pid not in sess.open:
                sess.open.add(pid)
                self.acct.flows_open += 1
        elif t == CONNACK:
            if e - s >= 1 and not b[s] & 0x01:
                self.acct._clear(self.sess)  # no session on the broker: nothing in flight


class FaultProxy:
    """A TCP proxy from 127.0.0.1:port to target_host:target_port with faults."""

    def __init__(
        self,
        target_port,
        target_host=HOST,
        *,
        port=0,
        cut_at=None,
        cut_random=None,
        split=False,
        split_gap=0.0005,
        delay=0.0,
        rst=False,
        seed=None,
        broker=None,
        trace=None,
        verbose=False,
        mqtt=False,
        hold_up=None,
    ):
        self.target_host = target_host
        self.target_port = target_port
        self.broker = broker
        self.verbose = verbose
        self._trace = open(trace, "a") if trace else None
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._cut_all = False
        self._cut_all_count = 0
        self._pipes = []
        self._thread = None
        self.connections = 0
        self.cuts = 0
        self.cut_log = []
        self.refused = 0
        self.bytes_up = 0
        self.bytes_down = 0
        self.mqtt = MqttAccount() if mqtt else None
        self.hold_up = hold_up
        self.held_seconds = 0.0  # time spent holding the clients (hold_up)
        self.cut_where = collections.Counter()
        self._cut_at = None
        self._cut_plan = None
        self._cut_random = None
        self.split = False
        self.split_gap = 0.0
        self.delay = 0.0
        self.rst = False
        self.set_faults(
            cut_at=cut_at, cut_random=cut_random, split=split, split_gap=split_gap, delay=delay, rst=rst
        )
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind((HOST, port))
        self._lsock.listen(64)
        self._lsock.setblocking(False)
        self.host = HOST
        self.port = self._lsock.getsockname()[1]

    # -- public -------------------------------------------------------------

    def set_faults(self, **kw):
        """Change faults (cut_at, cut_random, split, split_gap, delay, rst).

        Cuts apply to connections accepted afterwards; split, delay and rst
        at once.  Pass ``cut_at=None, cut_random=None`` to stop cutting.
        """
        unknown = set(kw) - {"cut_at", "cut_random", "split", "split_gap", "delay", "rst"}
        if unknown:
            raise TypeError("unknown faults: %s" % ", ".join(sorted(unknown)))
        with self._lock:
            if "cut_at" in kw:
                c = kw["cut_at"]
                self._cut_at = self._cut_plan = None
                if isinstance(c, tuple):
                    self._cut_at = (_parse_direction(c[0]), int(c[1]))
                elif c is not None:
                    self._cut_plan = collections.deque(
                        None if x is None else (_parse_direction(x[0]), int(x[1])) for x in c
                    )
            if "cut_random" in kw:
                r = kw["cut_random"]
                if r is None:
                    self._cut_random = None
                elif isinstance(r, dict):
                    self._cut_random = {_parse_direction(d): _parse_range(x) for d, x in r.items()}
                else:
                    self._cut_random = {d: _parse_range(r) for d in DIRECTIONS}
            for name in ("split", "split_gap", "delay", "rst"):
                if name in kw:
                    setattr(self, name, kw[name])

    def start(self):
        self._thread = threading.Thread(target=self._loop, name="faultproxy", daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_TIMEOUT)
            self._thread = None
        for p in self._pipes:
            p.close()
        self._pipes = []
        try:
            self._lsock.close()
        except OSError:
            pass
        if self._trace is not None:
            self._trace.close()
            self._trace = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    def cut_all(self, timeout=STOP_TIMEOUT):
        """Cut every live connection now (counted in ``cuts``); returns how many."""
        done = threading.Event()
        with self._lock:
            self._cut_all = done
        if not done.wait(timeout):
            raise TimeoutError("faultproxy: cut_all not served in %.1f s" % timeout)
        return self._cut_all_count

    def restart_broker(self, down_time=0.0, kill=False):
        """Cut every connection, stop the broker, wait down_time s, start it again.

        Needs ``broker=`` (a :class:`broker.Broker`).  New connections are
        refused (closed at once) while the broker is down.  Returns the
        seconds the broker was unreachable.
        """
        if self.broker is None:
            raise RuntimeError("faultproxy: restart_broker() needs broker=")
        t0 = time.monotonic()
        self.broker.stop_mosquitto(kill=kill)
        self.cut_all()
        if down_time > 0:
            time.sleep(down_time)
        self.broker.start_mosquitto()
        return time.monotonic() - t0

    def stats(self):
        s = {
            "connections": self.connections,
            "cuts": self.cuts,
            "refused": self.refused,
            "bytes_up": self.bytes_up,
            "bytes_down": self.bytes_down,
        }
        if self.mqtt is not None:
            s.update(self.mqtt.stats())
            s["cut_where"] = {"%s %s" % k: v for k, v in sorted(self.cut_where.items())}
        return s

    # -- internals ----------------------------------------------------------

    def _log(self, msg):
        if self.verbose:
            print("faultproxy: " + msg, file=sys.stderr, flush=True)

    def _plan_cut(self):
        """(direction, offset) for a new connection, or None."""
        if self._cut_plan is not None:
            return self._cut_plan.popleft() if self._cut_plan else None
        if self._cut_at is not None:
            return self._cut_at
        if self._cut_random:
            d = self._rng.choice(sorted(self._cut_random))
            lo, hi, log = self._cut_random[d]
            if log:
                # log-uniform on [max(lo, 1), hi + 1), as an integer in [lo, hi]
                a = math.log(max(lo, 1))
                x = int(math.exp(a + self._rng.random() * (math.log(hi + 1) - a)))
                return d, min(max(x, lo), hi)
            return d, self._rng.randint(lo, hi)
        return None

    def _accept(self):
        for _ in range(16):  # bounded: at most 16 per tick
            try:
                client, _ = self._lsock.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            try:
                upstream = socket.create_connection((self.target_host, self.target_port), timeout=CONNECT_TIMEOUT)
            except OSError as e:
                self.refused += 1
                self._log("broker not reachable (%s): client closed" % e)
                client.close()
                continue
            for s in (client, upstream):
                s.setblocking(False)
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pipe = _Pipe(client, upstream)
            pipe.number = self.connections + 1
            if self.mqtt is not None:
                conn = self.mqtt.connection(pipe.number, lambda text, pipe=pipe: self._trace_line(pipe, "mqtt", text))
                pipe.up.framer = conn.up
                pipe.down.framer = conn.down
            with self._lock:
                plan = self._plan_cut()
            if plan is not None:
                d, offset = plan
                (pipe.up if d == "up" else pipe.down).limit = offset
            self.connections += 1
            self._log("connection %d, cut %s" % (self.connections, plan))
            self._trace_line(pipe, "open", ("%s %s" % plan) if plan else "")
            self._pipes.append(pipe)

    def _cut(self, pipe, flow):
        self.cuts += 1
        self.cut_log.append((flow.name, flow.sent))
        if flow.framer is not None:
            self.cut_where[(flow.name, flow.framer.where())] += 1
        self._log("cut %s at byte %d" % (flow.name, flow.sent))
        self._trace_line(pipe, "cut", "%s %d" % (flow.name, flow.sent))
        pipe.close(self.rst)

    def _trace_line(self, pipe, what, text):
        if self._trace is not None:
            self._trace.write("%d %s %s\n" % (getattr(pipe, "number", 0), what, text))

    def _read(self, pipe, flow, now):
        try:
            data = flow.src.recv(CHUNK)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            flow.eof = True
            return
        flow.queue.append([now + self.delay, bytearray(data)])
        flow.queued += len(data)

    def _write(self, pipe, flow, now):
        """Write what is due; False when the pipe was closed."""
        for _ in range(64):  # bounded per tick
            if pipe.closed or not flow.due(now):
                return
            if flow.limit is not None and flow.sent >= flow.limit:
                self._cut(pipe, flow)
                return
            head = flow.queue[0][1]
            n = 1 if self.split else len(head)
            if flow.limit is not None:
                n = min(n, flow.limit - flow.sent)
            piece = head[:n]
            try:
                n = flow.dst.send(piece)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                pipe.close()
                return
            if n < len(piece):
                piece = memoryview(piece)[:n]
            if self._trace is not None:
                self._trace_line(pipe, flow.name, piece.hex())
            if flow.framer is not None:
                flow.framer.feed(piece)  # only what the socket took
            del head[:n]
            flow.queued -= n
            flow.sent += n
            if flow.name == "up":
                self.bytes_up += n
            else:
                self.bytes_down += n
            if not head:
                flow.queue.popleft()
            if flow.limit is not None and flow.sent >= flow.limit:
                self._cut(pipe, flow)
                return
            if self.split and self.split_gap > 0:
                flow.next_at = now + self.split_gap
                return

    def _loop(self):
        held_since = None
        while not self._stop.is_set():
            now = time.monotonic()
            hold = self.hold_up is not None and self.hold_up()
            if hold and held_since is None:
                held_since = now
            elif not hold and held_since is not None:
                self.held_seconds += now - held_since
                held_since = None
            with self._lock:
                cut_all, self._cut_all = self._cut_all, False
            if cut_all:
                n = 0
                for p in self._pipes:
                    if not p.closed:
                        self.cuts += 1
                        self.cut_log.append(("all", p.up.sent))
                        p.close(self.rst)
                        n += 1
                self._cut_all_count = n
                cut_all.set()
            self._pipes = [p for p in self._pipes if not p.closed]
            rlist = [self._lsock]
            wlist = []
            wake = now + (HOLD_TICK if hold else TICK)
            for p in self._pipes:
                for f in p.flows:
                    if not f.eof and f.queued < MAX_BUFFER and not (hold and f is p.up):
                        rlist.append(f.src)
                    if f.queue:
                        t = f.next_time()
                        if t <= now:
                            wlist.append(f.dst)
                        else:
                            wake = min(wake, t)
            try:
                r, w, _ = select.select(rlist, wlist, [], max(0.0, wake - now))
            except (OSError, ValueError):
                # A socket closed under us: drop closed pipes and go on.
                r, w = [], []
                for p in self._pipes:
                    for s in (p.client, p.upstream):
                        if s.fileno() < 0:
                            p.close()
            if self._lsock in r:
                self._accept()
            now = time.monotonic()
            for p in list(self._pipes):
                for f in p.flows:
                    if not p.closed and f.src in r:
                        self._read(p, f, now)
                for f in p.flows:
                    if not p.closed:
                        self._write(p, f, now)
                # One side closed and its bytes all forwarded: close the pair.
                if not p.closed and any(f.eof and not f.queue for f in p.flows):
                    p.close()


# ---------------------------------------------------------------------------
# Command line


def _faults_from_args(args):
    kw = {"split": args.split, "delay": args.delay, "rst": args.rst, "seed": args.seed, "mqtt": args.mqtt}
    if args.split_gap is not None:
        kw["split_gap"] = args.split_gap
    if args.cut_at:
        kw["cut_at"] = (args.cut_at[0], int(args.cut_at[1]))
    if args.cut_random:
        kw["cut_random"] = (args.cut_random[0], args.cut_random[1])
    return kw


def _add_fault_args(p):
    p.add_argument("--cut-at", nargs=2, metavar=("DIR", "N"), help="cut every connection after N bytes up|down")
    p.add_argument("--cut-random", nargs=2, type=int, metavar=("LO", "HI"), help="cut at a random byte in [LO, HI]")
    p.add_argument("--split", action="store_true", help="write 1 byte at a time")
    p.add_argument("--split-gap", type=float, help="seconds between 1-byte pieces")
    p.add_argument("--delay", type=float, default=0.0, help="seconds added to every piece")
    p.add_argument("--rst", action="store_true", help="cut with a TCP reset instead of a close")
    p.add_argument("--seed", type=int, help="random seed")
    p.add_argument("--mqtt", action="store_true", help="count QoS 2 re-sends of released ids (MqttAccount)")
    p.add_argument("-v", "--verbose", action="store_true")


def _cmd_run(args):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from broker import Broker

    cmd = args.cmd[1:] if args.cmd and args.cmd[0] == "--" else args.cmd
    if not cmd:
        print("faultproxy.py run: no command given", file=sys.stderr)
        return 2
    with Broker(tls=False, persistence=args.persistence) as b:
        with FaultProxy(b.port, broker=b, verbose=args.verbose, **_faults_from_args(args)) as p:
            env = dict(os.environ)
            env.update(b.env)
            env.update(MQTT_PORT=str(p.port), MQTT_BROKER_PORT=str(b.port))
            try:
                rc = subprocess.call(cmd, env=env)
            except KeyboardInterrupt:
                rc = 130
            print("faultproxy: %s" % p.stats(), file=sys.stderr)
    return 128 - rc if rc < 0 else rc


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "run":
        parser = argparse.ArgumentParser(prog="faultproxy.py run", description="run CMD through the proxy")
        _add_fault_args(parser)
        parser.add_argument("--persistence", action="store_true", help="mosquitto persistence on")
        parser.add_argument("cmd", nargs=argparse.REMAINDER)
        return _cmd_run(parser.parse_args(argv[1:]))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target-host", default=HOST)
    parser.add_argument("--target-port", type=int, required=True)
    parser.add_argument("--port", type=int, default=0, help="listening port on 127.0.0.1 (0: any)")
    parser.add_argument("--duration", type=float, help="stop after this many seconds")
    _add_fault_args(parser)
    args = parser.parse_args(argv)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with FaultProxy(args.target_port, args.target_host, port=args.port, verbose=args.verbose, **_faults_from_args(args)) as p:
        print("faultproxy: 127.0.0.1:%d -> %s:%d" % (p.port, args.target_host, args.target_port), flush=True)
        deadline = None if args.duration is None else time.monotonic() + args.duration
        try:
            while not stop.is_set() and (deadline is None or time.monotonic() < deadline):
                stop.wait(0.2)
        except KeyboardInterrupt:
            pass
        print("faultproxy: %s" % p.stats(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
