# umqtt_rs_robust: reconnecting MQTT clients over the native umqtt_rs module.
#
# MQTTClient is a drop-in for micropython-lib's umqtt.robust (DELAY, DEBUG,
# delay(i), log(in_reconnect, e), reconnect(), publish/wait_msg retried after
# a reconnect, check_msg(attempts=2)).  RobustClient is the robust mode: it
# reconnects by itself with exponential backoff plus jitter, keeps the broker
# session (clean_session=False) so that messages in flight are resent,
# resubscribes when the broker lost the session, holds publishes made while
# offline in a bounded queue, and reports connects and disconnects.
#
# Both hold a native client (composition): a Python subclass of the native
# type cannot be waited on with select.poll, whose ioctl expects the native
# object itself.

import time
from umqtt_rs import MQTTClient as _Native, MQTTException

try:
    from random import getrandbits as _bits
except ImportError:

    def _bits(n):
        return time.ticks_us() & ((1 << n) - 1)


class QueueFull(Exception):
    """The offline queue is at its bound: the QoS 1/2 message was not taken."""


def _options(c, qos, no_local, retain_as_published, retain_handling):
    # A subscription as SUBSCRIBE's options byte: QoS in bits 0-1, MQTT 5's
    # no local (bit 2), retain as published (bit 3), retain handling (bits
    # 4-5); a 3.1.1 subscription is its QoS alone.  Checked before the
    # subscription is recorded.
    if not 0 <= qos <= 2:
        raise ValueError("qos must be 0, 1 or 2")
    if not 0 <= retain_handling <= 2:
        raise ValueError("retain_handling must be 0, 1 or 2")
    o = qos | no_local << 2 | retain_as_published << 3 | retain_handling << 4
    if o >> 2 and getattr(c, "protocol", 4) != 5:
        raise ValueError("needs protocol=5")
    return o


def _subscribe(c, topic, o):
    # The native subscribe of options byte o (the MQTT 5 options only when set).
    if o >> 2:
        c.subscribe(topic, o & 3, no_local=bool(o & 4), retain_as_published=bool(o & 8), retain_handling=o >> 4)
    else:
        c.subscribe(topic, o & 3)


def _key(topic):
    # Subscriptions are recorded by the filter's bytes.
    return topic.encode() if isinstance(topic, str) else bytes(topic)


