#!/usr/bin/env python3
"""Power-cut test: clients killed with SIGKILL at random moments, restarted
from their session files.

    python3 tests/reliability/power_cut.py --firmware F [--messages N] [--kills K]

A publisher (powercut/pc_publisher.py) sends N QoS 1 and N QoS 2 messages
and a subscriber (powercut/pc_subscriber.py) receives them, both on the
firmware with MQTTClient(..., session_file=...), through a private
mosquitto (unbounded queues).  This script kills one of them (SIGKILL, as a
power cut: nothing runs after it) at random moments, at least K times, and
starts it again at once from its file.  Then it counts, from the
subscriber's log, every message's deliveries.

No client can make a crash inside the application's own work atomic, so two
windows are logged where a duplicate is unavoidable and not counted:
- the subscriber killed while its callback ran, or right after, before the
  client had recorded the acknowledgement (no other event logged between
  the message's line and the process's next "start"); each delivery of a
  message is such a window, the second as much as the first;
- the publisher killed between publish() returning and the application
  recording that it did (the message is tried again: two "try I" lines).
Windows add up: a message tried twice, whose second copy is delivered just
before a kill, is delivered three times, and neither window explains more
than one of the two extra copies (seen: got, tick, got, start, got).
mosquitto 2.0.11 also re-sends, after reconnects, QoS 2 messages whose
PUBREL the client had received (see tests/reliability/run.py); a proxy in
front of the subscriber counts those (dup_after_release) and duplicates up
to that count are the broker's.  Everything else fails: QoS 2, 0 lost and 0
duplicates outside the windows; QoS 1, 0 lost.  Prints one line beginning
"power-cut:".  Standard library only; every wait is bounded.

--keep DIR: on failure, copy into DIR what explains it: both clients' logs,
output and session files, kills.log (each kill with the two logs' line
counts at that moment), the subscriber's proxy trace and mosquitto's full
log (log_type all; both recorded only with --keep).
"""

import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tools"))

from broker import Broker  # noqa: E402
from faultproxy import FaultProxy  # noqa: E402

TIMEOUT = 300  # seconds for the whole run


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--firmware", default=os.path.join(TOP, "build", "unix", "micropython"))
    ap.add_argument("--messages", type=int, default=5000, help="per QoS level")
    ap.add_argument("--kills", type=int, default=100)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--keep", metavar="DIR", help="on failure, keep the evidence in DIR")
    ap.add_argument("--protocol", type=int, choices=(4, 5), default=4, help="MQTT version of both clients (5: the firmware must have MQTT 5)")
    o = ap.parse_args()
    seed = o.seed if o.seed is not None else random.getrandbits(30)
    rng = random.Random(seed)
    t_start = time.monotonic()
    config = ["max_queued_messages 0", "max_inflight_messages 20"] + (["log_type all"] if o.keep else [])
    with tempfile.TemporaryDirectory() as work, Broker(tls=False, config=config) as b, FaultProxy(
        b.port, mqtt=True, trace=os.path.join(work, "sub.trace") if o.keep else None
    ) as sp:
        rc = run(o, seed, rng, t_start, work, b, sp)
        if rc and o.keep:
            sp.stop()
            shutil.copytree(work, o.keep, dirs_exist_ok=True)
            shutil.copy(b.log_path, os.path.join(o.keep, "mosquitto.log"))
            print("power-cut: evidence kept in %s" % o.keep)
        return rc


