#!/usr/bin/env python3
"""Private MQTT brokers for the umqtt_rs tests.

Starts, on free loopback ports (127.0.0.1 only):

* a private ``mosquitto`` with a plain listener and a TLS listener whose
  certificates (a CA, a server certificate for 127.0.0.1 / localhost, and an
  unrelated "wrong" CA) are generated at run time with ``openssl``; an ACL
  lets clients without a user name use every topic, and a client with the
  user name ``umqtt_rs_acl`` only ``umqtt_rs/acl/ok/#`` (MQTT 5 tests: a
  publish elsewhere gets reason code 0x87, Not authorized);
* a *fake broker* (threads of this process) for behaviours a real broker
  cannot show, chosen by the CONNECT's client id:

  - ``refuse-N...``: CONNACK with return code N, then close;
  - ``silent...``: CONNACK accepted, then read and ignore everything (a dead
    broker that never answers PINGREQ);
  - ``bad-NAME...``: a broker that breaks the protocol in the way NAME says
    (see ``MALFORMED`` below: wrong packet types, reserved flags, bad
    remaining lengths, unknown codes and ids, truncation, invalid UTF-8, a
    2 MB PUBLISH...), for the malformed-broker tests;
  - anything else: CONNACK accepted, then PINGRESP for each PINGREQ, a
    SUBACK refusing every filter (0x80) for each SUBSCRIBE, and nothing else.

  An MQTT 5 CONNECT (protocol level 5) gets an MQTT 5 broker with limits
  mosquitto cannot set per client: CONNACK with Maximum QoS 0, Retain
  Available 0 and Maximum Packet Size 64, a SUBACK and an UNSUBACK refusing
  every filter with 0x87 (Not authorized) and a Reason String; ``refuse5...``: CONNACK
  0x87 with Reason String "go away"; ``kick5...``: after the CONNACK, a
  DISCONNECT 0x98 (Administrative action) with Reason String "bye";
  ``alias5...``: after the CONNACK, QoS 0 PUBLISHes using topic aliases
  (``_alias5``: set, used alone, a 300-byte topic, then an alias never set);
  ``aliasbig5...``: two 3,000-byte QoS 0 PUBLISHes on topic alias 1 (set
  with ``big/t``, then used alone).
  ``echo5...``: CONNACK with Topic Alias Maximum 2 (and no other limit),
  then each QoS 0 PUBLISH from the client comes back as a QoS 0 PUBLISH on
  ``echo`` whose payload is the client's packet body as sent (its topic,
  properties and payload: the client's outgoing aliases seen on the wire),
  and each SUBSCRIBE gets a SUBACK granting what it asked and comes back
  the same way on ``echo/sub``; ``nosub5...``: the same with a CONNACK
  saying Wildcard Subscription, Subscription Identifier and Shared
  Subscription Available 0;
  ``auth5...``: enhanced authentication with method ``CHAL`` (``_Auth5``): a
  challenge (data ``n1``) before the CONNACK, accepted when the answer is
  the data reversed (else CONNACK 0x87); after it a Re-authenticate gets
  challenge ``r2`` and, answered ``2r``, AUTH Success (else DISCONNECT
  0x87).

Command line::

    python3 tools/broker.py run [-v] [--] CMD ARGS...

runs CMD with MQTT_HOST, MQTT_PORT, MQTT_TLS_PORT, MQTT_CA, MQTT_CA_DER,
MQTT_BAD_CA_DER and MQTT_FAKE_PORT set, then stops everything, removes the
temporary directory and exits with CMD's exit code (128+N if CMD died of
signal N).

As a module (host-side tests)::

    from broker import Broker
    with Broker() as b:
        connect_to(b.host, b.port)   # b.env has the variables above

``Broker(persistence=True)`` keeps mosquitto's sessions and queued messages
in a persistence file (and lifts its 1,000-message limit on the queue of an
offline persistent session); ``b.restart(down_time)``, or
``b.stop_mosquitto()`` and ``b.start_mosquitto()``, stop and start mosquitto
on the same port with the same file (tools/faultproxy.py uses them).

Standard library only; every wait is bounded by a timeout.
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HOST = "127.0.0.1"
START_TIMEOUT = 15.0  # seconds for mosquitto's ports to accept connections
STOP_TIMEOUT = 5.0  # seconds for a process to exit after SIGTERM
FAKE_IO_TIMEOUT = 0.25  # seconds per socket operation in the fake broker
FAKE_CONNECT_TIMEOUT = 10.0  # seconds for a client to send its whole CONNECT

_HERE = os.path.dirname(os.path.abspath(__file__))


class BrokerError(Exception):
    """The brokers could not be started."""


def _find_tool(name, extra_dirs=("/usr/sbin", "/usr/local/sbin")):
    path = shutil.which(name)
    if path:
        return path
    for d in extra_dirs:
        cand = os.path.join(d, name)
        if os.access(cand, os.X_OK):
            return cand
    return None


def _ensure_tools(need_openssl=True):
    """Return (mosquitto, openssl) paths, installing the Debian packages if missing."""
    mosquitto = _find_tool("mosquitto")
    openssl = _find_tool("openssl")
    deps = os.path.join(_HERE, "deps.sh")
    if (mosquitto is None or (openssl is None and need_openssl)) and os.access(deps, os.X_OK):
        subprocess.run([deps, "mosquitto", "mosquitto-clients", "openssl"], check=False, timeout=600)
        mosquitto = _find_tool("mosquitto")
        openssl = _find_tool("openssl")
    if mosquitto is None:
        raise BrokerError("mosquitto not found: run tools/deps.sh mosquitto mosquitto-clients")
    if openssl is None and need_openssl:
        raise BrokerError("openssl not found: run tools/deps.sh openssl")
    return mosquitto, openssl


def _free_port():
    # The port is free when we close it; mosquitto binds it a moment later.
    # A rare collision makes mosquitto fail to start, which start() retries.
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((HOST, 0))
        return s.getsockname()[1]
    finally:
        s.close()


def _port_open(port):
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


# ---------------------------------------------------------------------------
# Certificates


def _openssl(openssl, args, cwd):
    res = subprocess.run(
        [openssl] + args, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60
    )
    if res.returncode != 0:
        raise BrokerError("openssl %s failed:\n%s" % (args[0], res.stdout.decode(errors="replace")))


def _make_ca(openssl, d, name, cn):
    _openssl(
        openssl,
        [
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "2",
            "-keyout", name + ".key", "-out", name + ".pem", "-subj", "/CN=" + cn,
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        ],
        d,
    )
    _openssl(openssl, ["x509", "-in", name + ".pem", "-outform", "DER", "-out", name + ".der"], d)


def make_certs(openssl, d, names=()):
    """Write ca.pem/ca.der, server.pem/server.key and bad-ca.der into directory d.

    names: more names (IP addresses) the server certificate is valid for,
    e.g. the address an emulated device reaches the broker at."""
    _make_ca(openssl, d, "ca", "umqtt_rs test CA")
    _make_ca(openssl, d, "bad-ca", "umqtt_rs unrelated CA")
    with open(os.path.join(d, "server.ext"), "w") as f:
        # mbedTLS 2.x matches the host name against dNSName entries only, so
        # 127.0.0.1 is listed both as a DNS name and as an IP address.
        f.write(
            "basicConstraints=CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectAltName=DNS:localhost,DNS:127.0.0.1,IP:127.0.0.1%s\n"
            % "".join(",DNS:%s,IP:%s" % (n, n) for n in names)
        )
    _openssl(
        openssl,
        [
            "req", "-newkey", "rsa:2048", "-nodes", "-sha256", "-keyout", "server.key",
            "-out", "server.csr", "-subj", "/CN=127.0.0.1",
        ],
        d,
    )
    _openssl(
        openssl,
        [
            "x509", "-req", "-sha256", "-days", "2", "-in", "server.csr", "-CA", "ca.pem",
            "-CAkey", "ca.key", "-set_serial", "2", "-extfile", "server.ext",
            "-out", "server.pem",
        ],
        d,
    )


# ---------------------------------------------------------------------------
# Fake broker


class _Closed(Exception):
    pass


class FakeBroker:
    """A tiny MQTT 3.1.1 server whose behaviour is chosen by the client id."""

    def __init__(self):
        self._stop = threading.Event()
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind((HOST, 0))
        self._lsock.listen(16)
        self._lsock.settimeout(FAKE_IO_TIMEOUT)
        self.port = self._lsock.getsockname()[1]
        self._threads = []
        self._lock = threading.Lock()
        self._accept_thread = threading.Thread(target=self._accept_loop, name="fake-accept", daemon=True)

    def start(self):
        self._accept_thread.start()

    def stop(self):
        self._stop.set()
        self._accept_thread.join(STOP_TIMEOUT)
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(STOP_TIMEOUT)
        self._lsock.close()

    def _accept_loop(self):
        while not self._stop.is_set():
            try:
                conn, _ = self._lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._serve, args=(conn,), name="fake-conn", daemon=True)
            with self._lock:
                self._threads = [x for x in self._threads if x.is_alive()]
                self._threads.append(t)
            t.start()

    def _recv_exact(self, conn, n, deadline=None):
        # Read n bytes; None deadline means "until stop" (idle clients are fine).
        buf = b""
        while len(buf) < n:
            if self._stop.is_set():
                raise _Closed()
            if deadline is not None and time.monotonic() > deadline:
                raise _Closed()
            try:
                chunk = conn.recv(n - len(buf))
            except socket.timeout:
                continue
            except OSError:
                raise _Closed()
            if not chunk:
                raise _Closed()
            buf += chunk
        return buf

    def _read_packet(self, conn, deadline=None):
        """Return (first byte, body) of one packet."""
        first = self._recv_exact(conn, 1, deadline)[0]
        length = 0
        for shift in (0, 7, 14, 21):
            b = self._recv_exact(conn, 1, deadline)[0]
            length |= (b & 0x7F) << shift
            if not b & 0x80:
                break
        else:
            raise _Closed()  # malformed remaining length
        body = b""
        while len(body) < length:  # read in bounded chunks, discarding nothing
            body += self._recv_exact(conn, min(65536, length - len(body)), deadline)
        return first, body

    @staticmethod
    def _client_id(body):
        # variable header: protocol name (2+n), level, flags, keepalive (2),
        # in MQTT 5 the properties (their length, a variable byte integer)
        if len(body) < 2:
            return ""
        n = (body[0] << 8) | body[1]
        pos = 2 + n + 4
        if FakeBroker._level(body) == 5 and pos < len(body):
            length, shift = 0, 0
            while pos < len(body) and shift < 28:
                length |= (body[pos] & 0x7F) << shift
                shift += 7
                pos += 1
                if not body[pos - 1] & 0x80:
                    break
            pos += length
        if len(body) < pos + 2:
            return ""
        m = (body[pos] << 8) | body[pos + 1]
        return body[pos + 2 : pos + 2 + m].decode("utf-8", "replace")

    @staticmethod
    def _level(body):
        n = (body[0] << 8) | body[1] if len(body) >= 2 else 0
        return body[2 + n] if len(body) > 2 + n else 0

    def _serve5(self, conn, cid):
        """The MQTT 5 fake broker (see the module doc)."""
        reason = lambda text: b"\x1f" + len(text).to_bytes(2, "big") + text  # Reason String
        if cid.startswith("refuse5"):
            props = reason(b"go away")
            conn.sendall(bytes((0x20, 3 + len(props), 0x00, 0x87, len(props))) + props)
            return
        if cid.startswith("auth5"):
            _Auth5(self, conn).serve()
            return
        if cid.startswith("echo5") or cid.startswith("nosub5"):
            if cid.startswith("echo5"):
                conn.sendall(b"\x20\x06\x00\x00\x03\x22\x00\x02")  # Topic Alias Maximum 2
            else:
                # Wildcards, subscription identifiers, shared: none.
                conn.sendall(b"\x20\x09\x00\x00\x06\x28\x00\x29\x00\x2a\x00")
            while not self._stop.is_set():
                first, body = self._read_packet(conn)
                if first == 0x30:
                    conn.sendall(_publish5(b"echo", None, body))
                elif first == 0x82:
                    # Granted as asked (each filter's options byte, QoS bits),
                    # then the SUBSCRIBE body as sent.
                    n, i = _read_varint(body, 2)
                    i += n
                    codes = b""
                    while i + 2 <= len(body):
                        i += 2 + ((body[i] << 8) | body[i + 1])
                        codes += bytes((body[i] & 3,))
                        i += 1
                    ack = body[:2] + b"\x00" + codes
                    conn.sendall(b"\x90" + _varint(len(ack)) + ack)
                    conn.sendall(_publish5(b"echo/sub", None, body))
                elif first == 0xC0:
                    conn.sendall(b"\xd0\x00")
                elif first == 0xE0:
                    return
        # Maximum QoS 0, Retain Available 0, Maximum Packet Size 64.
        props = b"\x24\x00\x25\x00\x27\x00\x00\x00\x40"
        conn.sendall(bytes((0x20, 3 + len(props), 0x00, 0x00, len(props))) + props)
        if cid.startswith("aliasbig5"):
            # Two 3,000-byte messages on alias 1 (set, then alone).
            conn.sendall(_publish5(b"big/t", 1, b"A" * 3000) + _publish5(b"", 1, b"B" * 3000))
            self._linger(conn, time.monotonic() + FAKE_CONNECT_TIMEOUT)
            return
        if cid.startswith("alias5"):
            conn.sendall(_alias5())
            self._linger(conn, time.monotonic() + FAKE_CONNECT_TIMEOUT)
            return
        if cid.startswith("kick5"):
            props = reason(b"bye")
            conn.sendall(bytes((0xE0, 2 + len(props), 0x98, len(props))) + props)
            self._linger(conn, time.monotonic() + FAKE_CONNECT_TIMEOUT)
            return

        def suback(body):
            # SUBSCRIBE: packet id, properties (length < 128 here), then per
            # filter a string and an options byte: refuse each with 0x87.
            n = self._filters(body, 3 + body[2])
            props = reason(b"denied")
            return bytes((0x90, 3 + len(props) + n)) + body[:2] + bytes((len(props),)) + props + b"\x87" * n

        def unsuback(body):
            # UNSUBSCRIBE: packet id, properties (length < 128), filters:
            # refuse each with 0x87.
            n = 0
            i = 3 + body[2]
            while i + 2 <= len(body):
                i += 2 + ((body[i] << 8) | body[i + 1])
                n += 1
            props = reason(b"denied")
            return bytes((0xB0, 3 + len(props) + n)) + body[:2] + bytes((len(props),)) + props + b"\x87" * n

        self._answer(conn, suback, unsuback)

    @staticmethod
    def _filters(body, i):
        """How many filters a SUBSCRIBE body has from offset i."""
        n = 0
        while i + 2 <= len(body):
            i += 2 + ((body[i] << 8) | body[i + 1]) + 1
            n += 1
        return n

    def _answer(self, conn, suback, unsuback=None):
        """PINGRESP to each PINGREQ, suback(body) to each SUBSCRIBE,
        unsuback(body) to each UNSUBSCRIBE (when given), until DISCONNECT."""
        while not self._stop.is_set():
            first, body = self._read_packet(conn)
            if first == 0xC0:
                conn.sendall(b"\xd0\x00")
            elif first == 0x82:
                conn.sendall(suback(body))
            elif first == 0xA2 and unsuback is not None:
                conn.sendall(unsuback(body))
            elif first == 0xE0:
                return

    def _expect(self, conn, first_byte, deadline):
        """Read packets until one starts with first_byte; return its body."""
        while True:
            first, body = self._read_packet(conn, deadline)
            if first == 0xC0:
                conn.sendall(b"\xd0\x00")
            if first == first_byte:
                return body

    def _malformed(self, conn, name):
        """Play the misbehaviour `name` (a key of MALFORMED) to a client."""
        deadline = time.monotonic() + FAKE_CONNECT_TIMEOUT
        script = MALFORMED.get(name)
        if script is None:
            return
        before, after = script
        if before is not None:
            # Sent instead of the CONNACK.
            conn.sendall(before)
        else:
            conn.sendall(b"\x20\x02\x00\x00")  # CONNACK accepted
            if callable(after):
                after(self, conn, deadline)
            else:
                conn.sendall(after)
        if name not in CLOSE_AT_ONCE:
            self._linger(conn, deadline)

    def _linger(self, conn, deadline):
        # Keep the connection open (reading and dropping) until the client
        # closes it or the deadline passes: the client must notice by itself.
        while not self._stop.is_set() and time.monotonic() < deadline:
            try:
                if not conn.recv(65536):
                    return
            except socket.timeout:
                continue
            except OSError:
                return

    def _serve(self, conn):
        conn.settimeout(FAKE_IO_TIMEOUT)
        try:
            first, body = self._read_packet(conn, time.monotonic() + FAKE_CONNECT_TIMEOUT)
            if first != 0x10:
                return
            cid = self._client_id(body)
            if self._level(body) == 5:
                self._serve5(conn, cid)
                return
            if cid.startswith("refuse-"):
                digits = ""
                for ch in cid[len("refuse-") :]:
                    if not ch.isdigit():
                        break
                    digits += ch
                code = int(digits) if digits else 5
                conn.sendall(bytes((0x20, 0x02, 0x00, code & 0xFF)))
                return
            if cid.startswith("bad-"):
                self._malformed(conn, cid[len("bad-") :].split("-")[0])
                return
            conn.sendall(b"\x20\x02\x00\x00")
            if cid.startswith("silent"):
                while not self._stop.is_set():
                    try:
                        if not conn.recv(4096):
                            return
                    except socket.timeout:
                        continue
                return

            def suback(body):
                # SUBSCRIBE: refuse every filter (return code 0x80).
                n = self._filters(body, 2)
                return bytes((0x90, 2 + n)) + body[:2] + b"\x80" * n

            self._answer(conn, suback)
        except (_Closed, OSError):
            pass
        finally:
            try:
                conn.close()
            except OSError:
                pass


def _publish5(topic, alias, payload):
    """An MQTT 5 QoS 0 PUBLISH of `payload` with Topic Alias `alias` (None:
    no properties)."""
    props = b"\x00" if alias is None else b"\x03\x23" + alias.to_bytes(2, "big")
    body = len(topic).to_bytes(2, "big") + topic + props + payload
    return b"\x30" + _varint(len(body)) + body


def _auth5(reason, data):
    """An AUTH with `reason`, method CHAL and (unless None) `data`."""
    props = b"\x15\x00\x04CHAL" + (b"" if data is None else b"\x16" + len(data).to_bytes(2, "big") + data)
    body = bytes((reason,)) + _varint(len(props)) + props
    return b"\xf0" + _varint(len(body)) + body


def _auth_data(body):
    """The Authentication Data of an AUTH body (None if absent or
    unreadable); reads only the properties the client sends in AUTH."""
    if len(body) < 2:
        return None
    n, pos, shift = 0, 1, 0
    while pos < len(body) and shift < 28:
        n |= (body[pos] & 0x7F) << shift
        pos, shift = pos + 1, shift + 7
        if not body[pos - 1] & 0x80:
            break
    end = min(len(body), pos + n)
    while pos + 3 <= end:
        pid, size = body[pos], (body[pos + 1] << 8) | body[pos + 2]
        if pid == 0x16:
            return body[pos + 3 : pos + 3 + size]
        if pid not in (0x15, 0x1F):
            return None
        pos += 3 + size
    return None


class _Auth5:
    """auth5: the enhanced authentication broker (see the module doc)."""

    def __init__(self, broker, conn):
        self.b, self.conn = broker, conn

    def _answer(self, challenge):
        """Send `challenge`; True when the next packet is an AUTH Continue
        with it reversed."""
        self.conn.sendall(_auth5(0x18, challenge))
        first, body = self.b._read_packet(self.conn)
        return first == 0xF0 and body[:1] == b"\x18" and _auth_data(body) == challenge[::-1]

    def serve(self):
        if not self._answer(b"n1"):
            self.conn.sendall(b"\x20\x03\x00\x87\x00")
            return
        self.conn.sendall(b"\x20\x0a\x00\x00\x07\x15\x00\x04CHAL")
        while not self.b._stop.is_set():
            first, body = self.b._read_packet(self.conn)
            if first == 0xC0:
                self.conn.sendall(b"\xd0\x00")
            elif first == 0xF0 and body[:1] == b"\x19":
                if not self._answer(b"r2"):
                    self.conn.sendall(b"\xe0\x02\x87\x00")
                    return
                self.conn.sendall(_auth5(0x00, None))
            elif first == 0xE0:
                return


def _alias5():
    """alias5: alias 1 set with a/b, used alone, alias 2 set with a
    300-byte topic (more than the client's first alias map holds) and used
    alone, then alias 3, never set: a protocol error."""
    return (
        _publish5(b"a/b", 1, b"one")
        + _publish5(b"", 1, b"two")
        + _publish5(b"l" * 300, 2, b"three")
        + _publish5(b"", 2, b"four")
        + _publish5(b"", 1, b"five")
        + _publish5(b"", 3, b"six")
    )


def _publish(topic, payload, first=0x30, pid=None):
    """Encode a PUBLISH; topic and payload are bytes."""
    body = bytes((len(topic) >> 8, len(topic) & 0xFF)) + topic
    if pid is not None:
        body += bytes((pid >> 8, pid & 0xFF))
    body += payload
    return bytes((first,)) + _varint(len(body)) + body


def _varint(n):
    out = b""
    while True:
        n, low = n >> 7, n & 0x7F
        out += bytes((low | (0x80 if n else 0),))
        if not n:
            return out


def _read_varint(data, i):
    """(value, offset after it) of the variable byte integer at data[i]."""
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


def _suback_wrong_id(fake, conn, deadline):
    # Answer the first SUBSCRIBE with a SUBACK for another id.
    body = fake._expect(conn, 0x82, deadline)
    pid = ((body[0] << 8) | body[1]) ^ 0x0100
    conn.sendall(bytes((0x90, 0x03, pid >> 8, pid & 0xFF, 0x00)))


def _pubrel_unknown(fake, conn, deadline):
    # PUBREL for an id never used: the client must answer PUBCOMP (MQTT-4.3.3);
    # when it does, a QoS 0 PUBLISH "r" "pubcomp 4242" tells the test so.
    conn.sendall(b"\x62\x02\x10\x92")  # PUBREL id 4242
    fake._expect(conn, 0x70, deadline)  # PUBCOMP
    conn.sendall(_publish(b"r", b"pubcomp 4242"))


def _qos2_burst(fake, conn, deadline):
    # 100 QoS 2 PUBLISHes in one write (ids 1..100) before any PUBREL, as a
    # broker with a large in-flight window may send them; each PUBREC is
    # answered with PUBREL, then a QoS 0 "r" "done" once all 100 PUBCOMPs are in.
    fake._expect(conn, 0x82, deadline)  # SUBSCRIBE
    conn.sendall(b"\x90\x03\x00\x01\x02")  # SUBACK id 1, QoS 2
    conn.sendall(b"".join(_publish(b"q", b"m%d" % i, 0x34, i) for i in range(1, 101)))
    pubcomps = 0
    while pubcomps < 100:
        first, body = fake._read_packet(conn, deadline)
        if first == 0x50:  # PUBREC -> PUBREL
            conn.sendall(b"\x62\x02" + body[:2])
        elif first == 0x70:
            pubcomps += 1
    conn.sendall(_publish(b"r", b"done"))


def _qos2_puback(fake, conn, deadline):
    # A broker without QoS 2 (RabbitMQ 3.10) answers PUBLISH QoS 2 with PUBACK.
    body = fake._expect(conn, 0x34, deadline)
    n = (body[0] << 8) | body[1]
    conn.sendall(b"\x40\x02" + body[2 + n : 4 + n])


def _big(fake, conn, deadline):
    # A 2 MB QoS 0 PUBLISH, written in 64 KB pieces (the client may close).
    payload = b"\xa5" * (2 * 1024 * 1024)
    packet = _publish(b"big", payload)
    for i in range(0, len(packet), 65536):
        conn.sendall(packet[i : i + 65536])


def _big_qos1(fake, conn, deadline):
    # A 2 MB QoS 1 PUBLISH (id 77, payload byte i = i * 7 & 0xFF) in 64 KB
    # pieces; once its PUBACK comes, a QoS 0 "r" "acked".
    payload = bytes(i * 7 & 0xFF for i in range(256)) * (2 * 1024 * 1024 // 256)
    packet = _publish(b"big", payload, 0x32, 77)
    for i in range(0, len(packet), 65536):
        conn.sendall(packet[i : i + 65536])
    body = fake._expect(conn, 0x40, deadline)
    if body[:2] == b"\x00\x4d":
        conn.sendall(_publish(b"r", b"acked"))


def _large_ok(fake, conn, deadline, size=100000):
    # A 100 KB PUBLISH, larger than the client's buffer but not its memory,
    # then a small one: both must arrive intact.
    conn.sendall(_publish(b"large", bytes(i & 0xFF for i in range(size))))
    conn.sendall(_publish(b"r", b"after"))


# name -> (bytes sent instead of the CONNACK, or None;
#          bytes or a function(fake, conn, deadline) after an accepted CONNACK)
MALFORMED = {
    # wrong packet types
    "early": (_publish(b"a", b"x"), None),  # PUBLISH before the CONNACK
    "type0": (None, b"\x00\x00"),  # reserved type 0
    "type15": (None, b"\xf0\x00"),  # reserved type 15
    "connect": (None, b"\x10\x0d\x00\x04MQTT\x04\x02\x00\x0a\x00\x01c"),  # a CONNECT
    "pingreq": (None, b"\xc0\x00"),  # a PINGREQ (client-to-server only)
    "subscribe": (None, b"\x82\x06\x00\x01\x00\x01a\x00"),  # a SUBSCRIBE
    "connack2": (None, b"\x20\x02\x00\x00"),  # a second CONNACK
    # reserved flag bits
    "flagsack": (None, b"\xd1\x00"),  # PINGRESP with flags 0001
    "flagspubrel": (None, b"\x60\x02\x00\x01"),  # PUBREL with flags 0000
    "flagsqos3": (None, b"\x36\x04\x00\x01a\x00"),  # PUBLISH QoS 3
    "flagsdup0": (None, b"\x38\x04\x00\x01ax"),  # PUBLISH DUP at QoS 0
    "flagsconnack": (b"\x20\x02\x02\x00", None),  # CONNACK ack flags 0x02
    # remaining length
    "len5": (None, b"\x30\xff\xff\xff\xff\x01"),  # 5-byte remaining length
    "lenhuge": (None, b"\x30\xff\xff\xff\x7f"),  # 268,435,455 bytes announced, then silence
    "lenshort": (None, b"\x40\x01\x00"),  # PUBACK with 1 body byte
    "lenlong": (None, b"\xd0\x01\x00"),  # PINGRESP with a body
    # CONNACK return codes
    "code6": (b"\x20\x02\x00\x06", None),
    "code255": (b"\x20\x02\x00\xff", None),
    "presentrefused": (b"\x20\x02\x01\x05", None),  # session present with a refusal
    # packet ids
    "subackid": (None, _suback_wrong_id),
    "pubackid": (None, b"\x40\x02\x12\x34"),  # PUBACK for an id never sent
    "pubcompid": (None, b"\x70\x02\x12\x34"),  # PUBCOMP for an id never sent
    "pubid0": (None, b"\x32\x06\x00\x01a\x00\x00x"),  # QoS 1 PUBLISH with id 0
    "pubrel": (None, _pubrel_unknown),
    "qos2burst": (None, _qos2_burst),
    "qos2puback": (None, _qos2_puback),  # PUBACK for a QoS 2 PUBLISH
    # truncation
    "truncated": (None, b"\x30\x10\x00\x03a/b"),  # 5 of 16 body bytes, then close
    "truncconnack": (b"\x20\x02\x00", None),  # 3 of 4 CONNACK bytes, then close
    # strings
    "utf8": (None, _publish(b"\xc3\x28", b"x")),  # invalid UTF-8 topic
    "nul": (None, _publish(b"a\x00b", b"x")),  # U+0000 in the topic
    "surrogate": (None, _publish(b"\xed\xa0\x80", b"x")),  # encoded surrogate
    "wildcard": (None, _publish(b"a/+", b"x")),  # wildcard in a PUBLISH topic
    "emptytopic": (None, _publish(b"", b"x")),  # zero-length topic
    # size
    "big": (None, _big),
    "bigqos1": (None, _big_qos1),  # 2 MB QoS 1, then "acked" after its PUBACK
    "large": (None, _large_ok),
    # the same at 40 KB, for a device whose heap cannot hold 100 KB twice
    "large40k": (None, lambda fake, conn, deadline: _large_ok(fake, conn, deadline, 40000)),
}
# Behaviours that close the connection right after their bytes; the others
# keep it open until the client closes it (or FAKE_CONNECT_TIMEOUT).
CLOSE_AT_ONCE = {"truncated", "truncconnack"}



# ---------------------------------------------------------------------------
# mosquitto + fake broker


class Broker:
    """Context manager running a private mosquitto (plain + TLS) and the fake broker."""

    def __init__(self, tls=True, keep_dir=False, persistence=False, config=(), cert_names=()):
        # persistence=True: mosquitto keeps sessions, subscriptions and
        # queued messages in DIR/mosquitto.db across restart(); it also lifts
        # the 1,000-message queue limit of offline persistent sessions.
        # config: extra mosquitto.conf lines.
        # cert_names: more IP addresses the server certificate names (an
        # emulated device's view of the broker, tools/esp-qemu-test.py).
        self.cert_names = tuple(cert_names)
        self.tls = tls
        self.keep_dir = keep_dir
        self.persistence = persistence
        self.config = tuple(config)
        self.host = HOST
        self.port = None
        self.tls_port = None
        self.fake_port = None
        self.dir = None
        self.ca = self.ca_der = self.bad_ca_der = None
        self.log_path = None
        self._proc = None
        self._log = None
        self._fake = None

    # -- public -------------------------------------------------------------

    @property
    def env(self):
        env = {"MQTT_HOST": self.host, "MQTT_PORT": str(self.port), "MQTT_FAKE_PORT": str(self.fake_port)}
        if self.tls:
            env.update(
                MQTT_TLS_PORT=str(self.tls_port),
                MQTT_CA=self.ca,
                MQTT_CA_DER=self.ca_der,
                MQTT_BAD_CA_DER=self.bad_ca_der,
            )
        return env

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self):
        if self._proc is not None:
            _terminate(self._proc)
            self._proc = None
        if self._log is not None:
            self._log.close()
            self._log = None
        if self._fake is not None:
            self._fake.stop()
            self._fake = None
        if self.dir is not None and not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None

    def stop_mosquitto(self, kill=False):
        """Stop mosquitto alone (SIGTERM: it saves its persistence file; kill=True: SIGKILL)."""
        if self._proc is not None:
            if kill and self._proc.poll() is None:
                self._proc.kill()
                self._proc.wait(STOP_TIMEOUT)
            _terminate(self._proc)
            self._proc = None

    def start_mosquitto(self):
        """Start mosquitto again on the same ports with the same config and persistence file."""
        if self._proc is not None:
            return
        mosquitto, _ = _ensure_tools(False)
        for _attempt in range(20):  # the old process may hold the port a moment
            self._spawn(mosquitto)
            if self._wait_ready():
                return
            _terminate(self._proc)
            self._proc = None
            time.sleep(0.1)
        raise BrokerError("mosquitto did not restart:\n" + self.log_tail())

    def restart(self, down_time=0.0, kill=False):
        """Stop mosquitto, wait down_time seconds, start it on the same port."""
        self.stop_mosquitto(kill=kill)
        if down_time > 0:
            time.sleep(down_time)
        self.start_mosquitto()

    def log_tail(self, lines=30):
        try:
            with open(self.log_path, errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except (OSError, TypeError):
            return ""

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # -- internals ----------------------------------------------------------

    def _start(self):
        mosquitto, openssl = _ensure_tools(self.tls)
        self.dir = tempfile.mkdtemp(prefix="umqtt-broker-")
        if self.tls:
            make_certs(openssl, self.dir, self.cert_names)
            self.ca = os.path.join(self.dir, "ca.pem")
            self.ca_der = os.path.join(self.dir, "ca.der")
            self.bad_ca_der = os.path.join(self.dir, "bad-ca.der")
        self._fake = FakeBroker()
        self._fake.start()
        self.fake_port = self._fake.port
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        last_error = "?"
        for _attempt in range(3):  # retry on a port race
            self.port = _free_port()
            self.tls_port = _free_port() if self.tls else None
            if self.tls_port == self.port:
                continue
            conf = os.path.join(self.dir, "mosquitto.conf")
            with open(conf, "w") as f:
                f.write(self._config())
            self._spawn(mosquitto)
            if self._wait_ready():
                return
            last_error = self.log_tail()
            _terminate(self._proc)
            self._proc = None
            self._log.close()
            self._log = None
        raise BrokerError("mosquitto did not start:\n" + last_error)

    def _spawn(self, mosquitto):
        if self._log is None:
            self._log = open(self.log_path, "ab")
        self._proc = subprocess.Popen(
            [mosquitto, "-c", os.path.join(self.dir, "mosquitto.conf")],
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            cwd=self.dir,
            start_new_session=True,  # a terminal's Ctrl-C is ours to forward
        )

    def _config(self):
        lines = [
            "per_listener_settings false",
            "allow_anonymous true",
            "persistence true" if self.persistence else "persistence false",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "max_keepalive 65535",
            "listener %d %s" % (self.port, HOST),
        ]
        if self.persistence:
            lines += [
                "persistence_location " + self.dir + os.sep,
                "persistence_file mosquitto.db",
                "max_queued_messages 1000000",
            ]
        lines += list(self.config)
        if os.name == "posix" and os.geteuid() == 0:
            # As root mosquitto would switch to user "mosquitto", who cannot
            # read the private key in our 0700 temp dir.
            lines.insert(0, "user root")
        acl = os.path.join(self.dir, "acl")
        with open(acl, "w") as f:
            f.write("topic readwrite #\n\nuser umqtt_rs_acl\ntopic readwrite umqtt_rs/acl/ok/#\n")
        lines.append("acl_file " + acl)
        if self.tls:
            lines += [
                "listener %d %s" % (self.tls_port, HOST),
                "cafile " + os.path.join(self.dir, "ca.pem"),
                "certfile " + os.path.join(self.dir, "server.pem"),
                "keyfile " + os.path.join(self.dir, "server.key"),
            ]
        return "\n".join(lines) + "\n"

    def _wait_ready(self):
        ports = [p for p in (self.port, self.tls_port, self.fake_port) if p]
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                return False
            if all(_port_open(p) for p in ports):
                return True
            time.sleep(0.05)
        return False


def _terminate(proc):
    if proc.poll() is not None:
        return
    try:
        proc.terminate()
        proc.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(STOP_TIMEOUT)
    except OSError:
        pass


# ---------------------------------------------------------------------------
# Command line


class _Signalled(Exception):
    def __init__(self, signum):
        Exception.__init__(self, signum)
        self.signum = signum


def _on_signal(signum, _frame):
    raise _Signalled(signum)


def cmd_run(args):
    cmd = args.cmd
    if cmd and cmd[0] == "--":
        cmd = cmd[1:]
    if not cmd:
        print("broker.py run: no command given", file=sys.stderr)
        return 2
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _on_signal)
    broker = Broker(tls=not args.no_tls)
    child = None
    rc = 1
    try:
        broker.start()
        env = dict(os.environ)
        env.update(broker.env)
        if args.verbose:
            for k in sorted(broker.env):
                print("broker: %s=%s" % (k, broker.env[k]), file=sys.stderr)
        try:
            child = subprocess.Popen(cmd, env=env)
        except OSError as e:
            print("broker.py run: cannot run %s: %s" % (cmd[0], e), file=sys.stderr)
            return 127
        rc = child.wait()
        if rc < 0:
            rc = 128 - rc
    except _Signalled as e:
        rc = 128 + e.signum
        if child is not None and child.poll() is None:
            try:
                child.send_signal(e.signum)
                child.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait(STOP_TIMEOUT)
    except BrokerError as e:
        print("broker.py: %s" % e, file=sys.stderr)
        rc = 1
    finally:
        # No more signals while cleaning up: a second Ctrl-C must not leave
        # mosquitto or the temp dir behind.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
        if child is not None and child.poll() is None:
            _terminate(child)
        if args.verbose and rc != 0:
            tail = broker.log_tail()
            if tail:
                print("broker: mosquitto log tail:\n" + tail, file=sys.stderr)
        broker.stop()
    return rc


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="run CMD with private brokers")
    run.add_argument("-v", "--verbose", action="store_true", help="print ports, and the broker log on failure")
    run.add_argument("--no-tls", action="store_true", help="no TLS listener (no openssl needed)")
    run.add_argument("cmd", nargs=argparse.REMAINDER, help="command and its arguments")
    args = parser.parse_args(argv)
    if args.command != "run":
        parser.print_help()
        return 2
    return cmd_run(args)


if __name__ == "__main__":
    sys.exit(main())