class MQTTClient:
    """umqtt.robust's MQTTClient over the native client.

    As in umqtt.robust, connect() is the caller's (clean_session=True by
    default); publish(), wait_msg() and check_msg() catch OSError, call
    reconnect() (connect(False), retried after delay(i)) and try again.
    Better than umqtt.robust: a QoS 1/2 message that was sent before the
    connection dropped is not published twice (the native session resends it
    after the reconnect and publish() waits for its acknowledgement);
    subscribe() and unsubscribe() are retried too; subscriptions are renewed
    when the broker answers a reconnect with session_present=0.
    """

    DELAY = 2
    DEBUG = False

    def __init__(
        self,
        client_id,
        server,
        port=0,
        user=None,
        password=None,
        keepalive=0,
        ssl=None,
        ssl_params={},
        *,
        on_connect=None,
        on_disconnect=None,
        resubscribe="auto",
        **native
    ):
        if resubscribe not in ("auto", "always"):
            raise ValueError("resubscribe must be 'auto' or 'always'")
        self._c = _Native(client_id, server, port, user, password, keepalive, ssl, ssl_params, **native)
        self._c.set_ack_callback(self._on_ack)
        self._ack_cb = None
        self._acks = 0  # acknowledgements seen: tells whether a failed publish was stored
        self._subs = {}  # filter bytes -> [topic, options byte, acknowledged]
        self._unsubs = []  # filters dropped while offline (for a kept session)
        # Subscriptions kept with a restored session (session=, session_file=).
        self._kept = self._c.session_data()
        data = self._kept or b""
        if data[:2] == b"S1":
            i = 2
            while i + 3 <= len(data):
                n = (data[i + 1] << 8) | data[i + 2]
                k = bytes(data[i + 3 : i + 3 + n])
                self._subs[k] = [k, data[i], True]
                i += 3 + n
        self.on_connect = on_connect  # f(client, session_present)
        self.on_disconnect = on_disconnect  # f(client, exception or None)
        self.resubscribe = resubscribe
        self.connected = False

    # -- umqtt.robust ---------------------------------------------------------

    def delay(self, i):
        time.sleep(self.DELAY)

    def log(self, in_reconnect, e):
        if self.DEBUG:
            if in_reconnect:
                print("mqtt reconnect: %r" % e)
            else:
                print("mqtt: %r" % e)

    def reconnect(self):
        i = 0
        while True:
            try:
                return self.connect(False)
            except OSError as e:
                self.log(True, e)
                i += 1
                self.delay(i)

    def connect(self, clean_session=True, timeout=None, *, props=None):
        """Connect; returns session_present.  A clean session forgets the
        subscriptions recorded so far, as the broker does.  props: MQTT 5
        CONNECT properties, kept by the native client for the reconnects."""
        if clean_session:
            self._subs = {}
            self._unsubs = []
            self._keep_subs()
        try:
            sp = self._c.connect(clean_session, timeout, props=props)
            self._restore(sp)
        except Exception:
            self.connected = False
            raise
        self.connected = True
        self._connected(sp)
        if self.on_connect:
            self.on_connect(self, sp)
        return sp

    def publish(self, topic, msg, retain=False, qos=0, *, props=None):
        stored = False
        while True:
            if stored:
                # The native session resent it after the reconnect.
                err = self._call(self._c.drain)
            else:
                err, stored = self._pub(topic, msg, retain, qos, True, props)
            if err is None:
                return None
            self.log(False, err)
            self.reconnect()

    def wait_msg(self):
        while True:
            err = self._call(self._c.wait_msg)
            if err is None:
                return None
            self.log(False, err)
            self.reconnect()

    def check_msg(self, attempts=2):
        while attempts:
            err = self._call(self._c.check_msg)
            if err is None:
                return None
            self.log(False, err)
            self.reconnect()
            attempts -= 1

    def subscribe(self, topic, qos=0, *, no_local=False, retain_as_published=False, retain_handling=0):
        o = _options(self._c, qos, no_local, retain_as_published, retain_handling)
        k = _key(topic)
        self._subs[k] = [topic, o, False]
        while True:
            try:
                _subscribe(self._c, topic, o)
                break
            except MQTTException:
                del self._subs[k]
                raise
            except OSError as e:
                self._lost(e)
                self.log(False, e)
            # reconnect() sends the unacknowledged subscription.
            self.reconnect()
            s = self._subs.get(k)
            if s is None:
                raise MQTTException(0x80)  # refused when renewed
            if s[2]:
                self._keep_subs()
                return
        self._subs[k][2] = True
        self._keep_subs()

    def unsubscribe(self, topic):
        self._subs.pop(_key(topic), None)
        self._keep_subs()
        while True:
            err = self._call(self._c.unsubscribe, topic)
            if err is None:
                return
            self.log(False, err)
            self.reconnect()

    # -- the rest of umqtt.simple -------------------------------------------

    def disconnect(self):
        was = self.connected
        self.connected = False
        try:
            self._c.disconnect()
        finally:
            if was and self.on_disconnect:
                self.on_disconnect(self, None)

    def ping(self):
        err = self._call(self._c.ping)
        if err is not None:
            raise err

    def set_callback(self, f, flags=False, *, props=False):
        self._c.set_callback(f, flags, props=props)

    def set_ack_callback(self, f):
        self._ack_cb = f

    def set_last_will(self, topic, msg, retain=False, qos=0, *, props=None):
        self._c.set_last_will(topic, msg, retain, qos, props=props)

    def subscriptions(self):
        """The active subscriptions: {filter bytes: qos}."""
        return {k: v[1] & 3 for k, v in self._subs.items()}

    def __getattr__(self, name):
        # sock, server, port, client_id, keepalive, cb, inflight, drain,
        # next_timeout, setblocking... come from the native client.
        return getattr(self._c, name)

    # -- internals ------------------------------------------------------------

    def _on_ack(self, pid):
        self._acks += 1
        if self._ack_cb:
            self._ack_cb(pid)

    def _connected(self, sp):
        pass

    def _lost(self, e):
        if self.connected:
            self.connected = False
            if self.on_disconnect:
                self.on_disconnect(self, e)

    def _call(self, f, *args):
        # Run a native call; an OSError (the native client closed the
        # connection) is returned, after on_disconnect.
        try:
            f(*args)
            return None
        except OSError as e:
            self._lost(e)
            return e

    def _pub(self, topic, msg, retain, qos, wait, props=None):
        # Native publish.  Returns (error or None, stored): stored is True when
        # a QoS 1/2 message went into the native session before the error,
        # so that a reconnect resends it and it must not be published again.
        c = self._c
        n0 = c.inflight()
        a0 = self._acks
        try:
            c.publish(topic, msg, retain, qos, wait=wait, props=props)
            return None, False
        except OSError as e:
            stored = qos > 0 and c.inflight() + self._acks - a0 > n0
            self._lost(e)
            return e, stored

    def _keep_subs(self):
        # The subscriptions go with the session (session_bytes(),
        # session_file=), so that a client restored after deep sleep or a
        # power cut can renew them when the broker lost them.  Each: its
        # options byte (the QoS, and MQTT 5's options), the filter's length
        # and bytes.
        data = bytearray(b"S1")
        for k, s in self._subs.items():
            data += bytes((s[1], len(k) >> 8, len(k) & 0xFF)) + k
        data = bytes(data) if self._subs else None
        if data != self._kept:
            self._kept = data
            self._c.set_session_data(data)

    def _restore(self, sp):
        # After a CONNACK: renew what the broker does not remember.
        c = self._c
        if sp:
            for t in self._unsubs:
                c.unsubscribe(t)
        self._unsubs = []
        for k in list(self._subs):
            s = self._subs[k]
            if not sp or self.resubscribe == "always" or not s[2]:
                try:
                    _subscribe(c, s[0], s[1])
                except MQTTException as e:
                    # Refused now (0x80): the subscription is over.
                    del self._subs[k]
                    self.log(True, e)
                    continue
                s[2] = True
        self._keep_subs()


