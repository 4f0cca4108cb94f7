# scripted_broker.py: an MQTT 3.1.1 broker scripted in MicroPython, reached
# through an in-memory stream, for tests that need no network (qemu boards).
#
#     b = Broker()                      # an io.IOBase with readinto/write/ioctl
#     c = MQTTClient("id", "scripted")
#     c.connect(sock=b)                 # the client talks to b, nothing else
#     b.show()                          # prints what the client wrote
#     b.send(publish(b"t", b"m", qos=1, pid=7))   # queue bytes for the client
#
# The broker parses every packet the client writes and, unless told not to,
# answers like a real broker: CONNACK (connack_rc, session_present), PUBACK /
# PUBREC for QoS 1 / 2, PUBCOMP for PUBREL, SUBACK (granted), UNSUBACK,
# PINGRESP (ping=False: a silent broker).  Reads follow MicroPython's stream
# rules: None ("no data yet", EAGAIN) when nothing is queued, 0 at end of
# stream; chunk=N hands out at most N bytes per read; wlimit=N takes at most N
# bytes per write and answers every other write with "would block".
import io

_POLL_RD = 0x0001
_POLL_WR = 0x0004
_STREAM_POLL = 3
_STREAM_CLOSE = 4
_EINVAL = 22
_EPIPE = 32

NAMES = (
    "?0",
    "CONNECT",
    "CONNACK",
    "PUBLISH",
    "PUBACK",
    "PUBREC",
    "PUBREL",
    "PUBCOMP",
    "SUBSCRIBE",
    "SUBACK",
    "UNSUBSCRIBE",
    "UNSUBACK",
    "PINGREQ",
    "PINGRESP",
    "DISCONNECT",
    "?15",
)


def hexs(b):
    return " ".join("%02x" % x for x in b)


def _remaining(n):
    out = bytearray()
    while True:
        d = n & 0x7F
        n >>= 7
        out.append(d | (0x80 if n else 0))
        if not n:
            return out


def packet(first, body=b""):
    """A packet: first header byte, remaining length, body."""
    return bytes([first]) + _remaining(len(body)) + bytes(body)


def _u16(n):
    return bytes([n >> 8, n & 0xFF])


def publish(topic, msg, qos=0, pid=0, retain=False, dup=False):
    """A PUBLISH from the broker to the client."""
    body = _u16(len(topic)) + topic + (_u16(pid) if qos else b"") + msg
    return packet(0x30 | (8 if dup else 0) | (qos << 1) | (1 if retain else 0), body)


def ack(kind, pid):
    """PUBACK, PUBREC, PUBREL, PUBCOMP or UNSUBACK for pid."""
    first = {"PUBACK": 0x40, "PUBREC": 0x50, "PUBREL": 0x62, "PUBCOMP": 0x70, "UNSUBACK": 0xB0}
    return packet(first[kind], _u16(pid))


class Broker(io.IOBase):
    def __init__(self, connack_rc=0, session_present=0, ping=True, acks=True, granted=None, chunk=0, wlimit=0):
        self.connack_rc = connack_rc
        self.session_present = session_present
        self.ping = ping
        self.acks = acks
        self.granted = granted  # SUBACK return code; None: the QoS asked for
        self.chunk = chunk
        self.wlimit = wlimit  # at most this many bytes per write; and every other write "would block"
        self.busy = False
        self.rx = bytearray()  # written by the client, not yet a whole packet
        self.tx = bytearray()  # queued for the client to read
        self.packets = []  # whole packets the client wrote, not yet shown
        self.eof = False  # the broker closed its end
        self.closed = False  # the client closed the stream

    # ---- the stream protocol (called by the client's C code) ----

    def readinto(self, buf):
        if not self.tx:
            return 0 if self.eof else None
        n = min(len(buf), len(self.tx))
        if self.chunk:
            n = min(n, self.chunk)
        buf[:n] = self.tx[:n]
        self.tx = self.tx[n:]
        return n

    def write(self, buf):
        if self.closed or self.eof:
            return -_EPIPE
        n = len(buf)
        if self.wlimit:
            self.busy = not self.busy
            if self.busy:
                return None  # like a full socket send buffer: EAGAIN
            n = min(n, self.wlimit)
        self.rx.extend(buf[:n])
        self._parse()
        return n

    def ioctl(self, req, arg):
        if req == _STREAM_POLL:
            r = 0
            if arg & _POLL_RD and (self.tx or self.eof):
                r |= _POLL_RD
            if arg & _POLL_WR:
                r |= _POLL_WR
            return r
        if req == _STREAM_CLOSE:
            self.closed = True
            return 0
        return -_EINVAL

    # ---- test helpers ----

    def send(self, *packets):
        for p in packets:
            self.tx.extend(p)

    def take(self):
        p = self.packets
        self.packets = []
        return p

    def show(self):
        """Print each packet the client wrote since the last show()."""
        for p in self.take():
            print(NAMES[p[0] >> 4], hexs(p))

    # ---- the broker ----

    def _parse(self):
        while True:
            rx = self.rx
            if len(rx) < 2:
                return
            n = 0
            shift = 0
            i = 1
            while True:
                if i >= len(rx):
                    return
                d = rx[i]
                n |= (d & 0x7F) << shift
                shift += 7
                i += 1
                if not d & 0x80:
                    break
            if len(rx) < i + n:
                return
            p = bytes(rx[: i + n])
            self.rx = rx[i + n :]
            self.packets.append(p)
            self._answer(p[0] >> 4, p[0] & 15, p[i:])

    def _answer(self, kind, flags, body):
        if kind == 1:  # CONNECT
            self.send(packet(0x20, bytes([self.session_present, self.connack_rc])))
            if self.connack_rc:
                self.eof = True
        elif kind == 3 and self.acks:  # PUBLISH
            qos = (flags >> 1) & 3
            if qos:
                tlen = (body[0] << 8) | body[1]
                pid = (body[2 + tlen] << 8) | body[3 + tlen]
                self.send(ack("PUBACK" if qos == 1 else "PUBREC", pid))
        elif kind == 6 and self.acks:  # PUBREL
            self.send(packet(0x70, body[:2]))
        elif kind == 8:  # SUBSCRIBE
            codes = bytearray()
            i = 2
            while i < len(body):
                tlen = (body[i] << 8) | body[i + 1]
                i += 2 + tlen
                codes.append(body[i] if self.granted is None else self.granted)
                i += 1
            self.send(packet(0x90, body[:2] + codes))
        elif kind == 10:  # UNSUBSCRIBE
            self.send(packet(0xB0, body[:2]))
        elif kind == 12 and self.ping:  # PINGREQ
            self.send(packet(0xD0))
        elif kind == 14:  # DISCONNECT
            self.eof = True
