#!/usr/bin/env python3
"""Run tests (.py + .exp) on a stock qemu firmware with umqtt_rs loaded as a
dynamic native module (.mpy), the way MicroPython's tests/run-natmodtests.py
does: the .mpy is copied into the target's RAM over the raw REPL and served
to `import` by a small in-RAM filesystem, then the test runs.

    tools/run-natmod-qemu.py "<qemu command>" <firmware.elf> <umqtt_rs.mpy> \\
        <micropython dir> [tests...]

One qemu boots for the whole run and the module is put in once (the raw
REPL moves ~3 KB/s); the tests then run one after the other in that
session, as scripts a user runs after importing it.  Exit status 1 when any test's output differs from its .exp.

A natmod reads time through the firmware's `time` module.  The stock qemu
port has none (ports/qemu/mpconfigport.h: MICROPY_PY_TIME 0), so there the
natmod's clock stands still and the tests that need time to pass are
skipped, saying so.
"""

import os
import sys
import time

CHUNK = 4096
# Tests that need the clock to advance (keepalive pings, dead broker).
NEEDS_CLOCK = {"keepalive.py"}
TIMEOUT = 120

# The .mpy is in the bytearray __buf; importing umqtt_rs reads it from there.
HOOK = """\
import sys, io, vfs
class _File(io.IOBase):
    def __init__(self):
        self.off = 0
    def ioctl(self, req, arg):
        return 0 if req == 4 else -1
    def readinto(self, buf):
        n = min(len(buf), len(__buf) - self.off)
        buf[:n] = memoryview(__buf)[self.off:self.off + n]
        self.off += n
        return n
class _FS:
    def mount(self, readonly, mkfs):
        pass
    def chdir(self, path):
        pass
    def umount(self):
        pass
    def stat(self, path):
        if path == '/umqtt_rs.mpy':
            return (0,) * 10
        raise OSError(2)
    def open(self, path, mode):
        return _File()
import gc
gc.collect()
vfs.mount(_FS(), '/__natmod')
sys.path.insert(0, '/__natmod')
_free = gc.mem_free()
import umqtt_rs
gc.collect()
print('heap taken by import umqtt_rs:', _free - gc.mem_free())
vfs.umount('/__natmod')
sys.path.pop(0)
del __buf
gc.collect()
"""


def main():
    if len(sys.argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    qemu, firmware, mpy, mpy_dir = sys.argv[1:5]
    tests = sys.argv[5:]
    top = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not tests:
        qdir = os.path.join(top, "tests", "qemu")
        tests = sorted(os.path.join(qdir, f) for f in os.listdir(qdir) if f.endswith(".py"))
    sys.path.insert(0, os.path.join(mpy_dir, "tools"))
    import pyboard

    with open(mpy, "rb") as f:
        data = f.read()
    pyb = pyboard.Pyboard("execpty:%s -serial pty -kernel %s" % (qemu, firmware))
    failed = []
    skipped = 0
    loaded = False
    start = time.time()
    try:
        pyb.enter_raw_repl()
        has_time = b"yes" in pyb.exec_("try:\n import time\n print('yes')\nexcept ImportError:\n print('no')")
        for test in tests:
            name = os.path.relpath(test, top)
            if not has_time and os.path.basename(test) in NEEDS_CLOCK:
                print("skip ", name, "(the firmware has no time module: the natmod has no clock)")
                skipped += 1
                continue
            if not loaded:
                pyb.exec_("__buf = bytearray(%d)" % len(data))
                for off in range(0, len(data), CHUNK):
                    pyb.exec_("__buf[%d:%d] = %r" % (off, off + CHUNK, data[off : off + CHUNK]))
                print(pyb.exec_(HOOK).decode().strip())
                loaded = True
            pyb.exec_("import gc; gc.collect()")
            with open(test, "rb") as f:
                script = f.read()
            try:
                ret, err = pyb.exec_raw(script, timeout=TIMEOUT)
                out = (ret + (err + b"CRASH" if err else b"")).replace(b"\r\n", b"\n")
            except pyboard.PyboardError as e:
                out = b"TIMEOUT %r" % (e,)
            with open(test + ".exp", "rb") as f:
                exp = f.read()
            if out == exp:
                print("pass ", name)
            else:
                print("FAIL ", name)
                print("--- expected\n%s--- got\n%s" % (exp.decode(errors="replace"), out.decode(errors="replace")))
                failed.append(name)
    finally:
        pyb.exit_raw_repl()
        pyb.close()
    print(
        "run-natmod-qemu: %d tests, %d passed, %d skipped, %d failed, %.0f s (%s, %d bytes)"
        % (len(tests), len(tests) - len(failed) - skipped, skipped, len(failed), time.time() - start, mpy, len(data))
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
