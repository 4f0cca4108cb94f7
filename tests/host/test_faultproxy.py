"""Self-tests of tools/faultproxy.py (host Python 3, unittest).

    python3 -m unittest discover -s tests/host -v

Most tests put the proxy in front of a small echo server of this file; the
broker-restart test runs a private mosquitto (skipped if there is none).  The
MQTT accounting (``mqtt=True``) is tested on crafted byte streams, fed to
its framers directly and, through the echo server, to a running proxy that
cuts them.
"""

import os
import shutil
import socket
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))

import broker as broker_mod  # noqa: E402
from faultproxy import FaultProxy, MqttAccount, MqttFramer  # noqa: E402

IO_TIMEOUT = 5.0


class EchoServer:
    """Echoes what it reads; records the size of every recv() and every byte."""

    def __init__(self):
        self.lsock = socket.socket()
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind(("127.0.0.1", 0))
        self.lsock.listen(64)
        self.lsock.settimeout(0.1)
        self.port = self.lsock.getsockname()[1]
        self.pieces = []  # recv sizes, all connections
        self.received = []  # bytes received per connection
        self.stop_ev = threading.Event()
        self.threads = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop_ev.is_set():
            try:
                conn, _ = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            self.threads.append(t)
            t.start()

    def _serve(self, conn):
        conn.settimeout(0.1)
        got = bytearray()
        self.received.append(got)
        with conn:
            while not self.stop_ev.is_set():
                try:
                    data = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not data:
                    return
                self.pieces.append(len(data))
                got += data
                try:
                    conn.sendall(data)
                except OSError:
                    return

    def close(self):
        self.stop_ev.set()
        self.thread.join(IO_TIMEOUT)
        for t in self.threads:
            t.join(IO_TIMEOUT)
        self.lsock.close()


def recv_until_closed(sock, limit=1 << 20):
    """Read until EOF or reset; returns (bytes, reset?)."""
    sock.settimeout(IO_TIMEOUT)
    out = bytearray()
    while len(out) < limit:
        try:
            data = sock.recv(65536)
        except ConnectionResetError:
            return bytes(out), True
        if not data:
            return bytes(out), False
        out += data
    return bytes(out), False


def recv_exact(sock, n):
    sock.settimeout(IO_TIMEOUT)
    out = bytearray()
    while len(out) < n:
        data = sock.recv(n - len(out))
        if not data:
            break
        out += data
    return bytes(out)


def wait_for(cond, timeout=IO_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.01)
    return cond()


class EchoCase(unittest.TestCase):
    """A proxy (or several) in front of an EchoServer."""

    def setUp(self):
        self.echo = EchoServer()

    def tearDown(self):
        self.echo.close()

    def proxy(self, **kw):
        p = FaultProxy(self.echo.port, **kw).start()
        self.addCleanup(p.stop)
        return p

    def connect(self, p):
        s = socket.create_connection((p.host, p.port), timeout=IO_TIMEOUT)
        self.addCleanup(s.close)
        return s