class RobustClient(MQTTClient):
    """The robust mode: reconnects by itself, queues publishes while offline.

    connect() keeps the session by default (clean_session=False): messages in
    flight are resent after a reconnect.  The first connect() raises when it
    fails; from then on a lost connection is re-established by the next
    publish/subscribe/wait_msg/check_msg call, at once and then after
    backoff_ms(n): backoff_min * 2**(n-1) seconds, at most backoff_max, minus
    up to `jitter` (a fraction) at random.  While offline, publish() queues the
    message (at most queue_size messages and queue_bytes bytes of topic +
    payload; QoS 0 is dropped unless queue_qos0) and the queue goes out, in
    order, after the next CONNACK; a QoS 1/2 message beyond the bound raises
    QueueFull.
    """

    def __init__(
        self,
        client_id,
        server,
        port=0,
        user=None,
        password=None,
        keepalive=0,
        ssl=None,
        ssl_params={},
        *,
        backoff_min=1,
        backoff_max=60,
        jitter=0.5,
        connect_timeout=10,
        queue_size=16,
        queue_bytes=8192,
        queue_qos0=False,
        **kw
    ):
        super().__init__(client_id, server, port, user, password, keepalive, ssl, ssl_params, **kw)
        self.backoff_min = backoff_min
        self.backoff_max = backoff_max
        self.jitter = jitter
        self.connect_timeout = connect_timeout
        self.queue_size = queue_size
        self.queue_bytes = queue_bytes
        self.queue_qos0 = queue_qos0
        self.dropped = 0  # QoS 0 messages not sent because offline
        self._queue = []  # (topic, msg, retain, qos) published while offline
        self._qbytes = 0
        self._attempt = 0  # failed connection attempts in a row
        self._due = None  # ticks_ms of the next attempt; None before connect()

    def backoff_ms(self, n):
        """Milliseconds to wait after the n-th failed attempt in a row (n >= 1)."""
        d = min(self.backoff_max, self.backoff_min * (1 << min(n - 1, 20))) * 1000
        return int(d - d * self.jitter * _bits(16) / 65536)

    def delay(self, i):
        time.sleep_ms(self.backoff_ms(i))

    def queued(self):
        """Messages waiting in the offline queue."""
        return len(self._queue)

    def connect(self, clean_session=False, timeout=None, *, props=None):
        if self._due is None:
            self._due = time.ticks_ms()
        try:
            return super().connect(clean_session, self.connect_timeout if timeout is None else timeout, props=props)
        except (OSError, MQTTException) as e:
            self._attempt += 1
            self._due = time.ticks_add(time.ticks_ms(), self.backoff_ms(self._attempt))
            raise

    def publish(self, topic, msg, retain=False, qos=0, *, wait=True):
        """QoS 1/2 with wait returns after the ack while the connection holds;
        if it drops, the message is kept (native session or offline queue)
        and goes out after the reconnect.  Returns False when a QoS 0 message
        was dropped, else None."""
        for _ in range(2):
            if not self.connected and not self._try():
                break
            err, stored = self._pub(topic, msg, retain, qos, wait)
            if err is None or stored:
                return None
            self.log(False, err)
        return self._enqueue(topic, msg, retain, qos)

    def subscribe(self, topic, qos=0, *, no_local=False, retain_as_published=False, retain_handling=0):
        """Records the subscription; sends it now when connected, else at the
        next connect."""
        o = _options(self._c, qos, no_local, retain_as_published, retain_handling)
        k = _key(topic)
        self._subs[k] = [topic, o, False]
        if self.connected or self._try():
            try:
                _subscribe(self._c, topic, o)
                self._subs[k][2] = True
            except MQTTException:
                del self._subs[k]
                raise
            except OSError as e:
                self._lost(e)
                self.log(False, e)
        self._keep_subs()

    def unsubscribe(self, topic):
        self._subs.pop(_key(topic), None)
        self._keep_subs()
        if self.connected or self._try():
            if self._call(self._c.unsubscribe, topic) is None:
                return
        self._unsubs.append(topic)

    def wait_msg(self):
        """Blocks until one packet is handled, reconnecting as needed."""
        if self._due is None:
            raise OSError(107)  # ENOTCONN: connect() first
        while True:
            if not self.connected:
                wait = time.ticks_diff(self._due, time.ticks_ms())
                if wait > 0:
                    time.sleep_ms(wait)
                self._try()
                continue
            err = self._call(self._c.wait_msg)
            if err is None:
                return None
            self.log(False, err)

    def check_msg(self, attempts=2):
        """Never waits, except for a connection attempt when one is due."""
        while attempts:
            if not self.connected and not self._try():
                return None
            err = self._call(self._c.check_msg)
            if err is None:
                return None
            self.log(False, err)
            attempts -= 1

    def drain(self, timeout=None):
        """Waits until the native session has nothing in flight; False on
        timeout or when the connection is lost."""
        if not self.connected:
            return False
        try:
            return self._c.drain(timeout)
        except OSError as e:
            self._lost(e)
            return False

    # -- internals ------------------------------------------------------------

    def _lost(self, e):
        if self.connected:
            self._attempt = 0
            self._due = time.ticks_ms()  # the first attempt is immediate
        super()._lost(e)

    def _try(self):
        # One connection attempt if one is due; True when connected.
        if self._due is None or time.ticks_diff(self._due, time.ticks_ms()) > 0:
            return False
        try:
            self.connect(False)
        except (OSError, MQTTException) as e:
            self.log(True, e)
            return False
        return True

    def _connected(self, sp):
        self._attempt = 0
        # Send what was published offline, in order.  A message leaves the
        # queue once the native session has it.
        q = self._queue
        while q:
            t, m, r, qos = q[0]
            err, stored = self._pub(t, m, r, qos, False)
            if err is not None and not stored:
                raise err
            q.pop(0)
            self._qbytes -= len(t) + len(m)
            if err is not None:
                raise err

    def _enqueue(self, topic, msg, retain, qos):
        if qos == 0 and not self.queue_qos0:
            self.dropped += 1
            return False
        if not isinstance(topic, str):
            topic = bytes(topic)
        if not isinstance(msg, str):
            msg = bytes(msg)
        size = len(topic) + len(msg)
        if len(self._queue) >= self.queue_size or self._qbytes + size > self.queue_bytes:
            if qos == 0:
                self.dropped += 1
                return False
            raise QueueFull("offline queue full: %d messages, %d bytes" % (len(self._queue), self._qbytes))
        self._queue.append((topic, msg, retain, qos))
        self._qbytes += size
        return None
