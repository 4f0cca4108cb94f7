#!/usr/bin/env python3
"""`make bench`: umqtt_rs vs umqtt.simple vs libmosquitto, side by side.

    python3 bench/bench.py --firmware build/unix/micropython \\
        --obj-dir build/unix --mpy-dir build/micropython [--runs 5] [--quick]

Starts a private mosquitto on loopback (tools/broker.py, queues unbounded so
it drops nothing), then runs every case for the three clients interleaved
(A B C A B C ...), each run in its own process:

* umqtt_rs and umqtt.simple (PyPI 1.3.4, fetched by bench/incumbent.py, run
  unmodified) on the same MicroPython firmware, through bench/mp_bench.py;
* a libmosquitto client of ours, bench/c/mqtt_bench.c (also the publisher
  feeding the receive cases).

CPU per message is the child's user+sys time (os.wait4) minus the median of
setup-only runs (N = 0), divided by N.  Rates and latencies are timed inside
the client.  Heap bytes come from gc.mem_alloc() with the GC disabled,
instructions from callgrind (difference of two run lengths, so setup cancels).

Prints a table and writes build/bench/results.json.  Every child runs under a
timeout; nothing waits unbounded.
"""

import argparse
import datetime
import json
import os
import platform
import re
import select
import shutil
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(TOP, "tools"))
sys.path.insert(0, HERE)

import broker as broker_mod  # noqa: E402
import incumbent  # noqa: E402
import natmod  # noqa: E402

CLIENTS = ("umqtt_rs", "umqtt.simple", "libmosquitto")
# The C glue's objects in the firmware's build folder.
GLUE_OBJECTS = ("modumqtt_rs.o", "urs_io.o", "urs_delivery.o", "urs_transport.o", "urs_session.o", "urs_publish.o")
SHORT = {"umqtt_rs": "rs", "umqtt.simple": "simple"}
RUN_TIMEOUT = 60  # seconds for one measured process
VG_TIMEOUT = 180  # seconds for one process under callgrind
PAYLOAD = 16  # bytes, for the receive and round-trip cases

# Messages per run, per client: about 0.2-1 s each.  umqtt.simple as shipped
# leaves Nagle's algorithm on, so each QoS 1 publish and each round trip waits
# ~44 ms for a delayed ACK: those cases get few messages.
PUB_N = {"umqtt_rs": 100000, "umqtt.simple": 20000, "libmosquitto": 100000}
PUB4K_N = {"umqtt_rs": 30000, "umqtt.simple": 10000, "libmosquitto": 30000}
PUB1_N = {"umqtt_rs": 5000, "umqtt.simple": 50, "libmosquitto": 5000}
PIPE_N = {"umqtt_rs": 20000, "libmosquitto": 20000}
RECV0_N = {"umqtt_rs": 50000, "umqtt.simple": 20000, "libmosquitto": 50000}
RECV1_N = {"umqtt_rs": 20000, "umqtt.simple": 10000, "libmosquitto": 20000}
RTT_N = {"umqtt_rs": 2000, "umqtt.simple": 50, "libmosquitto": 2000}
HEAP_N = {"pub0": 200, "pub1": 20, "pipe": 200, "recv0": 200, "recv1": 200}
PIPE_WINDOW = 20  # libmosquitto's default max_inflight_messages
RS_WINDOW = 16  # umqtt_rs's default window (MQTTClient(..., window=16))
RS_WINDOW_MAX = 32

NA_PIPE = {"umqtt.simple": "n/a (no API)"}

# (case, label, kind, args, N per client, n/a reasons)
CASES = [
    ("pub0_16", "publish QoS 0, 16 B", "pub", (0, 16), PUB_N, {}),
    ("pub0_256", "publish QoS 0, 256 B", "pub", (0, 256), PUB_N, {}),
    ("pub0_4096", "publish QoS 0, 4 KB", "pub", (0, 4096), PUB4K_N, {}),
    ("pub1_16", "publish QoS 1 (wait each ack), 16 B", "pub", (1, 16), PUB1_N, {}),
    # Pipelined QoS 1: both clients with the same window in each row; 16 is
    # umqtt_rs's default, 20 libmosquitto's (the row kept from earlier runs).
    ("pub1_pipe_w1", "publish QoS 1 pipelined (window 1), 16 B", "pipe", (1, 16), PIPE_N, NA_PIPE),
    ("pub1_pipe_w16", "publish QoS 1 pipelined (window %d, rs default), 16 B" % RS_WINDOW, "pipe",
     (RS_WINDOW, 16), PIPE_N, NA_PIPE),
    ("pub1_pipe", "publish QoS 1 pipelined (window %d, C default), 16 B" % PIPE_WINDOW, "pipe",
     (PIPE_WINDOW, 16), PIPE_N, NA_PIPE),
    ("pub1_pipe_w32", "publish QoS 1 pipelined (window %d, rs max), 16 B" % RS_WINDOW_MAX, "pipe",
     (RS_WINDOW_MAX, 16), PIPE_N, NA_PIPE),
    ("recv0", "receive QoS 0, 16 B", "sub", (0,), RECV0_N, {}),
    ("recv1", "receive QoS 1, 16 B", "sub", (1,), RECV1_N, {}),
    ("rtt", "round trip publish->receive QoS 0, 16 B", "rtt", (PAYLOAD,), RTT_N, {}),
]
QUICK_SCALE = 0.1

