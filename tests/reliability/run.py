#!/usr/bin/env python3
"""Reliability tests of umqtt_rs on the unix firmware, through tools/faultproxy.py.

    python3 tests/reliability/run.py [--firmware build/unix/micropython] [--cuts C] [cuts|restart ...]

cuts     publisher.py sends N QoS 1 + N QoS 2 messages, pipelined (a window
         of 16), while the proxies in front of it and of subscriber.py cut
         the connections at random bytes in both directions: at least C cuts
         (--cuts, default 200: `make test`; 1000: `make
         test-reliability`) on EACH side, in both directions on each
         side, falling between packets, inside fixed headers and inside
         bodies.  N defaults to max(10,000, 40 C).  mosquitto runs with
         unbounded in-flight and queued messages, so that it re-sends
         everything in flight after each reconnect; the publisher is held
         while the subscriber's backlog is over --backlog messages (600),
         so that the subscriber's connections can still make progress
         (see scenario_cuts).  The subscriber (persistent session) must get
         every message (0 lost; QoS 1 duplicates allowed), first occurrences
         in order per topic; QoS 2 duplicates must not exceed the broker's
         own: the subscriber-side proxy counts, from the bytes that reached
         the client, each QoS 2 PUBLISH with DUP for an id whose PUBREL the
         client had fully received (mosquitto 2.0.11 sends them after
         reconnects; MQTT-4.3.3-2 makes them new publications for the
         client).  Prints deliveries, duplicates and that count.  Message
         by message too: every QoS 2 message delivered twice must be one
         the broker re-sent after its release (the proxy keeps the head of
         each such re-send's payload; the subscriber lists its duplicates).
         --subscriber reference runs refsub.py (host Python, spec-exact) in
         place of subscriber.py: a check of the measurement itself, whose
         duplicates must equal the proxy's count; with
         REL_REFSUB_HELD_MAX=256 it forgets held ids as umqtt_rs once did,
         and the scenario must fail (a negative control).
--protocol 5 runs both scenarios with MQTT 5 clients (protocol=5; their
         persistent sessions never expire, as connect(clean_session=False)
         asks by default).

restart  the same stream, smaller, while mosquitto (persistence on) is
         stopped and started again mid-stream; the clients reconnect with
         backoff and go on, the subscriber resubscribes (resubscribe=
         "always", checked in mosquitto's log); prints the time to recover.

Both clients run on the firmware on the product's robust mode
(umqtt_rs_robust.RobustClient: automatic reconnect with backoff and jitter,
persistent session, resubscribe, offline queue); tests/reliability/
robustlink.py only counts what it reports.  A private mosquitto comes from
tools/broker.py.  Exit status 0 when every scenario passed.  Standard library
only; every wait is bounded.
"""

import argparse
import collections
import os
import queue
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tools"))

from broker import Broker  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

MIN_CUTS = 200  # per side (publisher proxy, subscriber proxy); --cuts
# Bytes per QoS 1 + QoS 2 message pair in a side's busy direction (publisher
# up, subscriber down: two PUBLISH of ~36 bytes and a PUBREL) and quiet one
# (PUBACK, PUBREC, PUBCOMP): the default cut ranges are sized from them.
BUSY_BYTES = 76
QUIET_BYTES = 12
CUTS_MARGIN = 2.0  # expected cuts / wanted cuts
# The subscriber's backlog (cuts): the publisher is held while more messages
# than this wait for the subscriber (several hundred QoS 2 ids in flight,
# beyond any small fixed table of held ids).
BACKLOG = 600
# Subscriber side: cut down at 1..this many bytes per backlog message, up at
# 1..a tenth of that, log-uniform: about one connection in ten outlasts the
# re-send burst of a full backlog (~40 bytes a message).
SUB_CUT_BYTES_PER_MESSAGE = 45
# Messages per QoS level by default, per cut wanted on each side.  When the
# subscriber keeps up, its connections are cut on average every ~31 message
# pairs (log-uniform: ~2,650 bytes down, ~340 up); when it falls behind,
# more often.  40 leaves a margin of 1.3 at the least.
N_PER_CUT = 40
PROGRESS_LINE = re.compile(r"(?:pub: sent|sub: got) (\d+)$")
PROGRESS_STEP = 50  # messages between progress lines (cuts)
READY_TIMEOUT = 20.0  # seconds for the subscriber to subscribe
CLIENT_TIMEOUT = 150  # seconds a client script may run (its own limit)


