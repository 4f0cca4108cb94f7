# umqtt_rs_asyncio: an asyncio MQTT client over the native umqtt_rs module.
#
# The native client runs in non-blocking mode.  Two small tasks drive it
# while connected, and neither polls:
# - the reader waits in asyncio's IOQueue until the transport is readable,
#   then calls check_msg(), which handles every complete packet (messages go
#   to a bounded queue, acks wake the tasks awaiting them); while bytes wait
#   to be written (the transport took only part of them) it waits until the
#   transport is writable instead, so a peer that stalls delays the client
#   but never fails it;
# - the ticker sleeps until next_timeout() (the keepalive ping or a reply
#   deadline) and calls check_msg(), so pings go out while the application
#   only awaits messages.
# The reader waits on the socket rather than on the client object: on the
# unix port select.poll checks objects without a file descriptor once per
# millisecond, which would add up to 1 ms to every round trip.  check_msg()
# leaves no complete packet buffered, so the socket's readiness is enough;
# the timers are the ticker's.

import asyncio
from asyncio import core
from time import ticks_ms, ticks_add, ticks_diff
from umqtt_rs import MQTTClient as _Native, MQTTException

_EAGAIN = 11
_ENOTCONN = 107
_IDLE_MS = 3600000  # ticker sleep when the client has no timer running


# Waiting without allocating: a task parks itself in a TaskQueue (and
# yields None to the scheduler); _wake() moves every parked task back to the
# run queue, where it checks its condition again.  Task.cancel() takes a
# parked task out of the queue named by its .data.


def _park(q):
    t = core.cur_task
    q.push(t)
    t.data = q


def _wake(q):
    while q.peek():
        core._task_queue.push(q.pop())


def _wait_write(s):
    yield core._io_queue.queue_write(s)