MOSQUITTO_EXTRA = [
    # Queue without limit for slow subscribers: the broker must drop nothing.
    "max_queued_messages 0",
    "max_queued_bytes 0",
]


class BenchBroker(broker_mod.Broker):
    """tools/broker.py's mosquitto with unbounded queues, no TLS."""

    def _config(self):
        return super()._config() + "\n".join(MOSQUITTO_EXTRA) + "\n"


class RunError(Exception):
    pass


# ---------------------------------------------------------------------------
# Running one measured process


def run_child(argv, env=None, timeout=RUN_TIMEOUT, on_ready=None):
    """Run argv; return (result dict, cpu seconds of the child).

    With on_ready, wait for the child to print READY, call on_ready(), then
    wait for the child.  The child's stderr goes to a file (no pipe to fill).
    """
    errf = open(os.devnull if env is None else env.get("BENCH_STDERR", os.devnull), "ab")
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=errf, env=env)
    except OSError as e:
        errf.close()
        raise RunError("cannot run %s: %s" % (argv[0], e))
    killed = []

    def kill():
        killed.append(1)
        try:
            proc.kill()
        except OSError:
            pass

    timer = threading.Timer(timeout, kill)
    timer.start()
    lines = []
    try:
        if on_ready is not None:
            line = proc.stdout.readline().decode(errors="replace").strip()
            if line != "READY":
                lines.append(line)
                raise RunError("no READY from %s: %r" % (argv[:6], line))
            on_ready()
        out = proc.stdout.read().decode(errors="replace")
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    finally:
        timer.cancel()
        if proc.returncode is None:
            kill()
            proc.wait(5)
        proc.stdout.close()
        errf.close()
    if killed:
        raise RunError("timed out after %ds: %s" % (timeout, " ".join(argv[:8])))
    if proc.returncode != 0:
        tail = ""
        if env is not None and env.get("BENCH_STDERR"):
            with open(env["BENCH_STDERR"], errors="replace") as f:
                tail = f.read()[-300:].strip().splitlines()[-1:]
        raise RunError("exit %d: %s: %s" % (proc.returncode, " ".join(argv[:8]), " ".join(tail) or out[-300:]))
    js = [ln for ln in out.splitlines() if ln.startswith("{")]
    if not js:
        raise RunError("no result from %s: %r" % (" ".join(argv[:8]), out[-300:]))
    return json.loads(js[-1]), ru.ru_utime + ru.ru_stime


class Bench:
    def __init__(self, opts, broker):
        self.o = opts
        self.b = broker
        self.env = dict(os.environ)
        self.env["MICROPYPATH"] = ".frozen:" + opts.incumbent_dir
        self.env["BENCH_STDERR"] = os.path.join(opts.out, "stderr.log")
        self.seq = 0
        self.errors = []

    def topic(self, case, client):
        self.seq += 1
        return "bench/%s/%s/%d" % (case, SHORT.get(client, "c"), self.seq)

    def argv(self, client, mode, n, args, topic):
        tail = [str(a) for a in args] + [topic]
        if client == "libmosquitto":
            return [self.o.c_client, self.b.host, str(self.b.port), mode, str(n)] + tail
        return [self.o.firmware, os.path.join(HERE, "mp_bench.py"), SHORT[client],
                self.b.host, str(self.b.port), mode, str(n)] + tail

    def feeder(self, n, qos, topic):
        """The C publisher for receive cases, run to completion."""
        def go():
            run_child([self.o.c_client, self.b.host, str(self.b.port), "feed", str(n), str(qos),
                       str(PAYLOAD), topic], self.env)
        return go

    def once(self, case, client, mode, n, args):
        """One measured process; returns (result, cpu seconds).

        A failed run is retried once and recorded in self.errors (printed
        with the results): one transient failure must not void the whole
        benchmark, nor go unreported.
        """
        try:
            return self._once(case, client, mode, n, args)
        except RunError as e:
            self.errors.append({"case": case, "client": client, "mode": mode, "n": n, "error": str(e)})
            print("bench: %s/%s failed, retrying once: %s" % (case, client, e), file=sys.stderr, flush=True)
            return self._once(case, client, mode, n, args)

    def _once(self, case, client, mode, n, args):
        topic = self.topic(case, client)
        argv = self.argv(client, mode, n, args, topic)
        on_ready = None
        if mode in ("sub", "heap_sub", "heap_sub_view"):
            on_ready = self.feeder(n, args[0], topic) if n > 0 else (lambda: None)
        return run_child(argv, self.env, on_ready=on_ready)