def run(o, seed, rng, t_start, work, b, sp):
    env = dict(os.environ, MQTT_HOST=b.host, PC_TAG="%08x" % rng.getrandbits(32), PC_N=str(o.messages), PC_DIR=work,
               PC_PROTOCOL=str(o.protocol))
    procs = {}

    def start(name, port):
        script = os.path.join(HERE, "powercut", "pc_%s.py" % name)
        out = open(os.path.join(work, name + ".out"), "a")
        procs[name] = subprocess.Popen([o.firmware, script], env=dict(env, PC_PORT=str(port)),
                                       stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    def lines(name):
        try:
            with open(os.path.join(work, name + ".log")) as f:
                return f.read().split("\n")
        except OSError:
            return []

    start("subscriber", sp.port)
    deadline = time.monotonic() + 20
    while "ready" not in lines("sub"):
        if time.monotonic() > deadline:
            print("power-cut: FAIL subscriber not ready")
            return 1
        time.sleep(0.05)
    start("publisher", b.port)
    kills = {"publisher": 0, "subscriber": 0}
    while True:
        if time.monotonic() - t_start > TIMEOUT:
            print("power-cut: FAIL still running after %d s" % TIMEOUT)
            return 1
        pub_done = "done" in lines("pub")
        if pub_done and sum(kills.values()) >= o.kills:
            break
        time.sleep(rng.uniform(0.02, 0.4))
        victim = "subscriber" if pub_done or rng.random() < 0.5 else "publisher"
        p = procs[victim]
        if p.poll() is None:
            p.send_signal(signal.SIGKILL)
            p.wait(10)
            kills[victim] += 1
            with open(os.path.join(work, "kills.log"), "a") as f:
                f.write("kill %s at sub.log line %d, pub.log line %d\n"
                        % (victim, len(lines("sub")), len(lines("pub"))))
        elif victim == "publisher":
            continue  # finished: nothing to kill
        start(victim, sp.port if victim == "subscriber" else b.port)
    if procs["publisher"].poll() is None:
        procs["publisher"].wait(30)
    open(os.path.join(work, "stop"), "w").close()
    try:
        procs["subscriber"].wait(60)
    except subprocess.TimeoutExpired:
        procs["subscriber"].kill()
        print("power-cut: FAIL subscriber did not end")
        return 1
    return judge(o.messages, lines("sub"), lines("pub"), kills, sp.mqtt.dup_after_release, seed,
                 time.monotonic() - t_start)


def judge(n, sub, pub, kills, broker_dups, seed, secs):
    count = {}
    # message -> deliveries followed by a kill, before its last delivery
    # (only those can explain a copy after them)
    cut_short = {}
    last_cut = {}  # message -> whether its latest delivery was followed by a kill
    for k, line in enumerate(sub):
        w = line.split()
        if len(w) == 2 and w[0] == "got":
            i = int(w[1])
            count[i] = count.get(i, 0) + 1
            if last_cut.get(i):
                cut_short[i] = cut_short.get(i, 0) + 1
            nxt = sub[k + 1] if k + 1 < len(sub) else ""
            last_cut[i] = nxt == "start" or nxt == ""
    tries = {}
    for line in pub:
        w = line.split()
        if len(w) == 2 and w[0] == "try":
            tries[int(w[1])] = tries.get(int(w[1]), 0) + 1
    lost = {1: 0, 2: 0}
    dups = {1: 0, 2: 0}
    windows = {"subscriber": 0, "publisher": 0}
    outside = []
    for i in range(2 * n):
        q = 1 + i % 2
        c = count.get(i, 0)
        if c == 0:
            lost[q] += 1
            continue
        extra = c - 1
        dups[q] += extra
        if q == 1 or extra == 0:
            continue
        in_sub = min(extra, cut_short.get(i, 0))
        windows["subscriber"] += in_sub
        extra -= in_sub
        republished = tries.get(i, 1) - 1
        windows["publisher"] += min(extra, republished)
        extra -= min(extra, republished)
        if extra > 0:
            outside.append((i, extra))
    n_outside = sum(e for _, e in outside)
    ok = lost[1] == 0 and lost[2] == 0 and n_outside <= broker_dups
    print(
        "power-cut: %s kills=%d (publisher %d, subscriber %d), messages=%d QoS 1 + %d QoS 2, "
        "lost QoS1=%d QoS2=%d, duplicates QoS1=%d (allowed) QoS2=%d, in windows: subscriber %d publisher %d, "
        "outside windows %d (broker re-sends of released ids %d), seed %d, %.1f s"
        % ("PASS" if ok else "FAIL", sum(kills.values()), kills["publisher"], kills["subscriber"], n, n,
           lost[1], lost[2], dups[1], dups[2], windows["subscriber"], windows["publisher"], n_outside,
           broker_dups, seed, secs)
    )
    if outside:
        print("power-cut: QoS 2 duplicates outside the windows (message, extra): %r" % outside[:20])
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