class MQTTClient:
    """Awaitable connect/publish/subscribe/unsubscribe/disconnect and an async
    iterator of messages.  Constructor: as umqtt_rs.MQTTClient, plus
    queue_size (messages held for messages(); when full the oldest is dropped
    and counted in .dropped), flags (messages() yields (topic, msg,
    retained, qos, dup) instead of (topic, msg)), props (MQTT 5: the
    message's properties, a dict or None, last in each tuple) and wait_on
    ("sock", or "client" to wait on the native client object itself).
    protocol=5 goes to the native client."""

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
        queue_size=32,
        flags=False,
        window=16,
        wait_on="sock",
        props=False,
        **native
    ):
        self._c = c = _Native(client_id, server, port, user, password, keepalive, ssl, ssl_params, window=window, **native)
        c.set_callback(self._on_msg, flags, props=props)
        # reason=True: an MQTT 5 refusal (PUBACK/PUBREC code) reaches the
        # publish awaiting it instead of failing the connection.
        c.set_ack_callback(self._on_ack, reason=True)
        self._window = window
        self._wait_client = wait_on == "client"
        self.queue_size = queue_size
        self.dropped = 0
        self._msgs = []
        self._msgq = core.TaskQueue()  # tasks awaiting a message
        self._ackq = core.TaskQueue()  # tasks awaiting an acknowledgement
        self._acked = {}  # pid -> acknowledged, for the publishes awaiting it
        self._wlock = asyncio.Lock()
        self._reader = None
        self._ticker = None
        self._tick_at = None
        self._err = None
        self._closed = True

    # -- API ----------------------------------------------------------------

    def connect(self, clean_session=True, timeout=None, *, sock=None, props=None):
        """Connect and start the driving tasks; returns session_present.
        The TCP/TLS handshake blocks the loop (at most `timeout` seconds);
        the CONNACK is awaited without blocking it.  With
        clean_session=False on the same object, unacknowledged QoS 1/2
        messages are resent.  sock: an open stream to use instead of a new
        socket (as the native connect())."""
        self._stop()
        c = self._c
        c.setblocking(False)
        c.connect(clean_session, timeout, sock=sock, props=props)
        self._err = None
        self._closed = False
        self._reader = asyncio.create_task(self._read())
        self._ticker = asyncio.create_task(self._tick())
        # The CONNACK wakes the ack waiters (ack callback with pid 0); a
        # refusal or the connect timeout fails the client (self._check()).
        while not c.is_connected():
            _park(self._ackq)
            yield
            self._check()
        # The ticker slept until the CONNACK deadline; the keepalive's is
        # sooner now.
        self._kick()
        return c.session_present

    async def disconnect(self):
        self._stop()
        self._closed = True
        self._wake_all()
        self._c.disconnect()

    # async: a generator, so that awaiting an ack allocates nothing.
    def publish(self, topic, msg, retain=False, qos=0, *, props=None):
        """QoS 0 returns once the packet is queued; QoS 1 awaits the PUBACK,
        QoS 2 the PUBCOMP (MQTT 5: MQTTException(code) when it refuses the
        message).  Waits (without blocking the loop) while the in-flight
        window or the transport is full.  props: MQTT 5 properties."""
        self._check()
        c = self._c
        while True:
            try:
                if props is None:
                    pid = c.publish(topic, msg, retain, qos)
                else:
                    pid = c.publish(topic, msg, retain, qos, props=props)
                break
            except OSError as e:
                if e.errno != _EAGAIN:
                    self._fail(e)
                    raise
            if c.inflight() >= self._window:
                # Until any acknowledgement.
                _park(self._ackq)
                yield
                self._check()
            else:
                yield from self._writable()
        # The ack is awaited from here on: while the rest of a large payload
        # goes out, the reader task may already take its PUBACK/PUBCOMP (seen
        # on an ESP32-C3), and _on_ack only marks ids registered here.
        acked = self._acked
        if qos:
            acked[pid] = False
        try:
            # A payload larger than the transmit buffer goes out as the
            # transport takes it; the caller may reuse `msg` once this returns.
            while c.pending():
                yield from self._writable()
                self._check()
            while qos and acked[pid] is False:
                _park(self._ackq)
                yield
                self._check()
            if qos and acked[pid] is not True:
                raise MQTTException(acked[pid])
        finally:
            if qos:
                del acked[pid]

    def subscribe(self, topic, qos=0, **opts):
        """Awaits the SUBACK; MQTTException(code) when refused (0x80, or
        MQTT 5's reason code).  opts: MQTT 5's no_local,
        retain_as_published, retain_handling (as the native subscribe)."""
        codes = yield from self._topic_request(self._c.subscribe, topic, qos, **opts)
        for code in codes or b"":
            if code >= 0x80:
                raise MQTTException(code)

    def unsubscribe(self, topic):
        """Awaits the UNSUBACK."""
        yield from self._topic_request(self._c.unsubscribe, topic)

    async def ping(self):
        self._check()
        try:
            self._c.ping()
        except OSError as e:
            self._fail(e)
            raise
        self._kick()

    def messages(self):
        """An async iterator of (topic, msg), or (topic, msg, retained, qos,
        dup) when the client was made with flags=True.  It ends after
        disconnect() and raises the error that closed the connection."""
        return _Messages(self)

    def __getattr__(self, name):
        # sock, server, port, client_id, keepalive, inflight, next_timeout...
        return getattr(self._c, name)

    # -- internals --------------------------------------------------------------

    def _on_msg(self, *m):
        q = self._msgs
        if len(q) >= self.queue_size:
            q.pop(0)
            self.dropped += 1
        q.append(m)
        _wake(self._msgq)

    def _on_ack(self, pid, code=0):
        if pid in self._acked:
            self._acked[pid] = code or True
        _wake(self._ackq)

    def _check(self):
        if self._err is not None:
            raise self._err
        if self._reader is None:
            raise OSError(_ENOTCONN)

    def _wait_writable(self):
        # One task at a time waits for the socket to be writable (asyncio's
        # IOQueue holds one writer per stream).
        yield from self._wlock.acquire()
        try:
            sock = self._c.sock
            if sock is None:
                raise OSError(_ENOTCONN)
            yield core._io_queue.queue_write(sock)
        finally:
            self._wlock.release()

    def _writable(self):
        yield from self._wait_writable()
        self._drive()

    def _topic_request(self, f, topic, qos=None, **opts):
        # Sends a SUBSCRIBE/UNSUBSCRIBE and awaits its ack like a publish's
        # (the ack callback), without blocking the loop; returns the SUBACK
        # return codes (None for UNSUBACK).
        self._check()
        c = self._c
        while True:
            try:
                pid = f(topic) if qos is None else f(topic, qos, **opts)
                break
            except OSError as e:
                if e.errno != _EAGAIN:
                    self._fail(e)
                    raise
            yield from self._writable()
        acked = self._acked
        acked[pid] = False
        try:
            while not acked[pid]:
                _park(self._ackq)
                yield
                self._check()
        finally:
            del acked[pid]
        return c.suback(pid)

    def _drive(self):
        try:
            self._c.check_msg()
        except Exception as e:
            self._fail(e)
            raise

    def _read(self):
        # The reader task (a generator: no allocation per wait).
        c = self._c
        try:
            while True:
                c.check_msg()
                if c.pending():
                    yield from self._wait_writable()
                else:
                    yield core._io_queue.queue_read(c if self._wait_client else c.sock)
        except Exception as e:
            self._fail(e)

    async def _tick(self):
        c = self._c
        try:
            while True:
                t = c.next_timeout()
                if t is None:
                    t = _IDLE_MS
                self._tick_at = ticks_add(ticks_ms(), t)
                await asyncio.sleep_ms(t)
                self._tick_at = None
                c.check_msg()
        except Exception as e:
            self._fail(e)

    def _kick(self):
        # Wake the ticker early when the client's next deadline moved before
        # the ticker's wake-up.
        t = self._ticker
        at = self._tick_at
        if t is None or at is None:
            return
        nt = self._c.next_timeout()
        if nt is not None and ticks_diff(at, ticks_add(ticks_ms(), nt)) > 0:
            core._task_queue.remove(t)
            core._task_queue.push(t)
            self._tick_at = None

    def _fail(self, e):
        # The native client closed the connection: stop, wake every waiter.
        if self._err is None:
            self._err = e
        self._stop()
        self._wake_all()

    def _wake_all(self):
        _wake(self._msgq)
        _wake(self._ackq)

    def _stop(self):
        cur = core.cur_task
        for t in (self._reader, self._ticker):
            if t is not None and t is not cur and not t.done():
                t.cancel()
        self._reader = self._ticker = None
        self._tick_at = None


class _Messages:
    # The async iterator is its own awaitable: __anext__ allocates nothing.
    def __init__(self, client):
        self._cl = client

    def __aiter__(self):
        return self

    def __anext__(self):
        return self

    def __iter__(self):
        return self

    def __next__(self):
        cl = self._cl
        if cl._msgs:
            raise StopIteration(cl._msgs.pop(0))
        if cl._err is not None:
            raise cl._err
        if cl._closed:
            raise StopAsyncIteration
        _park(cl._msgq)
        return None
