# robustlink.py: builds the reliability tests' clients on the product's robust
# mode (umqtt_rs_robust.RobustClient, frozen in the firmware) and counts what
# it reports: connections lost (on_disconnect), failed connection attempts
# (log(True, e), umqtt.robust's hook), outages from each loss to the next
# CONNACK (on_connect) and the session-present flag of each reconnect.
#
# Nothing here reconnects or resubscribes: RobustClient does that by itself.
import os
import random
import time

from umqtt_rs import MQTTException
from umqtt_rs_robust import RobustClient, QueueFull

ERRORS = (OSError, MQTTException)

# (ESP32 firmware has no os.getenv: tests/esp32/robust_restart.py uses this too.)
if getattr(os, "getenv", None) and os.getenv("REL_SEED"):
    random.seed(int(os.getenv("REL_SEED")))  # RobustClient's jitter


class Stats:
    def __init__(self, verbose=False):
        self.verbose = verbose
        self.connects = 0  # CONNACKs, the first included
        self.drops = 0  # connections lost
        self.attempts_failed = 0
        self.outages_ms = []  # from each loss to the next CONNACK
        self.sp = []  # session present of each reconnect
        self._down_at = None

    def on_connect(self, c, sp):
        self.connects += 1
        if self._down_at is not None:
            self.outages_ms.append(time.ticks_diff(time.ticks_ms(), self._down_at))
            self.sp.append(sp)
            self._down_at = None
        if self.verbose:
            print("link: connected sp=%d" % sp)

    def on_disconnect(self, c, e):
        if e is not None:
            self.drops += 1
            if self._down_at is None:
                self._down_at = time.ticks_ms()
        if self.verbose:
            print("link: lost %r" % (e,))

    def max_outage_ms(self):
        return max(self.outages_ms) if self.outages_ms else 0

    def summary(self):
        return "drops=%d failed_connects=%d sp0_reconnects=%d max_outage_ms=%d" % (
            self.drops, self.attempts_failed, self.sp.count(0), self.max_outage_ms())


class _Client(RobustClient):
    def log(self, in_reconnect, e):
        if in_reconnect:
            self.stats.attempts_failed += 1
        if self.stats.verbose:
            print("link: %s %r" % ("reconnect failed" if in_reconnect else "error", e))


def make_client(client_id, host, port, backoff_ms, verbose=False, **kw):
    """A RobustClient with backoff from backoff_ms[0] ms doubling to
    backoff_ms[1] ms (minus up to half of it as jitter), and its Stats."""
    stats = Stats(verbose)
    # REL_PROTOCOL=5 (run.py --protocol 5): MQTT 5 clients.
    if getattr(os, "getenv", None) and os.getenv("REL_PROTOCOL") == "5":
        kw["protocol"] = 5
    c = _Client(
        client_id,
        host,
        port=port,
        backoff_min=backoff_ms[0] / 1000,
        backoff_max=backoff_ms[1] / 1000,
        jitter=0.5,
        connect_timeout=3,
        on_connect=stats.on_connect,
        on_disconnect=stats.on_disconnect,
        **kw
    )
    c.stats = stats
    return c, stats


def first_connect(c):
    """connect() raises when the first attempt fails; RobustClient then goes
    on trying by itself from the next call, so carry on either way."""
    try:
        c.connect()
    except ERRORS as e:
        c.log(True, e)


def wait_connected(c, timeout_ms):
    """Let the robust mode (re)connect: check_msg() makes an attempt when one
    is due.  False after timeout_ms."""
    t0 = time.ticks_ms()
    while not c.connected:
        if time.ticks_diff(time.ticks_ms(), t0) > timeout_ms:
            return False
        c.check_msg()
        if not c.connected:
            time.sleep_ms(1)
    return True