class ProxyTest(EchoCase):
    def test_forwards_both_ways(self):
        p = self.proxy()
        s = self.connect(p)
        data = bytes(range(256)) * 400  # 100 KB
        threading.Thread(target=s.sendall, args=(data,), daemon=True).start()
        self.assertEqual(recv_exact(s, len(data)), data)
        self.assertEqual(p.cuts, 0)
        self.assertEqual(p.connections, 1)
        self.assertTrue(wait_for(lambda: p.bytes_down == len(data)))
        self.assertEqual(p.bytes_up, len(data))

    def test_client_close_closes_upstream(self):
        p = self.proxy()
        s = self.connect(p)
        s.sendall(b"x")
        self.assertEqual(recv_exact(s, 1), b"x")
        s.close()
        self.assertTrue(wait_for(lambda: all(not t.is_alive() for t in self.echo.threads)))
        self.assertEqual(p.cuts, 0)

    def test_cut_up_at_offset(self):
        p = self.proxy(cut_at=("up", 10))
        s = self.connect(p)
        s.sendall(bytes(100))
        data, _ = recv_until_closed(s)
        self.assertEqual(data, b"")  # cut before the echo could come back
        self.assertTrue(wait_for(lambda: self.echo.received and len(self.echo.received[0]) == 10))
        self.assertEqual(p.cuts, 1)
        self.assertEqual(p.cut_log, [("up", 10)])

    def test_cut_down_at_offset(self):
        p = self.proxy(cut_at=("down", 5))
        s = self.connect(p)
        s.sendall(b"0123456789")
        data, _ = recv_until_closed(s)
        self.assertEqual(data, b"01234")
        self.assertEqual(p.cut_log, [("down", 5)])

    def test_cut_at_zero(self):
        p = self.proxy(cut_at=("up", 0))
        s = self.connect(p)
        s.sendall(b"abc")
        data, _ = recv_until_closed(s)
        self.assertEqual(data, b"")
        self.assertEqual(p.cut_log, [("up", 0)])

    def test_cut_plan_per_connection(self):
        p = self.proxy(cut_at=[("up", 3), None])
        s1 = self.connect(p)
        s1.sendall(b"abcdef")
        self.assertEqual(recv_until_closed(s1)[0], b"")
        self.assertTrue(wait_for(lambda: self.echo.received and self.echo.received[0] == b"abc"))
        s2 = self.connect(p)
        s2.sendall(b"abcdef")
        self.assertEqual(recv_exact(s2, 6), b"abcdef")
        self.assertEqual(p.cuts, 1)

    def test_cut_with_reset(self):
        p = self.proxy(cut_at=("down", 2), rst=True)
        s = self.connect(p)
        s.sendall(b"hello")
        data, reset = recv_until_closed(s)
        self.assertEqual(data, b"he")
        self.assertTrue(reset)

    def test_cut_random_points_both_directions(self):
        def run(seed):
            p = FaultProxy(self.echo.port, cut_random={"up": (1, 200), "down": (1, 50)}, seed=seed).start()
            try:
                for _ in range(40):
                    with socket.create_connection((p.host, p.port), timeout=IO_TIMEOUT) as s:
                        s.sendall(bytes(300))
                        data, _ = recv_until_closed(s)
                        self.assertLess(len(data), 300)
                self.assertTrue(wait_for(lambda: p.cuts == 40))
                return list(p.cut_log)
            finally:
                p.stop()

        log = run(7)
        self.assertEqual({d for d, _ in log}, {"up", "down"})
        for d, offset in log:
            lo, hi = (1, 200) if d == "up" else (1, 50)
            self.assertTrue(lo <= offset <= hi, (d, offset))
        self.assertGreater(len({o for _, o in log}), 10)
        self.assertEqual(run(7), log)  # a seed replays the same cuts

    def test_cut_random_log_uniform(self):
        p = FaultProxy(self.echo.port, cut_random={"up": (1, 100000, "log")}, seed=3)
        self.addCleanup(p.stop)
        offsets = [p._plan_cut()[1] for _ in range(4000)]
        self.assertTrue(all(1 <= o <= 100000 for o in offsets))
        # log-uniform: each decade about as likely (1/5 each)
        for lo, hi in ((1, 10), (10, 100), (100, 1000), (1000, 10000), (10000, 100001)):
            share = sum(1 for o in offsets if lo <= o < hi) / len(offsets)
            self.assertTrue(0.15 < share < 0.25, (lo, hi, share))
        with self.assertRaises(ValueError):
            p.set_faults(cut_random=(1, 10, "cubic"))

    def test_hold_up(self):
        hold = [True]
        p = self.proxy(hold_up=lambda: hold[0])
        s = self.connect(p)
        s.sendall(b"abc")
        s.settimeout(0.3)
        with self.assertRaises(socket.timeout):
            s.recv(10)  # held: nothing read from the client, nothing echoed
        hold[0] = False
        self.assertEqual(recv_exact(s, 3), b"abc")
        self.assertGreater(p.held_seconds, 0.2)

    def test_split_into_single_bytes(self):
        p = self.proxy(split=True, split_gap=0.002)
        s = self.connect(p)
        data = bytes(range(200))
        s.sendall(data)
        self.assertEqual(recv_exact(s, len(data)), data)
        ones = sum(1 for n in self.echo.pieces if n == 1)
        # The echo server reads faster than 1 byte per 2 ms: nearly every
        # read returns one byte (a descheduled reader may merge a few).
        self.assertGreaterEqual(ones, 0.8 * len(data), self.echo.pieces)
        self.assertEqual(sum(self.echo.pieces), len(data))

    def test_delay(self):
        p = self.proxy(delay=0.2)
        s = self.connect(p)
        t0 = time.monotonic()
        s.sendall(b"ping")
        self.assertEqual(recv_exact(s, 4), b"ping")
        rtt = time.monotonic() - t0
        self.assertGreaterEqual(rtt, 0.39)  # 0.2 s each way
        self.assertLess(rtt, 2.0)

    def test_set_faults_while_running(self):
        p = self.proxy()
        s1 = self.connect(p)
        s1.sendall(b"abc")
        self.assertEqual(recv_exact(s1, 3), b"abc")
        p.set_faults(cut_at=("down", 1))
        s2 = self.connect(p)
        s2.sendall(b"abc")
        self.assertEqual(recv_until_closed(s2)[0], b"a")
        s1.sendall(b"def")  # the earlier connection is not cut
        self.assertEqual(recv_exact(s1, 3), b"def")
        with self.assertRaises(ValueError):
            p.set_faults(cut_at=("sideways", 1))

    def test_cut_all(self):
        p = self.proxy()
        socks = [self.connect(p) for _ in range(3)]
        for s in socks:
            s.sendall(b"x")
            self.assertEqual(recv_exact(s, 1), b"x")
        self.assertEqual(p.cut_all(), 3)
        for s in socks:
            self.assertEqual(recv_until_closed(s)[0], b"")
        self.assertEqual(p.cuts, 3)


