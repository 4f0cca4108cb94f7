#!/usr/bin/env python3
"""Try to reproduce the intermittent ECONNRESET of bench's "publish QoS 0, 4 KB".

    python3 bench/econnreset_repro.py --firmware build/bench-unix/micropython \\
        [--runs 20] [--n 30000] [--size 4096] [--load 0] [--strace]

Runs bench/mp_bench.py's QoS 0 publisher RUNS times against one private
mosquitto (bench's broker: unbounded queues, plus `log_type all`), each run
in its own process under a timeout, optionally with LOAD busy-looping
processes beside it (the original failure was on a loaded machine).  For a
failed run it prints the client's exception and the broker's log lines for
that client (connect, disconnect reason), and keeps everything under --out.
With --strace each client runs under `strace -f` (network and read/write
syscalls with their results: which call saw the reset, or the end of stream).

Bounded: RUN_TIMEOUT per run, the load processes are ended by their pids.
"""

import argparse
import os
import re
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tools"))

import broker as broker_mod  # noqa: E402

RUN_TIMEOUT = 60  # seconds per client process
EXTRA = ["max_queued_messages 0", "max_queued_bytes 0", "log_timestamp_format %H:%M:%S"]


def start_load(k):
    procs = []
    for _ in range(k):
        # Busy loop, ended by its pid below (and by its own bound).
        procs.append(subprocess.Popen(
            [sys.executable, "-c", "import time\nt=time.time()+900\nwhile time.time()<t: pass"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    return procs


def stop_load(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


def client_lines(log_path, start, cid, limit=40):
    """The broker's log lines about cid from offset start, debug PUBLISH lines left out."""
    out, publishes = [], 0
    with open(log_path, errors="replace") as f:
        f.seek(start)
        for line in f:
            if cid not in line:
                continue
            if "Received PUBLISH" in line:
                publishes += 1
                continue
            out.append(line.rstrip())
    return publishes, out[-limit:]


def run_one(o, b, fw, client, i):
    """One publisher process; prints its line; returns (ok, how the broker saw its end)."""
    topic = "repro/%d/%s/%d" % (os.getpid(), client, i)
    n = o.n if client != "simple" else min(o.n, 10000)  # as bench.py's PUB4K_N
    if client == "c":
        argv = [o.c_client, b.host, str(b.port), "pub", str(n), "0", str(o.size), topic]
    else:
        argv = [fw, os.path.join(HERE, "mp_bench.py"), client, b.host, str(b.port), "pub",
                str(n), "0", str(o.size), topic]
    st = os.path.join(o.out, "strace.%s.%d" % (client, i))
    if o.strace:
        argv = ["strace", "-f", "-tt", "-o", st, "-e",
                "trace=socket,connect,setsockopt,write,read,recvfrom,sendto,poll,close,shutdown"] + argv
    env = dict(os.environ, MICROPYPATH=".frozen:" + o.incumbent)
    log_start = os.path.getsize(b.log_path)
    t0 = time.monotonic()
    try:
        res = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=RUN_TIMEOUT, env=env)
        rc, out, err = res.returncode, res.stdout.decode(errors="replace"), res.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        rc, out, err = "timeout", "", ""
    dt = time.monotonic() - t0
    # The client id and how the broker saw the connection end (it may still
    # be reading what the client wrote: wait, bounded).
    cid, end, pubs = None, None, 0
    deadline = time.monotonic() + 10
    while end is None and time.monotonic() < deadline:
        time.sleep(0.1)
        cid, pubs = None, 0
        with open(b.log_path, errors="replace") as f:
            f.seek(log_start)
            for line in f:
                if "Received PUBLISH" in line:
                    pubs += 1
                elif cid is None:
                    m = re.search(r"New client connected from \S+ as (\S+) ", line)
                    cid = m.group(1) if m else None
                elif cid in line and re.search(r"disconnect|closed|error|exceeded", line, re.I) \
                        and "Received DISCONNECT" not in line:
                    end = line.split(": ", 1)[-1].strip().replace(cid, "<client>")
    pubs_txt = ("%d PUBLISH, " % pubs) if o.log_all else ""
    if rc == 0:
        print("run %2d %-6s ok   %.2fs %s; broker: %s%s" % (
            i, client, dt, out.strip().splitlines()[-1] if out.strip() else "", pubs_txt, end), flush=True)
        if o.strace and os.path.exists(st):
            os.unlink(st)
        return True, end
    print("run %2d %-6s FAIL %.2fs rc=%s client=%s; broker: %s%s" % (i, client, dt, rc, cid, pubs_txt, end),
          flush=True)
    print("  client stderr: " + " | ".join(err.strip().splitlines()[-4:]))
    if cid:
        _, lines = client_lines(b.log_path, log_start, cid)
        print("  broker's lines about it:")
        for ln in lines:
            print("    " + ln)
    return False, end


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--firmware", required=True)
    ap.add_argument("--client", default="rs", choices=("rs", "simple"))
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--n", type=int, default=30000)
    ap.add_argument("--size", type=int, default=4096)
    ap.add_argument("--load", type=int, default=0, help="busy-looping processes beside the runs")
    ap.add_argument("--strace", action="store_true")
    ap.add_argument("--mix", action="store_true",
                    help="each round also runs umqtt.simple and the C client, as bench.py's 4 KB case does")
    ap.add_argument("--no-log-all", dest="log_all", action="store_false",
                    help="the broker logs notices only (bench.py's level), not every packet")
    ap.add_argument("--incumbent", default=os.path.join(TOP, "build", "bench", "incumbent"))
    ap.add_argument("--c-client", default=os.path.join(TOP, "build", "bench", "mqtt_bench"))
    ap.add_argument("--out", default=os.path.join(TOP, "build", "econnreset"))
    o = ap.parse_args()
    o.out = os.path.abspath(o.out)
    os.makedirs(o.out, exist_ok=True)
    fw = os.path.abspath(o.firmware)
    failures = 0
    ends = {}
    load = start_load(o.load)
    try:
        # mosquitto's stdout log is block-buffered (its last lines about a
        # client wait for the next client's traffic); its file log is not.
        log_path = os.path.join(o.out, "mosquitto.log")
        if os.path.exists(log_path):
            os.unlink(log_path)
        extra = EXTRA + ["log_dest file " + log_path] + (["log_type all"] if o.log_all else [])
        with broker_mod.Broker(tls=False, config=extra) as b:
            b.log_path = log_path
            print("mosquitto %s:%d, log %s, load %d" % (b.host, b.port, b.log_path, o.load), flush=True)
            for i in range(o.runs):
                for client in (("rs", "simple", "c") if o.mix else (o.client,)):
                    ok, end = run_one(o, b, fw, client, i)
                    failures += not ok
                    key = (client, end)
                    ends[key] = ends.get(key, 0) + 1
    finally:
        stop_load(load)
    for (client, end), v in sorted(ends.items(), key=lambda kv: -kv[1]):
        print("%s: broker saw the end as %r: %d runs" % (client, end, v))
    print("%d of %d runs failed; broker log: %s" % (failures, o.runs, os.path.join(o.out, "mosquitto.log")))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