# ---------------------------------------------------------------------------
# Statistics and formatting


def summary(values):
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "values": values,
    }


def fmt_num(x):
    if x is None:
        return "-"
    ax = abs(x)
    if ax >= 100000:
        return "%.0fk" % (x / 1000)
    if ax >= 10000:
        return "%.1fk" % (x / 1000)
    if ax >= 100:
        return "%.0f" % x
    if ax >= 10:
        return "%.1f" % x
    return "%.2f" % x


def fmt_cell(cell):
    if cell is None:
        return "-"
    if "na" in cell:
        return cell["na"]
    if cell["min"] == cell["max"]:
        return fmt_num(cell["median"])
    return "%s [%s-%s]" % (fmt_num(cell["median"]), fmt_num(cell["min"]), fmt_num(cell["max"]))


def ratio(a, b):
    if not a or not b or "median" not in a or "median" not in b or not b["median"]:
        return None
    return a["median"] / b["median"]


def fmt_ratio(r):
    """umqtt_rs / other: '0.41x', '26x', or '1/1913' for a small fraction."""
    if r is None:
        return "-"
    if r == 0:
        return "0"
    if r < 0.1:
        inv = 1 / r
        return "1/%.0f" % inv if inv >= 100 else "1/%.1f" % inv
    return "%.0fx" % r if r >= 100 else "%.2gx" % r if r < 1 else "%.3gx" % r


# ---------------------------------------------------------------------------
# The measurements


def measure_timed(bench, runs, scale, log):
    """Every timed case, clients interleaved; returns {case: {metric: {client: cell}}}."""
    # Setup-only baselines (N = 0) for the CPU subtraction, per client and
    # kind of script (publisher, subscriber, round trip).
    base = {}
    for kind, args in (("pub", (0, 16)), ("sub", (0,)), ("rtt", (PAYLOAD,)), ("pipe", (PIPE_WINDOW, 16))):
        for _ in range(runs):
            for client in CLIENTS:
                if kind == "pipe" and client == "umqtt.simple":
                    continue
                _, cpu = bench.once("baseline", client, kind, 0, args)
                base.setdefault((kind, client), []).append(cpu)
    base = {k: statistics.median(v) for k, v in base.items()}
    log("baselines (setup-only CPU, ms): " + ", ".join(
        "%s/%s %.1f" % (k[0], k[1], v * 1000) for k, v in sorted(base.items())))

    results = {}
    for case, label, kind, args, ns, na in CASES:
        raw = {}
        t0 = time.monotonic()
        for _ in range(runs):
            for client in CLIENTS:
                if client not in ns:
                    continue
                n = max(10, int(ns[client] * scale)) if ns[client] > 100 else ns[client]
                res, cpu = bench.once(case, client, kind, n, args)
                r = raw.setdefault(client, {})
                cpu_us = (cpu - base[(kind, client)]) * 1e6 / n
                r.setdefault("cpu_us", []).append(round(cpu_us, 3))
                if kind == "rtt":
                    r.setdefault("p50_us", []).append(res["p50_us"])
                    r.setdefault("p99_us", []).append(res["p99_us"])
                else:
                    per = (n - 1) if kind == "sub" else n  # first to last message
                    r.setdefault("msgs_per_s", []).append(round(per * 1e6 / res["elapsed_us"], 1))
                r["n"] = n
        metrics = ("p50_us", "p99_us", "cpu_us") if kind == "rtt" else ("msgs_per_s", "cpu_us")
        out = {"label": label}
        for m in metrics:
            out[m] = {}
            for client in CLIENTS:
                if client in raw:
                    out[m][client] = summary(raw[client][m])
                    out[m][client]["n"] = raw[client]["n"]
                else:
                    out[m][client] = {"na": na.get(client, "n/a")}
        results[case] = out
        log("%-10s %.1fs" % (case, time.monotonic() - t0))
    return results