def _mosquitto_available():
    return broker_mod._find_tool("mosquitto") is not None


def _connect_packet(client_id, clean):
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04" + bytes((0x02 if clean else 0x00,)) + b"\x00\x3c"
    body += len(cid).to_bytes(2, "big") + cid
    return bytes((0x10, len(body))) + body


# -- MQTT packets, annotated ---------------------------------------------------


def publish(pid, qos, dup=False, topic=b"a/b", payload=b"x"):
    """PUBLISH: 0x30 | DUP 0x08 | QoS << 1, remaining length, topic, [id], payload."""
    body = len(topic).to_bytes(2, "big") + topic + (pid.to_bytes(2, "big") if qos else b"") + payload
    return bytes((0x30 | (0x08 if dup else 0) | qos << 1,)) + varint(len(body)) + body


def pubrel(pid):
    return b"\x62\x02" + pid.to_bytes(2, "big")  # PUBREL (type 6, flags 0b0010), length 2, id


def pubcomp(pid):
    return b"\x70\x02" + pid.to_bytes(2, "big")  # PUBCOMP (type 7), length 2, id


def connack(session_present):
    return bytes((0x20, 0x02, 1 if session_present else 0, 0x00))  # CONNACK, flags, return code 0


def varint(n):
    out = bytearray()
    while True:
        b, n = n & 0x7F, n >> 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


