"""The natmod rows of `make bench`: umqtt_rs built into the firmware against
umqtt_rs loaded as a dynamic native module (.mpy) into the stock firmware
(boards/unix-stock, the same MicroPython without the module).

Both run bench/mp_bench.py's "rs" client, interleaved, each run in its own
process: CPU per message (user+sys minus a setup-only run, as bench.py's
other rows) for publish QoS 0 and receive QoS 0, 16 B; and instructions per
message from callgrind (difference of two run lengths).  The target: the
natmod within 1.5x of the built-in module.
"""

import os
import shutil
import statistics

# bench.py hands itself in (`h`): run_child, summary, _callgrind_total,
# VG_TIMEOUT (it runs as __main__, so importing it here would load a copy).

CASES = [
    ("pub0_16", "publish QoS 0, 16 B", "pub", (0, 16), 100000),
    ("recv0", "receive QoS 0, 16 B", "sub", (0,), 50000),
]
FORMS = ("built-in", "natmod")
TARGET = 1.5


def _argv(bench, form, mode, n, args, topic):
    firmware = bench.o.firmware if form == "built-in" else bench.o.stock_firmware
    return [firmware, os.path.join(os.path.dirname(os.path.abspath(__file__)), "mp_bench.py"), "rs",
            bench.b.host, str(bench.b.port), mode, str(n)] + [str(a) for a in args] + [topic]


def _env(bench, form):
    env = dict(bench.env)
    if form == "natmod":
        # What `mip install` leaves in /lib: the .mpy and the Python layers.
        env["MICROPYPATH"] = ".frozen:" + bench.o.natmod_lib
    return env


def _run(h, bench, form, mode, n, args, prefix=None, timeout=None):
    topic = bench.topic("natmod_" + mode, "rs")
    argv = (prefix or []) + _argv(bench, form, mode, n, args, topic)
    on_ready = None
    if mode == "sub":
        on_ready = bench.feeder(n, args[0], topic) if n > 0 else (lambda: None)
    kw = {"on_ready": on_ready}
    if timeout:
        kw["timeout"] = timeout
    return h.run_child(argv, _env(bench, form), **kw)


def measure(h, bench, runs, scale, callgrind, vg_dir, log):
    """{case: {"label", "cpu_us": {form: cell}, "instr": {form: cell}}}."""
    out = {}
    for case, label, mode, args, n_full in CASES:
        n = max(10, int(n_full * scale))
        base = {f: statistics.median(_run(h, bench, f, mode, 0, args)[1] for _ in range(runs)) for f in FORMS}
        cpu = {f: [] for f in FORMS}
        for _ in range(runs):
            for f in FORMS:
                _, t = _run(h, bench, f, mode, n, args)
                cpu[f].append(round((t - base[f]) * 1e6 / n, 3))
        row = {"label": label, "n": n, "cpu_us": {f: h.summary(cpu[f]) for f in FORMS}}
        valgrind = shutil.which("valgrind")
        if callgrind and valgrind:
            os.makedirs(vg_dir, exist_ok=True)
            row["instr"] = {}
            for f in FORMS:
                totals = []
                for k in (1000, 4000):
                    path = os.path.join(vg_dir, "natmod.%s.%s.%d.out" % (case, f.replace("-", ""), k))
                    _run(h, bench, f, mode, k, args, timeout=h.VG_TIMEOUT,
                         prefix=[valgrind, "--tool=callgrind", "--callgrind-out-file=" + path])
                    totals.append(h._callgrind_total(path))
                per = round((totals[1] - totals[0]) / 3000)
                row["instr"][f] = {"median": per, "min": per, "max": per, "values": [per]}
        out[case] = row
        log("natmod %s done" % case)
    return out


def ratio_of(cells):
    a, b = cells["natmod"].get("median"), cells["built-in"].get("median")
    return a / b if a and b else None


def targets(rows):
    out = []
    for case, row in rows.items():
        for metric in ("cpu_us", "instr"):
            if metric in row:
                r = ratio_of(row[metric])
                out.append({"target": "natmod %s %s <= %.1fx built-in" % (row["label"], metric, TARGET),
                            "value": None if r is None else round(r, 2), "met": r is not None and r <= TARGET})
    return out


def table_rows(rows, fmt_cell):
    """Rows for bench.py's printed table: case, unit, built-in, natmod, ratio."""
    out = []
    for case, row in rows.items():
        for metric, unit in (("cpu_us", "us/msg CPU"), ("instr", "instr")):
            if metric in row:
                r = ratio_of(row[metric])
                out.append([row["label"], unit, fmt_cell(row[metric]["built-in"]), fmt_cell(row[metric]["natmod"]),
                            "-" if r is None else "%.2fx" % r])
    return out