class Failure(Exception):
    pass


class Script:
    """A MicroPython script on the firmware; its output lines go to a queue."""

    def __init__(self, firmware, name, env, lines, script=None, progress=None):
        # script: a host Python script to run instead of NAME.py on the firmware;
        # progress: a dict whose [name] follows its "pub: sent N" / "sub: got N"
        self.name = name
        self.progress = progress
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, script)] if script else [firmware, os.path.join(HERE, name + ".py")],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="replace",
        )
        self.output = []
        self._thread = threading.Thread(target=self._pump, args=(lines,), daemon=True)
        self._thread.start()

    def _pump(self, lines):
        for line in self.proc.stdout:
            line = line.rstrip("\n")
            m = PROGRESS_LINE.match(line)
            if m and self.progress is not None:
                self.progress[self.name] = int(m.group(1))
            if m and int(m.group(1)) % 1000:
                continue  # kept out of the output: finer steps, for hold_up
            self.output.append(line)
            if not line.startswith("sub: dup2 "):  # kept, not shown
                lines.put((self.name, line))
        lines.put((self.name, None))

    def wait(self, timeout):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise Failure("%s did not finish in %.0f s" % (self.name, timeout))
        finally:
            self._thread.join(5)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


def run_stream(firmware, broker, pub_proxy, sub_proxy, n, backoff, tag, on_line=None, pace_ms=0, timeout=CLIENT_TIMEOUT,
               sub_env=None, sub_script=None, progress=None):
    """Run subscriber.py then publisher.py; return {"pub": lines, "sub": lines}.

    progress: a dict; its "publisher" and "subscriber" entries follow the
    messages published and received, every PROGRESS_STEP messages."""
    stop_file = os.path.join(broker.dir, "publisher-done-" + tag)
    base = dict(os.environ)
    base.update(
        MQTT_HOST=broker.host,
        REL_TAG=tag,
        REL_N=str(n),
        REL_BACKOFF="%d,%d" % backoff,
        REL_TIMEOUT=str(timeout),
        REL_PACE_MS=str(pace_ms),
        REL_STOP_FILE=stop_file,
        REL_SEED=str(random.getrandbits(30)),
    )
    if progress is not None:
        base["REL_PROGRESS"] = str(PROGRESS_STEP)
    lines = queue.Queue()
    sub = pub = None
    try:
        sub = Script(firmware, "subscriber", dict(base, REL_PORT=str(sub_proxy.port), **(sub_env or {})), lines, sub_script, progress)
        deadline = time.monotonic() + READY_TIMEOUT
        while True:
            try:
                name, line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise Failure("subscriber not ready in %.0f s" % READY_TIMEOUT)
            if line is None:
                raise Failure("subscriber ended before it was ready:\n" + "\n".join(sub.output))
            print("  " + line, flush=True)
            if line == "sub: ready":
                break
        pub = Script(firmware, "publisher", dict(base, REL_PORT=str(pub_proxy.port)), lines, None, progress)
        ended = set()
        deadline = time.monotonic() + timeout + 20
        while len(ended) < 2:
            try:
                name, line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                raise Failure("clients still running after %.0f s" % (timeout + 20))
            if line is None:
                ended.add(name)
                if name == "publisher":
                    open(stop_file, "w").close()
                continue
            print("  " + line, flush=True)
            if on_line is not None:
                on_line(name, line)
        rc_pub = pub.wait(10)
        rc_sub = sub.wait(10)
        if rc_pub != 0 or rc_sub != 0:
            raise Failure("publisher exit %s, subscriber exit %s" % (rc_pub, rc_sub))
        if "sub: OK" not in sub.output:
            raise Failure("subscriber did not report OK")
        return {"pub": pub.output, "sub": sub.output}
    finally:
        for s in (pub, sub):
            if s is not None:
                s.kill()


def _dup2(lines):
    """{sequence number: extra deliveries} from the "sub: dup2" lines; None if truncated."""
    dups = {}
    for line in lines:
        if not line.startswith("sub: dup2 "):
            continue
        for item in line.split()[2:]:
            if item == "truncated":
                return None
            seq, _, k = item.partition("*")
            dups[int(seq)] = int(k or 1)
    return dups