class FramerTest(unittest.TestCase):
    def frame(self, stream, piece, whole=False):
        got = []
        f = MqttFramer(lambda first, b, s, e: got.append((first, bytes(b[s:e]))), whole=whole)
        for k in range(0, len(stream), piece):
            f.feed(stream[k : k + piece])
        return got, f

    def test_pieces_of_any_size_give_the_same_packets(self):
        big = publish(9, 2, payload=bytes(20000))  # 3-byte remaining length, body skipped
        stream = connack(True) + publish(1, 1) + publish(2, 0) + big + pubrel(2) + b"\xc0\x00"  # ... PINGRESP
        whole, _ = self.frame(stream, len(stream))
        self.assertEqual([first for first, _ in whole], [0x20, 0x32, 0x30, 0x34, 0x62, 0xC0])
        for piece in (1, 2, 3, 5, 7, 4096):
            got, f = self.frame(stream, piece)
            self.assertEqual([first for first, _ in got], [first for first, _ in whole], piece)
            self.assertEqual(f.packets, 6)
            self.assertEqual(f.where(), "between")
            for (_, head), (_, full) in zip(got, whole):
                self.assertTrue(full.startswith(head), piece)
            self.assertEqual(got[3][1][:7], b"\x00\x03a/b\x00\x09")  # the big one: topic and id at least
        self.assertLess(len(f._buf), 100)  # the payload was skipped, not kept

    def test_whole_bodies(self):
        stream = publish(9, 2, payload=bytes(range(256)) * 80) + pubrel(9)
        got, _ = self.frame(stream, 7, whole=True)
        self.assertEqual(got, [(0x34, stream[4:-4]), (0x62, b"\x00\x09")])

    def test_incomplete_packet_is_not_reported(self):
        got, f = self.frame(publish(4, 2) + pubrel(4)[:3], 1)
        self.assertEqual([first for first, _ in got], [0x34])

    def test_where(self):
        # PUBLISH QoS 1 "a/b" id 1 payload "x": 32 08 | 00 03 61 2f 62 00 01 78
        p = publish(1, 1)
        self.assertEqual(len(p), 10)
        big = publish(2, 1, payload=bytes(300))  # remaining length 0xb0 0x02
        for prefix, where in (
            (b"", "between"),
            (p[:1], "header"),
            (p[:2], "body"),
            (p[:9], "body"),
            (p, "between"),
            (big[:2], "header"),
            (big[:3], "body"),
            (big[:200], "body"),
        ):
            _, f = self.frame(prefix, 1)
            self.assertEqual(f.where(), where, prefix.hex())

    def test_malformed_length_stops_framing(self):
        got, f = self.frame(b"\x30\xff\xff\xff\xff\x01" + pubrel(1), 64)
        self.assertTrue(f.malformed)
        self.assertEqual(got, [])