def measure_heap(bench, log):
    """Heap bytes per publish / per receive (MicroPython clients only)."""
    out = {}
    specs = [
        ("heap_pub0", "heap per publish QoS 0, 16 B (B)", "heap_pub", (0, 16), HEAP_N["pub0"]),
        ("heap_pub1", "heap per publish QoS 1, 16 B (B)", "heap_pub", (1, 16), HEAP_N["pub1"]),
        ("heap_pipe", "heap per publish QoS 1 pipelined (window %d), 16 B (B)" % RS_WINDOW, "heap_pipe",
         (RS_WINDOW, 16), HEAP_N["pipe"]),
        ("heap_recv0", "heap per receive QoS 0, 16 B (B)", "heap_sub", (0,), HEAP_N["recv0"]),
        ("heap_recv1", "heap per receive QoS 1, 16 B (B)", "heap_sub", (1,), HEAP_N["recv1"]),
        ("heap_recv0_view", "heap per receive QoS 0, view=True, 16 B (B)", "heap_sub_view", (0,), HEAP_N["recv0"]),
    ]
    for key, label, mode, args, n in specs:
        row = {"label": label}
        floor = None
        for client in CLIENTS:
            if client == "libmosquitto":
                row[client] = {"na": "n/a (malloc)"}
                continue
            if mode in ("heap_pipe", "heap_sub_view") and client == "umqtt.simple":
                row[client] = {"na": "n/a (no API)"}
                continue
            vals = []
            for _ in range(2):  # deterministic: twice shows it
                res, _ = bench.once(key, client, mode, n, args)
                per = res["heap_bytes"] / (n - 1 if mode.startswith("heap_sub") else n)
                vals.append(round(per, 1))
                floor = res.get("floor_bytes", floor)
            row[client] = summary(vals)
        if floor is not None:
            row["floor_bytes"] = floor
        out[key] = row
    log("heap done")
    return out


def _callgrind_total(path):
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith("totals:") or line.startswith("summary:"):
                return int(line.split()[1])
    raise RunError("no totals in " + path)


_RUST_ESCAPES = {"$LT$": "<", "$GT$": ">", "$RF$": "&", "$BP$": "*", "$C$": ",", "$u20$": " ",
                 "$u27$": "'", "$u5b$": "[", "$u5d$": "]", "$u7b$": "{", "$u7d$": "}", "$u7e$": "~",
                 "$SP$": "@", "..": "::"}


def demangle(name):
    """Readable form of a mangled Rust symbol (legacy or v0); others unchanged."""
    if name.startswith("_R"):
        # v0: keep the identifiers (<length>[_]<ident>), drop crate hashes.
        body = re.sub(r"Cs[0-9A-Za-z]*_", "", name[2:])
        parts, i = [], 0
        while i < len(body):
            m = re.match(r"(\d+)_?", body[i:])
            if not m:
                i += 1
                continue
            n = int(m.group(1))
            i += m.end()
            parts.append(body[i:i + n])
            i += n
        return "::".join(parts) or name
    if not name.startswith("_ZN"):
        return name
    parts, i = [], 3
    while i < len(name) and name[i].isdigit():
        j = i
        while name[j].isdigit():
            j += 1
        n = int(name[i:j])
        parts.append(name[j:j + n])
        i = j + n
    if parts and re.fullmatch(r"h[0-9a-f]{16}", parts[-1]):
        parts.pop()
    out = "::".join(parts)
    for k, v in _RUST_ESCAPES.items():
        out = out.replace(k, v)
    return out


def load_map(path):
    """Sorted [(start, end, function)] from the firmware's linker map.

    The unix firmware is stripped, but it is linked with -ffunction-sections:
    every function (static C ones and the Rust core's too) is an input section
    `.text.NAME` whose address the map lists.
    """
    spans = []
    try:
        with open(path, errors="replace") as f:
            lines = f.read().splitlines()
    except OSError:
        return spans
    for k, line in enumerate(lines):
        m = re.match(r"^ \.text\.(\S+)(.*)$", line)
        if not m:
            continue
        rest = m.group(2).split()
        if len(rest) < 2 and k + 1 < len(lines):
            rest = lines[k + 1].split()
        if len(rest) < 2 or not rest[0].startswith("0x"):
            continue
        start, size = int(rest[0], 16), int(rest[1], 16)
        if start and size:
            spans.append((start, start + size, demangle(m.group(1))))
    spans.sort()
    return spans