def _field(lines, key):
    # key: a regular expression before "=NUMBER"
    for line in lines:
        m = re.search(r"\b%s=(\d+)" % key, line)
        if m:
            return int(m.group(1))
    return None


def _side(p):
    """'N: U up/D down (between B, header H, body Y)' for one proxy."""
    where = collections.Counter()
    for (_, w), k in p.cut_where.items():
        where[w] += k
    return "%d: %d up/%d down (between %d, header %d, body %d)" % (
        p.cuts,
        sum(1 for d, _ in p.cut_log if d == "up"),
        sum(1 for d, _ in p.cut_log if d == "down"),
        where["between"],
        where["header"],
        where["body"],
    )


def _print_cuts(pp, sp):
    print(
        "cuts: %d cuts, publisher side %s; subscriber side %s; %d connections"
        % (pp.cuts + sp.cuts, _side(pp), _side(sp), pp.connections + sp.connections),
        flush=True,
    )


def _check_side(name, p, min_cuts):
    if p.cuts < min_cuts:
        raise Failure("%s side: only %d cuts (at least %d wanted)" % (name, p.cuts, min_cuts))
    dirs = {d for d, _ in p.cut_log}
    if dirs != {"up", "down"}:
        raise Failure("%s side: cuts in directions %s only" % (name, sorted(dirs)))
    where = {w for _, w in p.cut_where}
    if where != {"between", "header", "body"}:
        raise Failure("%s side: cuts only %s" % (name, sorted(where)))


def MQTT5_ORDER_REPORTED():
    """--protocol 5: the cuts scenario counts messages delivered after a
    later one (REL_ORDER=report) instead of failing on them.  mosquitto
    2.0.11 keeps at most the client's Receive Maximum (32) in flight to an
    MQTT 5 subscriber and queues the rest; after reconnects it has been seen
    to send a queued message among the in-flight ones it re-sends (with
    DUP, never on the wire before: message N+25 between N+3 and N+4, in
    the proxy's trace).  The client delivers in the order the bytes come;
    loss and QoS 2 duplicates are checked as for 3.1.1."""
    return os.environ.get("REL_PROTOCOL") == "5"


def _trace(name):
    # REL_TRACE_DIR=dir: the proxies write what they forward to dir/NAME.trace.
    d = os.environ.get("REL_TRACE_DIR")
    return os.path.join(d, name + ".trace") if d else None


def pub_cut_max(n, min_cuts):
    """The publisher side's busy range for about CUTS_MARGIN * min_cuts cuts
    over n message pairs.

    Each connection is cut once, in one direction picked at random: up at a
    random byte of 1..busy (uniform), down at 1..busy/10, so a connection
    carries on average busy * (1/(4*BUSY_BYTES) + 1/(40*QUIET_BYTES))
    message pairs.
    """
    per_byte = 1 / (4 * BUSY_BYTES) + 1 / (40 * QUIET_BYTES)
    return max(100, int(n / (CUTS_MARGIN * min_cuts * per_byte)))