class MqttAccountTest(unittest.TestCase):
    def setUp(self):
        self.acct = MqttAccount()
        self.number = 0

    def conn(self, client_id="sub", clean=False):
        """A new connection whose CONNECT went up, as a proxy would feed it."""
        self.number += 1
        c = self.acct.connection(self.number)
        c.up.feed(_connect_packet(client_id, clean))
        return c

    def test_dup_publish_after_pubrel_counted(self):
        c = self.conn()
        c.down.feed(connack(False) + publish(5, 2) + pubrel(5))
        c = self.conn()  # reconnect: the broker re-sends id 5 with DUP
        c.down.feed(connack(True) + publish(5, 2, dup=True))
        st = self.acct.stats()
        self.assertEqual(st["dup_after_release"], 1)
        self.assertEqual(st["dup_after_pubcomp"], 0)
        self.assertEqual(st["qos2_publishes_down"], 2)
        self.assertEqual(st["qos2_dup_down"], 1)
        self.assertEqual(st["pubrels_down"], 1)
        self.assertEqual(self.acct.events, [(2, b"sub", 5, False, b"a/b", b"x")])
        self.assertEqual(self.acct.per_connection, {2: 1})

    def test_mqtt5_publish_properties_skipped(self):
        # An MQTT 5 CONNECT (level 5, 3 bytes of properties): PUBLISH
        # properties (a Subscription Identifier) are not part of the message.
        self.number += 1
        c = self.acct.connection(self.number)
        body = b"\x00\x04MQTT\x05\x00\x00\x3c" + b"\x03\x21\x00\x20" + b"\x00\x03sub"
        c.up.feed(bytes((0x10, len(body))) + body)
        props = b"\x02\x0b\x07"  # properties: 2 bytes, subscription identifier 7
        c.down.feed(connack(False) + publish(5, 2, payload=props + b"x") + pubrel(5))
        c.down.feed(publish(5, 2, dup=True, payload=props + b"x" + bytes(5000)))  # framed as a head
        self.assertEqual(self.acct.dup_after_release, 0)  # another message: a reused id
        self.assertEqual(self.acct.released_id_reused, 1)
        again = publish(5, 2, dup=True, payload=props + b"x" + bytes(5000))
        c.down.feed(pubrel(5) + again[:60])
        c.down.feed(again[60:])  # framed in two pieces: the payload's tail skipped
        self.assertEqual(self.acct.events, [(1, b"sub", 5, False, b"a/b", b"x" + bytes(31))])

    def test_pubrel_cut_mid_packet_does_not_release(self):
        c = self.conn()
        c.down.feed(connack(False) + publish(5, 2) + pubrel(5)[:3])  # 62 02 00 | cut before the id's low byte
        c = self.conn()
        c.down.feed(connack(True) + publish(5, 2, dup=True))  # a plain resend: the client holds 5
        self.assertEqual(self.acct.dup_after_release, 0)
        self.assertEqual(self.acct.pubrels_down, 0)

    def test_event_names_the_message_of_a_long_publish(self):
        c = self.conn()
        long = publish(5, 2, dup=True, payload=b"1234" + bytes(5000))
        c.down.feed(publish(5, 2, payload=b"1234" + bytes(5000)) + pubrel(5) + long[:100])
        c.down.feed(long[100:])  # framed in two pieces: the payload's tail skipped
        self.assertEqual(self.acct.events, [(1, b"sub", 5, False, b"a/b", b"1234" + bytes(28))])

    def test_pubrel_in_pieces_releases(self):
        c = self.conn()
        c.down.feed(connack(False) + publish(5, 2))
        for b in pubrel(5):
            c.down.feed(bytes((b,)))
        c.down.feed(publish(5, 2, dup=True))
        self.assertEqual(self.acct.dup_after_release, 1)

    def test_plain_resend_not_counted(self):
        c = self.conn()
        c.down.feed(connack(False) + publish(5, 2) + publish(6, 2)[:4])
        c = self.conn()
        c.down.feed(connack(True) + publish(5, 2, dup=True) + publish(6, 2, dup=True) + pubrel(5))
        self.assertEqual(self.acct.dup_after_release, 0)
        self.assertEqual(self.acct.qos2_dup_down, 2)

    def test_reused_id_with_another_message_not_counted(self):
        c = self.conn()
        c.down.feed(publish(5, 2, payload=b"49") + pubrel(5))
        c.up.feed(pubcomp(5))
        # 65,535 messages later the broker reuses id 5; the new message's
        # first complete send carries DUP (its first send was cut, or the
        # broker marks whatever it sends after a reconnect).
        c = self.conn()
        c.down.feed(publish(5, 2, dup=True, payload=b"29921"))
        self.assertEqual(self.acct.dup_after_release, 0)
        self.assertEqual(self.acct.released_id_reused, 1)
        c.down.feed(pubrel(5) + publish(5, 2, dup=True, payload=b"29921"))  # now a re-send of a released message
        self.assertEqual(self.acct.dup_after_release, 1)
        self.assertEqual(self.acct.dup_after_pubcomp, 0)  # the PUBCOMP was the old flow's

    def test_publish_without_dup_starts_a_new_flow(self):
        c = self.conn()
        c.down.feed(publish(5, 2) + pubrel(5) + publish(5, 2, payload=b"new") + publish(5, 2, dup=True, payload=b"new"))
        self.assertEqual(self.acct.dup_after_release, 0)

    def test_counted_id_is_held_again(self):
        c = self.conn()
        c.down.feed(publish(5, 2) + pubrel(5) + publish(5, 2, dup=True))  # counted: a new publication for the client
        c.down.feed(publish(5, 2, dup=True))  # resend of that one: not counted
        c.down.feed(pubrel(5) + publish(5, 2, dup=True))  # released again, re-sent again
        self.assertEqual(self.acct.dup_after_release, 2)
        self.assertEqual([e[2] for e in self.acct.events], [5, 5])

    def test_pubcomp_seen(self):
        c = self.conn()
        c.down.feed(publish(5, 2) + pubrel(5) + publish(6, 2) + pubrel(6))
        c.up.feed(pubcomp(5) + pubcomp(6)[:3])  # the second one cut: did not reach the broker
        c = self.conn()
        c.down.feed(publish(5, 2, dup=True) + publish(6, 2, dup=True))
        self.assertEqual(self.acct.dup_after_release, 2)
        self.assertEqual(self.acct.dup_after_pubcomp, 1)
        self.assertEqual([e[:4] for e in self.acct.events], [(2, b"sub", 5, True), (2, b"sub", 6, False)])

    def test_malformed_stream_counted(self):
        c = self.conn()
        c.down.feed(b"\x30\xff\xff\xff\xff\x01" + publish(5, 2) + pubrel(5) + publish(5, 2, dup=True))
        self.assertEqual(self.acct.malformed, 1)
        self.assertEqual(self.acct.dup_after_release, 0)

    def test_flows_open(self):
        c = self.conn()
        c.down.feed(publish(1, 1) + publish(2, 2) + publish(3, 2) + publish(4, 0))  # QoS 0: no flow
        self.assertEqual(self.acct.flows_open, 3)
        self.assertEqual(self.acct.held_max, 2)
        c.up.feed(b"\x40\x02\x00\x01" + b"\x50\x02\x00\x02")  # PUBACK 1, PUBREC 2
        self.assertEqual(self.acct.flows_open, 2)
        c.down.feed(pubrel(2))
        c.up.feed(pubcomp(2) + pubcomp(9))  # 9: never opened
        self.assertEqual(self.acct.flows_open, 1)
        c = self.conn()
        c.down.feed(pubrel(2) + publish(3, 2, dup=True))  # the broker had not taken PUBCOMP 2: open again
        self.assertEqual(self.acct.flows_open, 2)
        c = self.conn(clean=True)
        self.assertEqual(self.acct.flows_open, 0)

    def test_qos1_dup_not_counted(self):
        c = self.conn()
        c.down.feed(publish(5, 1) + pubrel(7) + publish(5, 1, dup=True) + publish(7, 1, dup=True))
        self.assertEqual(self.acct.dup_after_release, 0)
        self.assertEqual(self.acct.qos2_publishes_down, 0)

    def test_sessions_are_per_client_and_reset(self):
        c = self.conn("a")
        c.down.feed(publish(5, 2) + pubrel(5))
        c = self.conn("b")  # another client: its own ids
        c.down.feed(publish(5, 2, dup=True))
        self.assertEqual(self.acct.dup_after_release, 0)
        c = self.conn("a", clean=True)  # clean session: the broker forgets "a"'s flows
        c.down.feed(publish(5, 2, dup=True))
        self.assertEqual(self.acct.dup_after_release, 0)
        c.down.feed(pubrel(5))
        c = self.conn("a")
        c.down.feed(connack(False) + publish(5, 2, dup=True))  # no session present: new flows
        self.assertEqual(self.acct.dup_after_release, 0)