def _symbolize(spans, addr):
    lo, hi = 0, len(spans)
    while lo < hi:
        mid = (lo + hi) // 2
        if spans[mid][0] <= addr:
            lo = mid + 1
        else:
            hi = mid
    if lo and spans[lo - 1][0] <= addr < spans[lo - 1][1]:
        return spans[lo - 1][2]
    return "0x%x" % addr


def _callgrind_functions(path, spans):
    """{function: self instructions} from callgrind_annotate, named through the map."""
    res = subprocess.run(
        ["callgrind_annotate", "--threshold=100", "--inclusive=no", "--auto=no", path],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=120,
    )
    funcs = {}
    for line in res.stdout.splitlines():
        m = re.match(r"^\s*([\d,]+)\s+(?:\([^)]*\)\s+)?(\S.*?)(?:\s+\[([^\]]*)\])?$", line)
        if not m or ":" not in m.group(2) or m.group(2).startswith("PROGRAM TOTALS"):
            continue
        name = m.group(2).split(":", 1)[1]
        name = re.sub(r"'\d+$", "", name)
        if re.fullmatch(r"0x[0-9a-f]+", name):
            name = _symbolize(spans, int(name, 16))
        obj = os.path.basename(m.group(3) or "")
        if obj and not obj.startswith("micropython") and obj != "mqtt_bench":
            name += " (%s)" % obj
        funcs[name] = funcs.get(name, 0) + int(m.group(1).replace(",", ""))
    return funcs


