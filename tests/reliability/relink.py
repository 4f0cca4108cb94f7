# relink.py: the reconnect loop of the reliability tests, over ONE MQTTClient
# object with a persistent session (MicroPython).
#
# The session state (packet ids, stored unacknowledged messages, held incoming
# QoS 2 ids) lives in the MQTTClient object: after connect(clean_session=False)
# on the same object the client resends what was unacknowledged.  The
# subscriptions live on the broker; they are made again only when the broker
# says it has no session (session present 0) or they never completed.
#
# This stands in for the native robust mode (automatic reconnect, backoff,
# resubscribe) until it exists; keep its surface small so that it can be
# swapped for it.
import random
import time

from umqtt_rs import MQTTException

ERRORS = (OSError, MQTTException)


class GaveUp(Exception):
    pass


class Relink:
    """Connect and reconnect `client` with exponential backoff plus jitter.

    subs: [(topic filter, qos)] to (re)subscribe.  Backoff starts at
    backoff_ms[0], doubles per failed attempt up to backoff_ms[1], plus up to
    the same again of random jitter.  Gives up (GaveUp) after give_up_s
    seconds without a connection.
    """

    def __init__(self, client, subs=(), backoff_ms=(5, 1000), connect_timeout_s=3, give_up_s=60, verbose=False):
        self.c = client
        self.subs = list(subs)
        self.backoff_ms = backoff_ms
        self.connect_timeout_s = connect_timeout_s
        self.give_up_s = give_up_s
        self.verbose = verbose
        self.subscribed = False
        self.connects = 0  # successful connects, the first included
        self.attempts_failed = 0
        self.drops = 0  # errors that ended a connection
        self.outages_ms = []  # from each drop to the next successful connect
        self.last_error = None

    def _log(self, msg):
        if self.verbose:
            print("relink:", msg)

    def connect(self, dropped_at=None):
        """Connect (again) and resubscribe if needed; returns session present."""
        delay = self.backoff_ms[0]
        t0 = time.ticks_ms() if dropped_at is None else dropped_at
        while True:
            try:
                present = self.c.connect(clean_session=False, timeout=self.connect_timeout_s)
                if self.subs and not (present and self.subscribed):
                    self.subscribed = False
                    for topic, qos in self.subs:
                        self.c.subscribe(topic, qos)
                    self.subscribed = True
                self.connects += 1
                if dropped_at is not None:
                    self.outages_ms.append(time.ticks_diff(time.ticks_ms(), dropped_at))
                return present
            except ERRORS as e:
                self.attempts_failed += 1
                self.last_error = e
                self._log("connect failed: %r" % (e,))
            if time.ticks_diff(time.ticks_ms(), t0) > self.give_up_s * 1000:
                raise GaveUp("no connection for %d s, last error %r" % (self.give_up_s, self.last_error))
            time.sleep_ms(delay + random.getrandbits(16) % (delay + 1))
            delay = min(delay * 2, self.backoff_ms[1])

    def dropped(self, exc):
        """The connection failed with exc: reconnect."""
        self.drops += 1
        self.last_error = exc
        self._log("dropped: %r" % (exc,))
        return self.connect(time.ticks_ms())

    def max_outage_ms(self):
        return max(self.outages_ms) if self.outages_ms else 0