class ProxyMqttTest(EchoCase):
    """The accounting in a running proxy: the echo server sends back, down,
    the packets the client wrote up."""

    def exchange(self, p, data, cut=False):
        s = self.connect(p)
        s.sendall(data)
        got = recv_until_closed(s)[0] if cut else recv_exact(s, len(data))
        s.close()
        return got

    def test_cut_inside_pubrel_counts_nothing(self):
        hello = _connect_packet("sub", clean=False)
        first = hello + publish(7, 2) + pubrel(7)
        resend = hello + publish(7, 2, dup=True)
        # The first connection is cut 3 bytes into the PUBREL going down, the
        # second after its DUP resend, then no more cuts.
        p = self.proxy(cut_at=[("down", len(first) - 1), ("down", len(resend)), None], mqtt=True,
                       trace=os.path.join(self.tmpdir(), "t"))
        self.assertEqual(len(self.exchange(p, first, cut=True)), len(first) - 1)
        self.assertEqual(self.exchange(p, resend, cut=True), resend)
        self.assertEqual(p.mqtt.dup_after_release, 0)
        self.exchange(p, hello + pubrel(7) + publish(7, 2, dup=True))
        self.assertTrue(wait_for(lambda: p.mqtt.dup_after_release == 1))
        self.assertEqual(p.mqtt.events, [(3, b"sub", 7, False, b"a/b", b"x")])
        self.assertEqual(p.cut_where, {("down", "body"): 1, ("down", "between"): 1})
        st = p.stats()
        self.assertEqual((st["qos2_publishes_down"], st["pubrels_down"]), (3, 1))
        p.stop()
        with open(os.path.join(self.tmpdir(), "t")) as f:
            self.assertIn("3 mqtt dup-after-release 7\n", f.read())

    def tmpdir(self):
        if not hasattr(self, "_tmp"):
            self._tmp = tempfile.mkdtemp()
            self.addCleanup(shutil.rmtree, self._tmp, True)
        return self._tmp