def scenario_cuts(firmware, n, seed, min_cuts=MIN_CUTS, pub_max=None, sub_max=None, reference=False, backlog=BACKLOG):
    pub_busy = pub_max or pub_cut_max(n, min_cuts)
    pub_quiet = max(10, pub_busy // 10)
    sub_busy = sub_max or SUB_CUT_BYTES_PER_MESSAGE * backlog
    sub_quiet = max(10, sub_busy // 10)
    print(
        "cuts: %d QoS 1 + %d QoS 2 messages, at least %d random cuts on each side in both directions (seed %d); "
        "publisher side up at 1..%d, down at 1..%d bytes (uniform); subscriber side down at 1..%d, up at 1..%d "
        "(log-uniform); publisher held while more than %d messages ahead"
        % (n, n, min_cuts, seed, pub_busy, pub_quiet, sub_busy, sub_quiet, backlog),
        flush=True,
    )
    t0 = time.monotonic()
    # mosquitto 2.0 sends a new message ahead of queued ones when an
    # in-flight slot is free (seen with the default max_inflight_messages 20:
    # a subscriber got message 3379 before 3032..3378), and with 1 it drops
    # a pipelined publisher's messages beyond its incoming quota (PUBACK and
    # discard).  Unlimited (0): nothing is queued for a connected client,
    # and everything in flight is re-sent after each reconnect.
    config = ["max_inflight_messages 0", "max_queued_messages 0"]
    with Broker(tls=False, persistence=True, config=config) as b:
        # A publisher sends ~36 bytes up per message and gets 4-8 bytes back;
        # the subscriber the reverse: each proxy cuts its busy direction at a
        # random byte of 1..busy and its quiet one at 1..busy/10.
        #
        # After each reconnect mosquitto re-sends the subscriber everything
        # in flight at once; a cut inside that burst loses the acks of what
        # came before it (the client had no time to send them), so a
        # connection makes progress only when its cut falls beyond the
        # burst.  Hence, on the subscriber side, log-uniform offsets (mostly
        # short connections, a few long enough to clear the backlog), and a
        # publisher held (its proxy stops reading from it) while the
        # subscriber's backlog is over `backlog` messages: those it has not
        # received yet (publisher.py's count minus subscriber.py's) plus
        # those mosquitto sent it and has not seen acknowledged (the
        # subscriber-side proxy's flows_open).  Several hundred QoS 2
        # messages in flight at a time, not the whole stream.
        pub_cuts = {"up": (1, pub_busy), "down": (1, pub_quiet)}
        sub_cuts = {"up": (1, sub_quiet, "log"), "down": (1, sub_busy, "log")}
        progress = {}
        sp = None

        def hold_publisher():
            unreceived = progress.get("publisher", 0) - progress.get("subscriber", 0)
            return unreceived + sp.mqtt.flows_open > backlog

        with FaultProxy(b.port, cut_random=sub_cuts, seed=seed + 1, trace=_trace("cuts-sub"), mqtt=True) as sp, FaultProxy(
            b.port, cut_random=pub_cuts, seed=seed, trace=_trace("cuts-pub"), mqtt=True, hold_up=hold_publisher
        ) as pp:
            out = None
            try:
                out = run_stream(
                    firmware,
                    b,
                    pp,
                    sp,
                    n,
                    (1, 100),
                    "c%08x" % random.getrandbits(32),
                    sub_env=dict(REL_QOS2_DUPS="count", **({"REL_ORDER": "report"} if MQTT5_ORDER_REPORTED() else {})),
                    sub_script="refsub.py" if reference else None,
                    progress=progress,
                )
            finally:
                pp.stop()
                sp.stop()
                _print_cuts(pp, sp)
                print("cuts: publisher held %.1f s in all" % pp.held_seconds)
                acct = sp.mqtt
                print(
                    "cuts: broker_dup_after_release=%d (the client had sent PUBCOMP for %d of them; "
                    "in %d of %d subscriber connections); %d QoS 2 PUBLISH to the subscriber, %d with DUP "
                    "(%d more on a released id with a new message: id reuse), %d PUBREL; "
                    "up to %d QoS 2 ids held by the subscriber at once"
                    % (
                        acct.dup_after_release,
                        acct.dup_after_pubcomp,
                        len(acct.per_connection),
                        sp.connections,
                        acct.qos2_publishes_down,
                        acct.qos2_dup_down,
                        acct.released_id_reused,
                        acct.pubrels_down,
                        acct.held_max,
                    ),
                    flush=True,
                )
    deliveries = {q: _field(out["sub"], "qos%d deliveries" % q) for q in (1, 2)}
    duplicates = {q: _field(out["sub"], "qos%d deliveries=\\d+ duplicates" % q) for q in (1, 2)}
    if None in deliveries.values() or None in duplicates.values():
        raise Failure("the subscriber did not report its deliveries")
    print(
        "cuts: QoS 1 deliveries=%d, duplicates=%d (allowed); QoS 2 deliveries=%d, duplicates=%d, "
        "broker_dup_after_release=%d"
        % (deliveries[1], duplicates[1], deliveries[2], duplicates[2], acct.dup_after_release),
        flush=True,
    )
    # Message by message: a duplicate of message S is the broker's only if
    # the broker re-sent S after its release.
    dup2 = _dup2(out["sub"])
    unmatched = None
    if dup2 is not None and len(acct.events) == acct.dup_after_release:
        resent = collections.Counter()
        for event in acct.events:
            topic, head = event[4], event[5]
            if topic.endswith(b"/q2") and head.isdigit():
                resent[int(head)] += 1
        unmatched = sum(max(0, k - resent[seq]) for seq, k in dup2.items())
        print(
            "cuts: QoS 2 duplicates not matched by a broker re-send of the same message after its release: %d"
            % unmatched,
            flush=True,
        )
    if acct.held_max <= 256:
        print("cuts: note: the subscriber never had more than %d QoS 2 ids to hold at once (this run would not show a "
              "client that forgets held ids beyond 256)" % acct.held_max, flush=True)
    if acct.malformed:
        raise Failure("the proxy could not frame %d subscriber connections" % acct.malformed)
    _check_side("publisher", pp, min_cuts)
    _check_side("subscriber", sp, min_cuts)
    # REL_REFSUB_HELD_MAX makes refsub.py a faulty client on purpose.
    if reference and not os.environ.get("REL_REFSUB_HELD_MAX") and duplicates[2] != acct.dup_after_release:
        raise Failure(
            "the reference subscriber got %d QoS 2 duplicates, the proxy counted %d re-sends of released ids: "
            "the measurement is wrong" % (duplicates[2], acct.dup_after_release)
        )
    if duplicates[2] > acct.dup_after_release:
        raise Failure(
            "%d QoS 2 duplicates, the broker re-sent only %d released ids: %d duplicates are the client's"
            % (duplicates[2], acct.dup_after_release, duplicates[2] - acct.dup_after_release)
        )
    if unmatched:
        raise Failure("%d QoS 2 duplicates of messages the broker did not re-send after their release: the client's" % unmatched)
    print("cuts: PASS in %.1f s" % (time.monotonic() - t0))
    return out


def scenario_restart(firmware, n, down_time):
    print("restart: %d QoS 1 + %d QoS 2 messages, mosquitto stopped for %.1f s mid-stream" % (n, n, down_time), flush=True)
    t0 = time.monotonic()
    restarted = {}
    tag = "r%08x" % random.getrandbits(32)
    # mosquitto logs each SUBSCRIBE as "CLIENT_ID QOS FILTER" (log_type
    # subscribe) and each start (information); its stdout is block-buffered,
    # so the log is read once it has exited (keep_dir).
    # Known broker fault (mosquitto 2.0.11), seen in proxy traces: with the
    # default max_inflight_messages 20, messages it queued for the subscriber
    # while it was away can go out after newer ones (out of order on the
    # wire); with 0 or 65535 instead, a QoS 2 message whose PUBREL it had
    # already sent is resent as a PUBLISH after the restart (delivered twice).
    # So this scenario keeps the default and counts reordered messages
    # (REL_ORDER=report) instead of failing on them; the cuts scenario, where
    # mosquitto keeps order, checks order strictly.
    b = Broker(
        tls=False,
        persistence=True,
        keep_dir=True,
        config=["log_type subscribe", "log_type information"],
    )
    try:
        out, log = _restart_stream(firmware, b, n, down_time, tag, restarted)
    finally:
        if b.dir:
            shutil.rmtree(b.dir, ignore_errors=True)
    starts = [m.end() for m in re.finditer(r"mosquitto version \S+ starting", log)]
    if len(starts) != 2:
        raise Failure("mosquitto started %d times, 2 expected" % len(starts))
    # The subscriber's SUBSCRIBEs that reached the restarted mosquitto.
    resubscribed = sorted(set(re.findall(r"rel-sub-%s (\d) umqtt_rs/rel/%s/(q\d)" % (tag, tag), log[starts[1]:])))
    print(
        "restart: subscriber resubscribed after the restart: %s"
        % (", ".join("%s at QoS %s" % (t, q) for q, t in resubscribed) or "nothing")
    )
    if resubscribed != [("1", "q1"), ("2", "q2")]:
        raise Failure("the subscriber did not resubscribe both topics after the restart")
    down_ms = restarted["down_s"] * 1000
    pub_out = _field(out["pub"], "max_outage_ms")
    sub_out = _field(out["sub"], "max_outage_ms")
    if not pub_out or not sub_out:
        raise Failure("a client reported no outage (publisher %s ms, subscriber %s ms)" % (pub_out, sub_out))
    print(
        "restart: broker unreachable %.0f ms; publisher reconnected after %s ms (%.0f ms after the broker was back), "
        "subscriber after %s ms (%.0f ms after)"
        % (down_ms, pub_out, (pub_out or 0) - down_ms, sub_out, (sub_out or 0) - down_ms)
    )
    print("restart: PASS in %.1f s" % (time.monotonic() - t0))
    return out


def _restart_stream(firmware, b, n, down_time, tag, restarted):
    with b:
        with FaultProxy(b.port, broker=b, trace=_trace("restart-pub")) as pp, FaultProxy(
            b.port, broker=b, trace=_trace("restart-sub")
        ) as sp:

            def restart():
                t = time.monotonic()
                b.stop_mosquitto()
                pp.cut_all()
                sp.cut_all()
                time.sleep(down_time)
                b.start_mosquitto()
                restarted["down_s"] = time.monotonic() - t

            def on_line(name, line):
                m = re.match(r"pub: sent (\d+)", line)
                if m and int(m.group(1)) >= n // 2 and "thread" not in restarted:
                    restarted["thread"] = threading.Thread(target=restart, daemon=True)
                    restarted["thread"].start()

            out = run_stream(
                firmware, b, pp, sp, n, (20, 500), tag, on_line, pace_ms=4, sub_env={"REL_RESUBSCRIBE": "always", "REL_ORDER": "report"}
            )
            if "thread" not in restarted:
                raise Failure("the broker was never restarted")
            restarted["thread"].join(30)
    with open(b.log_path, errors="replace") as f:
        return out, f.read()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--firmware", default=os.path.join(TOP, "build", "unix", "micropython"))
    parser.add_argument("--n", type=int, help="messages per QoS level (cuts; default: the larger of 10,000 and %d per cut)" % N_PER_CUT)
    parser.add_argument("--restart-n", type=int, default=3000, help="messages per QoS level (restart)")
    parser.add_argument("--down-time", type=float, default=1.0, help="seconds mosquitto stays down")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--subscriber",
        choices=("firmware", "reference"),
        default="firmware",
        help="cuts: subscriber.py on the firmware, or refsub.py (host Python, spec-exact) to check the measurement",
    )
    parser.add_argument("--cuts", type=int, default=MIN_CUTS, help="cuts wanted on each side (cuts); sizes the cut ranges")
    parser.add_argument("--pub-cut-max", type=int, help="publisher proxy: cut up at 1..this byte, down at 1..this/10 (default: from --n and --cuts)")
    parser.add_argument(
        "--sub-cut-max",
        type=int,
        help="subscriber proxy: cut down at 1..this byte, up at 1..this/10, log-uniform (default %d x backlog)"
        % SUB_CUT_BYTES_PER_MESSAGE,
    )
    parser.add_argument("--backlog", type=int, default=BACKLOG, help="cuts: hold the publisher while it is this many messages ahead")
    parser.add_argument(
        "--protocol", type=int, choices=(4, 5), default=4, help="MQTT version of both clients (5: the firmware must have MQTT 5)"
    )
    parser.add_argument("scenarios", nargs="*", metavar="cuts|restart", help="default: both")
    args = parser.parse_args(argv)
    for name in args.scenarios:
        if name not in ("cuts", "restart"):
            parser.error("unknown scenario %r" % name)
    # The clients (robustlink.py) read it; the proxies learn it from CONNECT.
    os.environ["REL_PROTOCOL"] = str(args.protocol)
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    random.seed(seed)  # topics, client ids and the clients' backoff jitter
    t0 = time.monotonic()
    failed = []
    for name in args.scenarios or ["cuts", "restart"]:
        try:
            if name == "cuts":
                n = args.n or max(10000, N_PER_CUT * args.cuts)
                scenario_cuts(
                    args.firmware, n, seed, args.cuts, args.pub_cut_max, args.sub_cut_max, args.subscriber == "reference", args.backlog
                )
            else:
                scenario_restart(args.firmware, args.restart_n, args.down_time)
        except Failure as e:
            print("%s: FAIL: %s" % (name, e), flush=True)
            failed.append(name)
    print("reliability: %s in %.1f s" % ("FAILED " + " ".join(failed) if failed else "all passed", time.monotonic() - t0))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