def measure_instructions(bench, vg_dir, log):
    """Instructions per message: callgrind at two lengths, the difference / extra N."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return {"na": "valgrind not installed"}
    os.makedirs(vg_dir, exist_ok=True)
    spans = load_map(os.path.join(bench.o.obj_dir, "micropython.map"))
    specs = [
        ("instr_pub0", "instructions per publish QoS 0, 16 B", "pub", (0, 16),
         {"umqtt_rs": (1000, 4000), "umqtt.simple": (500, 2000), "libmosquitto": (1000, 4000)}),
        ("instr_recv0", "instructions per receive QoS 0, 16 B", "sub", (0,),
         {"umqtt_rs": (1000, 4000), "umqtt.simple": (500, 2000), "libmosquitto": (1000, 4000)}),
    ]
    out = {}
    for key, label, mode, args, ns in specs:
        row = {"label": label}
        for client in CLIENTS:
            n1, n2 = ns[client]
            totals, funcs = [], []
            for n in (n1, n2):
                path = os.path.join(vg_dir, "%s.%s.%d.out" % (key, SHORT.get(client, "c"), n))
                topic = bench.topic(key, client)
                argv = [valgrind, "--tool=callgrind", "--dump-instr=yes", "--callgrind-out-file=" + path,
                        ] + bench.argv(client, mode, n, args, topic)
                on_ready = bench.feeder(n, args[0], topic) if mode == "sub" else None
                run_child(argv, bench.env, timeout=VG_TIMEOUT, on_ready=on_ready)
                totals.append(_callgrind_total(path))
                funcs.append(_callgrind_functions(path, spans))
            per = (totals[1] - totals[0]) / (n2 - n1)
            row[client] = {"median": round(per), "min": round(per), "max": round(per), "values": [round(per)]}
            if client == "umqtt_rs":
                diff = {f: (funcs[1].get(f, 0) - funcs[0].get(f, 0)) / (n2 - n1) for f in funcs[1]}
                top = sorted(((v, f) for f, v in diff.items() if v > 0), reverse=True)[:15]
                row["profile_umqtt_rs"] = [
                    {"function": f, "instr_per_msg": round(v, 1), "share": round(v / per, 4)} for v, f in top]
        out[key] = row
        log("%s done" % key)
    return out


def code_size(opts):
    def size_of(path):
        res = subprocess.run(["size", path], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True, timeout=30)
        lines = res.stdout.strip().splitlines()
        if res.returncode != 0 or len(lines) < 2:
            return None
        text, data, bss = (int(x) for x in lines[1].split()[:3])
        return {"text": text, "data": data, "bss": bss}

    out = {}
    core = size_of(os.path.join(opts.obj_dir, "umqtt_rs_core.o"))
    parts = [size_of(os.path.join(opts.obj_dir, "micropython-glue", f)) for f in GLUE_OBJECTS]
    glue = None
    if all(parts):
        glue = {k: sum(p[k] for p in parts) for k in ("text", "data", "bss")}
    if core and glue:
        out["umqtt_rs"] = {
            "core": core, "glue": glue,
            "text": core["text"] + glue["text"], "data": core["data"] + glue["data"],
        }
    src = os.path.join(opts.incumbent_dir, "umqtt", "simple.py")
    mpy_cross = os.path.join(opts.mpy_dir, "mpy-cross", "build", "mpy-cross")
    simple = {"source_bytes": os.path.getsize(src)}
    if os.access(mpy_cross, os.X_OK):
        mpy = os.path.join(opts.out, "simple.mpy")
        subprocess.run([mpy_cross, "-o", mpy, src], check=True, timeout=60)
        simple["mpy_bytes"] = os.path.getsize(mpy)
    out["umqtt.simple"] = simple
    ldd = subprocess.run(["ldd", opts.c_client], stdout=subprocess.PIPE, text=True, timeout=30).stdout
    m = re.search(r"libmosquitto\.so\S*\s+=>\s+(\S+)", ldd)
    if m:
        s = size_of(os.path.realpath(m.group(1)))
        if s:
            out["libmosquitto"] = dict(s, file=os.path.basename(os.path.realpath(m.group(1))))
    return out


# ---------------------------------------------------------------------------
# Report


TABLE_ROWS = [
    # (section key, metric, unit label)
    ("pub0_16", "msgs_per_s", "msgs/s"), ("pub0_16", "cpu_us", "CPU us/msg"),
    ("pub0_256", "msgs_per_s", "msgs/s"), ("pub0_256", "cpu_us", "CPU us/msg"),
    ("pub0_4096", "msgs_per_s", "msgs/s"), ("pub0_4096", "cpu_us", "CPU us/msg"),
    ("pub1_16", "msgs_per_s", "msgs/s"), ("pub1_16", "cpu_us", "CPU us/msg"),
    ("pub1_pipe_w1", "msgs_per_s", "msgs/s"), ("pub1_pipe_w1", "cpu_us", "CPU us/msg"),
    ("pub1_pipe_w16", "msgs_per_s", "msgs/s"), ("pub1_pipe_w16", "cpu_us", "CPU us/msg"),
    ("pub1_pipe", "msgs_per_s", "msgs/s"), ("pub1_pipe", "cpu_us", "CPU us/msg"),
    ("pub1_pipe_w32", "msgs_per_s", "msgs/s"), ("pub1_pipe_w32", "cpu_us", "CPU us/msg"),
    ("recv0", "msgs_per_s", "msgs/s"), ("recv0", "cpu_us", "CPU us/msg"),
    ("recv1", "msgs_per_s", "msgs/s"), ("recv1", "cpu_us", "CPU us/msg"),
    ("rtt", "p50_us", "p50 us"), ("rtt", "p99_us", "p99 us"), ("rtt", "cpu_us", "CPU us/msg"),
]


def table(results):
    rows = []
    for case, metric, unit in TABLE_ROWS:
        if case not in results["cases"]:  # an older results.json
            continue
        sec = results["cases"][case]
        cells = sec[metric]
        rows.append([sec["label"], unit] + [fmt_cell(cells[c]) for c in CLIENTS] + [
            fmt_ratio(ratio(cells["umqtt_rs"], cells["umqtt.simple"])),
            fmt_ratio(ratio(cells["umqtt_rs"], cells["libmosquitto"]))])
    for key, sec in results["heap"].items():
        rows.append([sec["label"].replace(" (B)", ""), "bytes"] + [fmt_cell(sec[c]) for c in CLIENTS] + [
            fmt_ratio(ratio(sec["umqtt_rs"], sec["umqtt.simple"])), "-"])
    for key, sec in results.get("instructions", {}).items():
        if not isinstance(sec, dict) or "label" not in sec:
            continue
        rows.append([sec["label"], "instr"] + [fmt_cell(sec[c]) for c in CLIENTS] + [
            fmt_ratio(ratio(sec["umqtt_rs"], sec["umqtt.simple"])),
            fmt_ratio(ratio(sec["umqtt_rs"], sec["libmosquitto"]))])
    cs = results["code_size"]
    rs = cs.get("umqtt_rs")
    if rs:
        simple = cs.get("umqtt.simple", {})
        lib = cs.get("libmosquitto")
        rows.append(["code size (text+data)", "bytes", "%d+%d" % (rs["text"], rs["data"]),
                     "%s (.mpy)" % simple.get("mpy_bytes", "-"),
                     "%d+%d (.so)" % (lib["text"], lib["data"]) if lib else "-", "-", "-"])
    head = ["case", "unit", "umqtt_rs", "umqtt.simple", "libmosquitto (C)", "rs/simple", "rs/C"]
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()  # noqa: E731
    out = [line(head), line(["-" * w for w in widths])] + [line(r) for r in rows]
    return "\n".join(out)


def targets(results):
    c = results["cases"]
    h = results["heap"]

    def med(cell):
        return cell.get("median") if cell and "median" in cell else None

    pub = med(c["pub0_16"]["cpu_us"]["umqtt_rs"])
    recv = med(c["recv0"]["cpu_us"]["umqtt_rs"])
    rtt = med(c["rtt"]["p50_us"]["umqtt_rs"])
    hp = med(h["heap_pub0"]["umqtt_rs"])
    hp1 = med(h["heap_pub1"]["umqtt_rs"])
    hr = med(h["heap_recv0"]["umqtt_rs"])
    hpp = med(h["heap_pipe"]["umqtt_rs"]) if "heap_pipe" in h else None
    pipe = med(c["pub1_pipe_w16"]["msgs_per_s"]["umqtt_rs"]) if "pub1_pipe_w16" in c else None
    floor = h["heap_recv0"].get("floor_bytes")
    hv = med(h["heap_recv0_view"]["umqtt_rs"]) if "heap_recv0_view" in h else None
    out = [
        {"target": "publish QoS 0 CPU <= 3.0 us/msg", "value": pub, "met": pub is not None and pub <= 3.0},
        {"target": "receive CPU <= 6.2 us/msg", "value": recv, "met": recv is not None and recv <= 6.2},
        {"target": "pipelined QoS 1 >= 50k msgs/s (window %d)" % RS_WINDOW, "value": pipe,
         "met": pipe is not None and pipe >= 50000},
        {"target": "round trip p50 <= 35 us", "value": rtt, "met": rtt is not None and rtt <= 35},
        {"target": "0 B heap per publish (QoS 0 / QoS 1 / QoS 1 pipelined)", "value": [hp, hp1, hpp],
         "met": hp == 0 and hp1 == 0 and hpp == 0},
        {"target": "per received message only topic + payload objects (%s B)" % floor, "value": hr,
         "met": hr is not None and floor is not None and hr <= floor},
        {"target": "0 B heap per received message with view=True", "value": hv, "met": hv == 0},
    ]
    return out


def fmt_target(t):
    state = "n/a" if t["met"] is None else ("met" if t["met"] else "MISSED")
    val = t.get("note") or json.dumps(t["value"])
    return "%-7s %-58s %s" % (state, t["target"], val)


def git_state():
    try:
        head = subprocess.run(["git", "-C", TOP, "rev-parse", "--short", "HEAD"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", TOP, "status", "--porcelain", "--untracked-files=no"],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=10).stdout
        return head + ("+local changes" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return None


def machine_info():
    info = {"uname": " ".join(platform.uname()[:3] + platform.uname()[4:5]), "cpus": os.cpu_count(),
            "loadavg_at_start": os.getloadavg()}
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            info["cpu"] = m.group(1) if m else None
    except OSError:
        pass
    try:
        mosq = broker_mod._find_tool("mosquitto")
        res = subprocess.run([mosq, "-h"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, timeout=10)
        m = re.search(r"mosquitto version (\S+)", res.stdout)
        info["mosquitto"] = m.group(1) if m else None
    except (OSError, subprocess.SubprocessError, TypeError):
        pass
    return info


def report(results):
    print()
    print("umqtt_rs benchmarks, %s, %s, %d runs each (median [min-max]; ratios are umqtt_rs / other)"
          % (results["date"], results["machine"].get("cpu"), results["runs"]))
    print(table(results))
    print()
    nrows = natmod.table_rows(results.get("natmod", {}), fmt_cell)
    if nrows:
        head = ["umqtt_rs as a native module (.mpy, stock firmware)", "unit", "built-in", "natmod", "natmod/built-in"]
        widths = [max(len(str(r[i])) for r in nrows + [head]) for i in range(len(head))]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
        for r in nrows:
            print("  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip())
        print()
    print("targets:")
    for t in results["targets"]:
        print("  " + fmt_target(t))
    for e in results.get("errors", []):
        print("  retried after a failed run: %s/%s: %s" % (e["case"], e["client"], e["error"].splitlines()[0]))
    prof = results.get("instructions", {})
    for key in ("instr_pub0", "instr_recv0"):
        rows = prof.get(key, {}).get("profile_umqtt_rs")
        if rows:
            print()
            print("umqtt_rs %s: instructions per message by function (callgrind, self cost)" % key)
            for r in rows[:12]:
                print("  %8.1f  %5.1f%%  %s" % (r["instr_per_msg"], 100 * r["share"], r["function"]))
    print()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--firmware")
    ap.add_argument("--obj-dir", help="the firmware's build folder (umqtt_rs_core.o)")
    ap.add_argument("--mpy-dir")
    ap.add_argument("--out", default=os.path.join(TOP, "build", "bench"))
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="3 runs, 1/10 of the messages, no callgrind")
    ap.add_argument("--no-callgrind", action="store_true")
    ap.add_argument("--report", metavar="JSON", help="only print the table of an earlier results.json")
    ap.add_argument("--stock-firmware", help="the firmware without the module (boards/unix-stock)")
    ap.add_argument("--natmod-lib", help="umqtt_rs as a native module for it (build/natmod/x64/lib)")
    opts = ap.parse_args()
    if opts.report:
        with open(opts.report) as f:
            report(json.load(f))
        return 0
    if not (opts.firmware and opts.obj_dir and opts.mpy_dir):
        ap.error("--firmware, --obj-dir and --mpy-dir are required")
    opts.firmware = os.path.abspath(opts.firmware)
    opts.out = os.path.abspath(opts.out)
    os.makedirs(opts.out, exist_ok=True)
    runs = 3 if opts.quick else opts.runs
    scale = QUICK_SCALE if opts.quick else 1.0
    started = time.monotonic()

    def log(msg):
        print("bench [%5.1fs] %s" % (time.monotonic() - started, msg), file=sys.stderr, flush=True)

    # A snapshot of the firmware and its objects: a rebuild while the
    # benchmark runs must not swap the binary (or its map) under it.
    snap = os.path.join(opts.out, "firmware")
    os.makedirs(os.path.join(snap, "micropython-glue"), exist_ok=True)
    for rel in ["umqtt_rs_core.o", "micropython.map"] + [os.path.join("micropython-glue", f) for f in GLUE_OBJECTS]:
        src = os.path.join(opts.obj_dir, rel)
        if os.path.exists(src):
            shutil.copy2(src, os.path.join(snap, rel))
    shutil.copy2(opts.firmware, os.path.join(snap, "micropython"))
    opts.firmware_src = opts.firmware
    opts.firmware = os.path.join(snap, "micropython")
    if opts.stock_firmware and opts.natmod_lib:
        shutil.copy2(opts.stock_firmware, os.path.join(snap, "micropython-stock"))
        shutil.copytree(opts.natmod_lib, os.path.join(snap, "natmod-lib"), dirs_exist_ok=True)
        opts.stock_firmware = os.path.join(snap, "micropython-stock")
        opts.natmod_lib = os.path.join(snap, "natmod-lib")
    opts.obj_dir = snap

    opts.incumbent_dir = incumbent.fetch(os.path.join(opts.out, "incumbent"))
    log("umqtt.simple %s from the package index pip uses: %s" % (incumbent.VERSION, opts.incumbent_dir))
    opts.c_client = os.path.join(opts.out, "mqtt_bench")
    subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-o", opts.c_client,
                    os.path.join(HERE, "c", "mqtt_bench.c"), "-lmosquitto"], check=True, timeout=120)
    with open(os.path.join(opts.out, "stderr.log"), "w"):
        pass

    results = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": machine_info(),
        "firmware": opts.firmware_src,
        "commit": git_state(),
        "runs": runs,
        "quick": opts.quick,
        "clients": {
            "umqtt_rs": "umqtt_rs on the firmware",
            "umqtt.simple": "PyPI micropython-umqtt-simple %s, unmodified, on the same firmware" % incumbent.VERSION,
            "libmosquitto": "bench/c/mqtt_bench.c on libmosquitto, TCP_NODELAY, single-threaded",
        },
        "mosquitto_extra_config": MOSQUITTO_EXTRA,
    }
    with BenchBroker(tls=False) as b:
        log("mosquitto on %s:%d" % (b.host, b.port))
        bench = Bench(opts, b)
        results["cases"] = measure_timed(bench, runs, scale, log)
        results["heap"] = measure_heap(bench, log)
        if not (opts.quick or opts.no_callgrind):
            results["instructions"] = measure_instructions(bench, os.path.join(opts.out, "callgrind"), log)
        if opts.stock_firmware and opts.natmod_lib:
            results["natmod"] = natmod.measure(sys.modules[__name__], bench, runs, scale,
                                               not (opts.quick or opts.no_callgrind),
                                               os.path.join(opts.out, "callgrind"), log)
        results["errors"] = bench.errors
    results["code_size"] = code_size(opts)
    results["targets"] = targets(results) + natmod.targets(results.get("natmod", {}))
    path = os.path.join(opts.out, "results.json")
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    report(results)
    print("results: %s (%.0f s)" % (path, time.monotonic() - started))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (RunError, broker_mod.BrokerError) as e:
        print("bench: %s" % e, file=sys.stderr)
        sys.exit(1)