@unittest.skipUnless(_mosquitto_available(), "mosquitto not installed")
class BrokerRestartTest(unittest.TestCase):
    def test_restart_keeps_port_and_sessions(self):
        with broker_mod.Broker(tls=False, persistence=True) as b:
            with FaultProxy(b.port, broker=b) as p:
                port = b.port
                s = socket.create_connection((p.host, p.port), timeout=IO_TIMEOUT)
                s.sendall(_connect_packet("restart-test", clean=False))
                self.assertEqual(recv_exact(s, 4), b"\x20\x02\x00\x00")
                # SUBSCRIBE id 1, "a/b" QoS 1 -> SUBACK granted 1
                s.sendall(b"\x82\x08\x00\x01\x00\x03a/b\x01")
                self.assertEqual(recv_exact(s, 5), b"\x90\x03\x00\x01\x01")
                down = p.restart_broker(down_time=0.3)
                self.assertGreaterEqual(down, 0.3)
                self.assertEqual(recv_until_closed(s)[0], b"")
                s.close()
                self.assertEqual(b.port, port)
                # Persistence: the session (and its subscription) survived.
                with socket.create_connection((p.host, p.port), timeout=IO_TIMEOUT) as s:
                    s.sendall(_connect_packet("restart-test", clean=False))
                    self.assertEqual(recv_exact(s, 4), b"\x20\x02\x01\x00")  # session present

    def test_refused_while_broker_down(self):
        with broker_mod.Broker(tls=False) as b:
            with FaultProxy(b.port, broker=b) as p:
                b.stop_mosquitto()
                with socket.create_connection((p.host, p.port), timeout=IO_TIMEOUT) as s:
                    self.assertEqual(recv_until_closed(s)[0], b"")
                self.assertTrue(wait_for(lambda: p.refused == 1))
                b.start_mosquitto()
                with socket.create_connection((p.host, p.port), timeout=IO_TIMEOUT) as s:
                    s.sendall(_connect_packet("after-restart", clean=True))
                    self.assertEqual(recv_exact(s, 4), b"\x20\x02\x00\x00")


if __name__ == "__main__":
    unittest.main()
