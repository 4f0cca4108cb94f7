#!/usr/bin/env python3
"""Run the MicroPython tests on an ESP32 firmware booted in Espressif's QEMU.

    tools/esp_qemu.py --qemu QEMU --flash build/esp32c3-QEMU/flash.bin test [TEST ...]
    tools/esp_qemu.py --qemu QEMU --flash build/esp32c3-QEMU/flash.bin bench
    tools/esp_qemu.py --qemu QEMU --flash build/esp32c3-QEMU/flash.bin mem [--stock FLASH]

(``make BOARD=esp32c3 test-qemu`` / ``bench-qemu`` / ``size-esp`` build the
image and run these.)

What it does:

* starts the private brokers of tools/broker.py on loopback (mosquitto with
  a plain and a TLS listener, its server certificate also made for the
  guest's name of the broker, 10.0.2.100; and the fake broker);
* boots a copy of the flash image in ``QEMU -M esp32c3`` with an OpenETH NIC
  on user-mode networking **restricted** to three forwards: 10.0.2.100:1883,
  :8883 and :1884 reach mosquitto, its TLS listener and the fake broker, each
  guest connection through its own ``socat`` (``guestfwd=...-cmd:``; the
  ``-tcp:`` form would be one connection opened at start, shared by all
  guest connections and never reopened);
* drives the REPL over the serial console (QEMU's stdio) with MicroPython's
  raw REPL in raw-paste mode, as mpremote does; sets the guest clock (TLS
  checks certificate dates), brings the LAN up with
  ``network.LAN(phy_type=network.PHY_OPENETH, phy_addr=1)`` (QEMU's PHY
  answers at MII address 1), writes the tests' support files and the CA
  certificates to the device's filesystem, and ``support/mqtt_env.py`` with
  the MQTT_* variables the tests read from the environment on the host;
* runs each test (tests/micropython/*.py, then heap256k/ and smallheap/,
  whose small heaps a C3 has anyway) after a soft reset, and compares its
  output with the ``.exp`` file, as tests/run-tests.py does.  A test that
  prints ``SKIP`` (the test says why) is skipped.  A test that hangs is
  interrupted; the device is rebooted if it does not come back.

After them, with the host acting while the device runs:

* ``examples/<name>``: each example of examples/ (Examples.NAMES), run
  unchanged from the device's /examples; its config.py is the examples' own
  with this board's settings after it, as a user edits it: the broker's
  address, ``wifi_connect()`` bringing the OpenETH LAN up in place of Wi-Fi,
  and the EXAMPLE_* settings tests/examples.sh gives on unix.  Checked as
  there: what it prints and what host clients (mosquitto_sub/_pub) got from
  it or sent it;
* ``robust_restart``: tests/esp32/robust_restart.py, a RobustClient
  publisher and subscriber, while the host stops mosquitto (persistence
  on, its own boot) mid-stream and starts it again; no message lost, no
  QoS 2 duplicate, both clients reconnected.

TESTS="name ..." picks tests by name (``examples`` for all examples).
Exit status 0 when no test failed.  The serial log is kept in
build/test-qemu/serial.log (``--out``), the results in results.txt.

``mem`` prints the heap after boot, after ``import umqtt_rs`` and per
client (``--stock``: also a firmware without the module, for the
difference); ``make BOARD=esp32c3 size-esp`` runs it.

``bench`` runs bench/esp_device_bench.py on the device in the same way:
publish QoS 0, publish QoS 1 (waiting for each PUBACK) and receive QoS 0
(a host ``mosquitto_pub -l`` floods the subscription), for umqtt_rs and
for umqtt.simple (frozen into the same firmware by the port's manifest),
alternating, each run after a soft reset; it prints the median rates and
their ratio, and the floors: a loop of ``sock.write()`` of a prebuilt
PUBLISH (QoS 0), and of that and a blocking read of its PUBACK (QoS 1).
"""

import argparse
import difflib
import glob
import hashlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from broker import Broker  # noqa: E402

GUEST_BROKER = "10.0.2.100"  # where the guest reaches the host's brokers
# guest port -> attribute of Broker with the host port
FORWARDS = ((1883, "port"), (8883, "tls_port"), (1884, "fake_port"))
DEVICE_ENV = {
    "MQTT_HOST": GUEST_BROKER,
    "MQTT_PORT": "1883",
    "MQTT_TLS_PORT": "8883",
    "MQTT_FAKE_PORT": "1884",
    "MQTT_CA_DER": "/certs/ca.der",
    "MQTT_BAD_CA_DER": "/certs/bad-ca.der",
}
# Files the tests import or read, host path relative to TOP -> device path.
SUPPORT_FILES = (
    ("tests/micropython/support/mqtt_test.py", "/support/mqtt_test.py"),
    ("tests/micropython/support/slow_stream.py", "/support/slow_stream.py"),
    ("tests/micropython/support/cut_stream.py", "/support/cut_stream.py"),
    # session_file.py imports it from sys.path[0] + "/../qemu/support".
    ("tests/qemu/support/scripted_broker.py", "/qemu/support/scripted_broker.py"),
)
TEST_TIMEOUT = 120  # seconds per test (emulated: several times slower than the host)
LONG_TESTS = {"many_qos1": 1200}  # 70,000 QoS 1 round trips


class Timeout(Exception):
    pass


class Panic(Exception):
    """The device crashed (ESP-IDF's panic handler printed its report)."""


PANIC_MARK = b"Guru Meditation Error: "


class Device:
    """QEMU with the firmware; its serial console is our stdin/stdout pipe."""

    def __init__(self, cmd, log_path):
        self.log = open(log_path, "ab")
        self.log.write(("\n==== %s\n" % " ".join(cmd)).encode())
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0
        )
        self.buf = bytearray()
        self.cond = threading.Condition()
        self.eof = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        fd = self.proc.stdout.fileno()
        while True:
            try:
                data = os.read(fd, 4096)
            except OSError:
                data = b""
            with self.cond:
                if not data:
                    self.eof = True
                    self.cond.notify_all()
                    return
                self.buf += data
                self.log.write(data)
                self.log.flush()
                self.cond.notify_all()

    def write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def read_until(self, pattern, timeout):
        """Bytes up to and including pattern (taken from the buffer)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                i = self.buf.find(pattern)
                if i >= 0:
                    out = bytes(self.buf[: i + len(pattern)])
                    del self.buf[: i + len(pattern)]
                    return out
                p = self.buf.find(PANIC_MARK)
                if p >= 0:
                    end = self.buf.find(b"\n", p)
                    if end >= 0:
                        raise Panic(self.buf[p + len(PANIC_MARK) : end].decode(errors="replace").strip())
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    raise Timeout("waiting for %r; got %r" % (pattern, bytes(self.buf[-300:])))
                self.cond.wait(min(left, 1.0))

    def read_exact(self, n, timeout):
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.buf) < n:
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    raise Timeout("waiting for %d bytes; got %r" % (n, bytes(self.buf)))
                self.cond.wait(min(left, 1.0))
            out = bytes(self.buf[:n])
            del self.buf[:n]
            return out

    def take_byte(self):
        """One byte already received, or None."""
        with self.cond:
            if not self.buf:
                return None
            b = self.buf[0]
            del self.buf[0]
            return b

    def discard(self):
        with self.cond:
            self.buf.clear()

    def close(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()

    # -- MicroPython's raw REPL --------------------------------------------

    def enter_raw_repl(self):
        self.write(b"\r\x03\x03")
        time.sleep(0.2)
        self.discard()
        self.write(b"\r\x01")
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>", 10)

    def soft_reset(self):
        """Ctrl-D at the raw REPL prompt: a fresh heap, back at the prompt."""
        self.write(b"\x04")
        self.read_until(b"soft reboot\r\n", 10)
        self.read_until(b"raw REPL; CTRL-B to exit\r\n>", 30)

    def start(self, code):
        """Send code and have it run (follow() reads its output)."""
        if isinstance(code, str):
            code = code.encode()
        # Raw-paste mode: the device grants a window and asks for more with
        # \x01, so the emulated UART's buffer never overflows.
        self.write(b"\x05A\x01")
        if self.read_exact(2, 10) != b"R\x01":
            raise Timeout("the device has no raw-paste mode")
        window = int.from_bytes(self.read_exact(2, 10), "little")
        left = window
        i = 0
        while i < len(code):
            while left == 0 or self.buf[:1]:
                b = self.take_byte()
                if b is None:
                    time.sleep(0.002)
                    continue
                if b == 1:
                    left += window
                elif b == 4:
                    raise Timeout("the device ended the paste")
                else:
                    raise Timeout("unexpected byte %r during paste" % b)
            n = min(left, len(code) - i)
            self.write(code[i : i + n])
            i += n
            left -= n
        self.write(b"\x04")
        self.read_until(b"\x04", 30)  # end of paste acknowledged: compiling, running

    def follow(self, timeout):
        """The output of the code start() sent: (stdout, stderr)."""
        out = self.read_until(b"\x04", timeout)[:-1]
        err = self.read_until(b"\x04", 10)[:-1]
        self.read_until(b">", 10)
        return out, err

    def exec_(self, code, timeout):
        """Run code; (stdout, stderr) as bytes.  Raises Timeout."""
        self.start(code)
        return self.follow(timeout)

    def run(self, code, timeout=60):
        """Run code that must not raise; its output as text."""
        out, err = self.exec_(code, timeout)
        if err:
            raise RuntimeError("device: %s\n%s" % (code[:200], err.decode(errors="replace")))
        return out.decode(errors="replace").replace("\r\n", "\n")

    def write_file(self, path, data):
        parts = path.strip("/").split("/")[:-1]
        mk = "".join(
            "try:\n os.mkdir(%r)\nexcept OSError:\n pass\n" % ("/" + "/".join(parts[: i + 1]))
            for i in range(len(parts))
        )
        self.run("import os\n" + mk + "f = open(%r, 'wb')\nf.close()\n" % path)
        for i in range(0, len(data), 2048):
            self.run("f = open(%r, 'ab')\nf.write(%r)\nf.close()\n" % (path, data[i : i + 2048]))


def qemu_command(qemu, machine, flash, broker):
    fwd = ",".join(
        "guestfwd=tcp:%s:%d-cmd:socat STDIO TCP:127.0.0.1:%d" % (GUEST_BROKER, gport, getattr(broker, attr))
        for gport, attr in FORWARDS
    )
    return [
        qemu, "-M", machine, "-display", "none", "-monitor", "none",
        "-chardev", "stdio,id=con,signal=off", "-serial", "chardev:con",
        "-drive", "file=%s,if=mtd,format=raw" % flash,
        "-nic", "user,model=open_eth,restrict=on," + fwd,
    ]  # fmt: skip


def boot(cmd, log_path, broker, note):
    """Boot, raw REPL, clock, LAN, support files: a Device ready for tests."""
    t0 = time.monotonic()
    dev = Device(cmd, log_path)
    try:
        dev.read_until(b">>> ", 60)
        note("boot: REPL after %.1f s" % (time.monotonic() - t0))
        dev.enter_raw_repl()
        t = time.gmtime()
        out = dev.run(
            "import machine, sys, gc\n"
            "machine.RTC().datetime((%d, %d, %d, %d, %d, %d, %d, 0))\n"
            "gc.collect()\n"
            "print(sys.implementation._build, 'v%%d.%%d.%%d' %% sys.implementation.version[:3], 'mem_free', gc.mem_free())\n"
            % (t.tm_year, t.tm_mon, t.tm_mday, t.tm_wday, t.tm_hour, t.tm_min, t.tm_sec)
        )
        note("device: " + out.strip())
        out = dev.run(
            "import network, time\n"
            "lan = network.LAN(phy_type=network.PHY_OPENETH, phy_addr=1)\n"
            "lan.active(True)\n"
            "t0 = time.ticks_ms()\n"
            "while lan.ifconfig()[0] == '0.0.0.0' and time.ticks_diff(time.ticks_ms(), t0) < 30000:\n"
            "    time.sleep_ms(50)\n"
            "print(lan.ifconfig()[0], time.ticks_diff(time.ticks_ms(), t0))\n",
            60,
        )
        addr, ms = out.split()
        if addr == "0.0.0.0":
            raise RuntimeError("no DHCP lease after 30 s")
        note("LAN up: %s after %s ms (DHCP)" % (addr, ms))
        for host, target in SUPPORT_FILES:
            with open(os.path.join(TOP, host), "rb") as f:
                dev.write_file(target, f.read())
        env = "ENV = %r\n" % DEVICE_ENV
        dev.write_file("/support/mqtt_env.py", env.encode())
        for name, path in (("ca_der", "/certs/ca.der"), ("bad_ca_der", "/certs/bad-ca.der")):
            with open(getattr(broker, name), "rb") as f:
                dev.write_file(path, f.read())
        dev.run("import os\ntry:\n os.mkdir('/tmp')\nexcept OSError:\n pass\n")
        return dev
    except BaseException:
        dev.close()
        raise


def compare(out, exp_path):
    with open(exp_path, "rb") as f:
        exp = f.read().replace(b"\r\n", b"\n")
    return out == exp


def check_tools(args):
    qemu = shutil.which(args.qemu) or args.qemu
    try:
        machines = subprocess.run([qemu, "-M", "help"], capture_output=True, text=True, timeout=30).stdout
    except OSError as e:
        sys.exit("esp_qemu: cannot run QEMU=%s (%s): give Espressif's qemu-system-riscv32" % (args.qemu, e))
    if not any(line.split()[:1] == [args.machine] for line in machines.splitlines()):
        sys.exit(
            "esp_qemu: %s has no machine %s: QEMU=<Espressif's qemu-system-riscv32> "
            "(ESP-IDF: idf_tools.py install qemu-riscv32)" % (qemu, args.machine)
        )
    if not shutil.which("socat"):
        sys.exit("esp_qemu: socat not found (apt-get install socat): QEMU's guestfwd runs it")
    if not os.path.exists(args.flash):
        sys.exit("esp_qemu: no flash image %s" % args.flash)
    return qemu


class Session:
    """Brokers + the device booted from a private copy of the flash image."""

    def __init__(self, args, qemu, note, broker_config=(), persistence=False):
        self.args, self.qemu, self.note = args, qemu, note
        self.broker_config = broker_config
        self.persistence = persistence

    def __enter__(self):
        self.broker = Broker(cert_names=(GUEST_BROKER,), config=self.broker_config, persistence=self.persistence).start()
        self.tmp = tempfile.mkdtemp(prefix="esp-qemu-")
        try:
            flash = os.path.join(self.tmp, "flash.bin")  # the guest writes its filesystem into it
            shutil.copyfile(self.args.flash, flash)
            self.cmd = qemu_command(self.qemu, self.args.machine, flash, self.broker)
            self.note("qemu: " + " ".join(self.cmd))
            self.log_path = os.path.join(self.args.out, "serial.log")
            self.dev = self._boot()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _boot(self):
        for attempt in range(3):
            try:
                return boot(self.cmd, self.log_path, self.broker, self.note)
            except (Timeout, Panic) as e:
                if attempt == 2:
                    raise
                self.note("boot failed (%s): again" % e)

    def reboot(self, why):
        self.note(why + ": rebooting QEMU")
        time.sleep(1)  # a panic's register dump and backtrace reach serial.log
        self.dev.close()
        self.dev = None
        self.dev = self._boot()

    def interrupt(self):
        """Ctrl-C for code still running; reboot when that does not end it."""
        self.dev.write(b"\x03\x03")
        try:
            self.dev.read_until(b"\x04>", 10)
        except (Timeout, Panic):
            self.reboot("device stuck")

    def __exit__(self, *exc):
        if getattr(self, "dev", None) is not None:
            self.dev.close()
        self.broker.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
        return False


# ---- scenarios: the host acts while the device runs ----------------------

RESTART_N = 100  # messages per QoS level
RESTART_DOWN_S = 2.0  # mosquitto down this long, mid-stream


def scenario_robust_restart(args, qemu, note):
    """tests/esp32/robust_restart.py (RobustClient publisher and subscriber)
    while mosquitto is stopped and started again: its own boot, with a
    broker that keeps sessions across the restart (persistence)."""
    with Session(args, qemu, note, persistence=True) as sess:
        dev = sess.dev
        for host in ("tests/reliability/tally.py", "tests/reliability/robustlink.py"):
            with open(os.path.join(TOP, host), "rb") as f:
                dev.write_file("/support/" + os.path.basename(host), f.read())
        dev.soft_reset()
        with open(os.path.join(TOP, "tests", "esp32", "robust_restart.py")) as f:
            code = "import sys\nsys.path.append('/support')\nN, TAG, PACE_MS = %d, %r, %d\n" % (
                RESTART_N, "%08x" % random.getrandbits(32), 20) + f.read()
        dev.start(code)
        head = dev.read_until(b"sent %d\r\n" % (RESTART_N // 2), 120)
        t0 = time.monotonic()
        sess.broker.stop_mosquitto()
        time.sleep(RESTART_DOWN_S)
        sess.broker.start_mosquitto()
        note("     robust_restart: mosquitto restarted after message %d, down %.1f s"
             % (RESTART_N // 2, time.monotonic() - t0))  # fmt: skip
        out, err = dev.follow(180)
    text = (head + out + err).decode(errors="replace").replace("\r\n", "\n")
    report = "".join(line + "\n" for line in text.splitlines() if line.startswith(("robust:", "sub:")))
    for line in report.splitlines():
        note("     " + line)
    return ("pass" if not err and "robust: OK" in text else "FAIL"), report if report else text


# examples/config.py as a user of the emulated board edits it (its
# documented way: settings at the top, copied next to the examples): the
# broker's address, the LAN in place of Wi-Fi, and the EXAMPLE_* settings
# that tests/examples.sh passes through the environment on unix.
EXAMPLE_SETTINGS = """
# ---- tools/esp_qemu.py: the emulated ESP32-C3's settings ----
BROKER = %r
_ENV = %r


def getenv(name, default=None):
    return _ENV.get(name, default)


def wifi_connect(timeout_s=20):
    # QEMU's board has an OpenETH NIC (PHY at MII address 1), no Wi-Fi.
    import network
    import time

    lan = network.LAN(phy_type=network.PHY_OPENETH, phy_addr=1)
    lan.active(True)
    t0 = time.ticks_ms()
    while lan.ifconfig()[0] == "0.0.0.0":
        if time.ticks_diff(time.ticks_ms(), t0) > timeout_s * 1000:
            raise OSError("no DHCP lease")
        time.sleep_ms(50)
    print("network", lan.ifconfig()[0])
"""
# An example runs unchanged, as `import` would run it, from /examples.
RUN_EXAMPLE = """import os
os.chdir("/examples")
try:
    exec(open(%r).read(), {"__name__": "__main__"})
except SystemExit as e:
    print("exit status", e.args[0] if e.args else 0)
"""


class Examples:
    """examples/*.py on the device against mosquitto, checked as
    tests/examples.sh checks them on unix: what each prints and what real
    clients on the host sent it or got from it."""

    NAMES = ("publish_sensor", "subscribe_led", "last_will", "qos_levels", "roundtrip", "ota_receive")
    # The emulator cannot run it as a board does: QEMU's esp32c3 has no deep
    # sleep, machine.deepsleep() ends in an interrupt-watchdog panic and a
    # watchdog reset (reset_cause() 3, not DEEPSLEEP_RESET).  tests/
    # examples.sh runs it on unix (session saved to a file, two wakes).
    NOT_RUN = {"deep_sleep_sensor": "QEMU has no deep sleep (watchdog reset instead)"}
    OTA_BYTES = 300000

    def __init__(self, sess):
        self.sess = sess
        self.uploaded = False

    def mqtt(self, tool, *argv, **kw):
        cmd = [tool, "-h", "127.0.0.1", "-p", str(self.sess.broker.port)] + list(argv)
        return subprocess.run(cmd, capture_output=True, timeout=kw.pop("timeout", 30), **kw)

    def start(self, name, env, wait_for=None):
        """Run example `name` with settings env; returns its output so far
        (up to wait_for, when given)."""
        dev = self.sess.dev
        if not self.uploaded:
            for path in sorted(glob.glob(os.path.join(TOP, "examples", "*.py"))):
                if os.path.basename(path) != "config.py":
                    with open(path, "rb") as f:
                        dev.write_file("/examples/" + os.path.basename(path), f.read())
            self.uploaded = True
        with open(os.path.join(TOP, "examples", "config.py")) as f:
            config = f.read() + EXAMPLE_SETTINGS % (GUEST_BROKER, env)
        dev.write_file("/examples/config.py", config.encode())
        dev.soft_reset()
        dev.start(RUN_EXAMPLE % (name + ".py"))
        return dev.read_until(wait_for.encode(), 60) if wait_for else b""

    def finish(self, head, timeout=120):
        out, err = self.sess.dev.follow(timeout)
        return (head + out + err).decode(errors="replace").replace("\r\n", "\n")

    def run(self, name):
        """(verdict, output) of one example."""
        return getattr(self, "check_" + name)()

    @staticmethod
    def verdict(text, *wanted):
        missing = [w for w in wanted if w not in text]
        return ("FAIL" if missing else "pass"), text + "".join("missing: %r\n" % w for w in missing)

    def check_publish_sensor(self):
        # A reading goes out to a real subscriber.
        sub = subprocess.Popen(
            ["mosquitto_sub", "-h", "127.0.0.1", "-p", str(self.sess.broker.port),
             "-t", "umqtt_rs/demo/sensor/temperature", "-C", "3", "-W", "60"],
            stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            time.sleep(0.5)
            text = self.finish(self.start("publish_sensor", {"EXAMPLE_COUNT": "3", "EXAMPLE_INTERVAL": "0.1"}))
            try:
                got = sub.communicate(timeout=30)[0].split()
            except subprocess.TimeoutExpired:
                sub.kill()
                got = sub.communicate()[0].split()
        finally:
            if sub.poll() is None:
                sub.kill()
                sub.wait()
        sent = [line.split()[1] for line in text.splitlines() if line.startswith("published ")]
        text += "host subscriber got %r\n" % got
        return self.verdict(text, "network 10.0.2.15", "host subscriber got %r" % sent if len(sent) == 3 else "3 readings")

    def check_subscribe_led(self):
        # Commands from a real publisher switch the LED.
        head = self.start("subscribe_led", {"EXAMPLE_COUNT": "3", "EXAMPLE_DURATION": "30"}, "waiting for commands")
        for cmd in ("on", "off", "toggle"):
            self.mqtt("mosquitto_pub", "-t", "umqtt_rs/demo/led", "-q", "1", "-m", cmd, check=True)
        text = self.finish(head)
        return self.verdict(text, "led: on\nled: off\nled: on\nhandled 3 commands")

    def check_last_will(self):
        # Dropped without DISCONNECT: the broker publishes the retained will.
        text = self.finish(self.start("last_will", {"EXAMPLE_COUNT": "2", "EXAMPLE_INTERVAL": "0.1", "EXAMPLE_DROP": "1"}))
        status = [line[: -len(" = online")] for line in text.splitlines() if line.endswith(" = online")]
        if status:
            will = self.mqtt("mosquitto_sub", "-t", status[0], "-C", "1", "-W", "10", text=True).stdout.strip()
            text += "retained status: %s\n" % will
            self.mqtt("mosquitto_pub", "-t", status[0], "-r", "-n")
        return self.verdict(text, "heartbeat 2", "dropped", "retained status: offline")

    def check_qos_levels(self):
        return self.verdict(self.finish(self.start("qos_levels", {})), "got 3 of 3")

    def check_roundtrip(self):
        return self.verdict(self.finish(self.start("roundtrip", {})), "received: hello from umqtt_rs", "exit status 0")

    def check_ota_receive(self):
        # An image larger than the heap from a real publisher, in pieces into a file.
        image = os.urandom(self.OTA_BYTES)
        sha = hashlib.sha256(image).hexdigest()
        self.mqtt("mosquitto_pub", "-t", "umqtt_rs/demo/ota/sha256", "-q", "1", "-r", "-m", sha, check=True)
        try:
            head = self.start("ota_receive", {"EXAMPLE_DURATION": "90"}, "waiting for an image")
            self.mqtt("mosquitto_pub", "-t", "umqtt_rs/demo/ota/image", "-q", "1", "-s", input=image, check=True, timeout=120)
            text = self.finish(head, 180)
        finally:
            self.mqtt("mosquitto_pub", "-t", "umqtt_rs/demo/ota/sha256", "-r", "-n")
        # The file as the device's filesystem has it.
        text += self.sess.dev.run(
            "import hashlib, binascii, os\nh = hashlib.sha256()\nf = open('/examples/ota.bin', 'rb')\n"
            "while True:\n    b = f.read(4096)\n    if not b:\n        break\n    h.update(b)\n"
            "f.close()\nos.remove('/examples/ota.bin')\nprint('file on the device: sha256', binascii.hexlify(h.digest()).decode())\n",
            120,
        )  # fmt: skip
        return self.verdict(text, "sha256 %s OK" % sha, "file on the device: sha256 %s" % sha)


def cmd_test(args, qemu, note):
    tdir = os.path.join(TOP, "tests", "micropython")
    every = sorted(glob.glob(os.path.join(tdir, "*.py")))
    every += sorted(glob.glob(os.path.join(tdir, "heap256k", "*.py")))
    every += sorted(glob.glob(os.path.join(tdir, "smallheap", "*.py")))

    def name(p):
        return os.path.relpath(p, tdir)[:-3]

    examples = ["examples/" + n for n in Examples.NAMES]
    if args.tests:
        names = {name(p) for p in every} | {os.path.basename(name(p)) for p in every}
        unknown = set(args.tests) - names - set(examples) - {"robust_restart", "examples"}
        if unknown:
            sys.exit("esp_qemu: no such test: %s" % " ".join(sorted(unknown)))
        chosen = [p for p in every if name(p) in args.tests or os.path.basename(name(p)) in args.tests]
        if "examples" not in args.tests:
            examples = [e for e in examples if e in args.tests]
        restart = "robust_restart" in args.tests
    else:
        chosen = every
        restart = True

    def run_one(sess, path, code, timeout):
        t0 = time.monotonic()
        try:
            sess.dev.soft_reset()
            out, err = sess.dev.exec_(code, timeout)
            out = out.replace(b"\r\n", b"\n") + err.replace(b"\r\n", b"\n")
            if out.startswith(b"SKIP"):
                return "skip", out
            return ("pass" if compare(out, path + ".exp") else "FAIL"), out
        except Panic as e:
            sess.reboot("device panic: %s" % e)
            return "panic", ("device panic: %s\n" % e).encode()
        except Timeout as e:
            out = b"timeout after %.0f s: %s\n" % (time.monotonic() - t0, str(e).encode())
            sess.interrupt()
            return "FAIL", out

    results = {}

    def record(n, verdict, out, t0):
        results[n] = verdict
        note("%-4s %s (%.1f s)" % (verdict, n, time.monotonic() - t0))
        if verdict == "FAIL":
            with open(os.path.join(args.out, n.replace("/", "-") + ".out"), "w") as f:
                f.write(out)
            for line in out.splitlines()[-40:]:
                note("    " + line)

    def scenario(n, run, sess=None):
        t0 = time.monotonic()
        try:
            verdict, out = run()
        except (Timeout, Panic, RuntimeError, subprocess.SubprocessError) as e:
            verdict, out = "FAIL", "%s: %s\n" % (type(e).__name__, e)
            if sess is not None and isinstance(e, Panic):
                sess.reboot("device panic")
            elif sess is not None:
                sess.interrupt()
        record(n, verdict, out, t0)

    with Session(args, qemu, note) as sess:
        for path in chosen:
            n = name(path)
            with open(path, "rb") as f:
                code = f.read()
            timeout = LONG_TESTS.get(os.path.basename(n), args.timeout)
            t0 = time.monotonic()
            verdict, out = run_one(sess, path, code, timeout)
            why = ""
            if verdict == "panic":
                # Seen only under heavy host load (QEMU's emulated watchdog
                # timers run on the host's clock): run the test once more, and
                # say so.
                first = out.decode(errors="replace").strip()
                t0 = time.monotonic()
                verdict, out = run_one(sess, path, code, timeout)
                verdict = "FAIL" if verdict == "panic" else verdict
                why = " [first run: %s; run again]" % first
            results[n] = verdict
            if verdict == "skip":
                why = ": " + out.decode(errors="replace").strip().splitlines()[0][:200]
            note("%-4s %s (%.1f s)%s" % (verdict, n, time.monotonic() - t0, why))
            if verdict == "FAIL":
                with open(os.path.join(args.out, os.path.basename(n) + ".out"), "wb") as f:
                    f.write(out)
                with open(path + ".exp", "rb") as f:
                    exp = f.read().decode(errors="replace").splitlines()
                got = out.decode(errors="replace").splitlines()
                for line in list(difflib.unified_diff(exp, got, "expected", "device", lineterm=""))[:40]:
                    note("    " + line)
        ex = Examples(sess)
        for n in examples:
            scenario(n, lambda: ex.run(n[len("examples/") :]), sess)
        if examples:
            for n, why in sorted(Examples.NOT_RUN.items()):
                note("left out: examples/%s: %s" % (n, why))
    if restart:
        scenario("robust_restart", lambda: scenario_robust_restart(args, qemu, note))
    counts = {v: sum(1 for x in results.values() if x == v) for v in ("pass", "FAIL", "skip")}
    note(
        "test-qemu: %d passed, %d failed, %d skipped (of %d)"
        % (counts["pass"], counts["FAIL"], counts["skip"], len(results))
    )
    if counts["FAIL"]:
        note("failed: " + " ".join(n for n, v in results.items() if v == "FAIL"))
    return 1 if counts["FAIL"] else 0


def cmd_bench(args, qemu, note):
    """bench/esp_device_bench.py on the device: umqtt_rs vs umqtt.simple, same firmware, one boot."""
    with open(os.path.join(TOP, "bench", "esp_device_bench.py")) as f:
        script = f.read()
    cases = [c for c in (("pub0", args.n0, 32), ("pub1", args.n1, 32), ("recv", args.nr, 32)) if c[0] in args.cases]
    libs = ("umqtt_rs", "umqtt.simple")
    rates = {}
    # Unbounded broker queues: a slow subscriber loses nothing.
    with Session(args, qemu, note, ("max_queued_messages 0", "max_queued_bytes 0")) as sess:
        for case, n, size in cases:
            for run in range(args.runs):
                extra = {"pub0": ("umqtt_rs+coalesce", "sock.write"), "pub1": ("umqtt_rs+pipelined", "sock.write")}
                for lib in libs + extra.get(case, ()):
                    sess.dev.soft_reset()
                    sess.dev.start("CASE, LIB, N, SIZE = %r, %r, %d, %d\n" % (case, lib, n, size) + script)
                    if case == "recv":
                        sess.dev.read_until(b"READY", 60)
                        topic = "bench/" + lib
                        lines = "".join("%031d\n" % i for i in range(n))
                        subprocess.run(
                            ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(sess.broker.port), "-t", topic, "-l"],
                            input=lines.encode(), check=True, timeout=300,
                        )  # fmt: skip
                    out, err = sess.dev.follow(600)
                    text = out.decode(errors="replace")
                    if err or "RESULT" not in text:
                        raise RuntimeError("bench %s %s: %s %s" % (case, lib, text, err.decode(errors="replace")))
                    got, rate = text.split("RESULT")[1].split()[:2]
                    if int(got) != n:
                        raise RuntimeError("bench %s %s: %s of %d messages" % (case, lib, got, n))
                    rates.setdefault((case, lib), []).append(float(rate))
                    note("%s %-12s run %d: %8.0f msg/s" % (case, lib, run + 1, float(rate)))
    note("")
    note("on-target (%s under QEMU), 32-byte payloads, median [min-max] msg/s of %d runs:" % (args.machine, args.runs))
    note("| case | N | umqtt_rs | umqtt.simple | ratio |")
    note("|---|---|---|---|---|")
    for case, n, _size in cases:
        med = {}
        cells = []
        for lib in libs:
            r = sorted(rates[(case, lib)])
            med[lib] = r[len(r) // 2]
            cells.append("%.0f [%.0f-%.0f]" % (med[lib], r[0], r[-1]))
        label = {"pub0": "publish QoS 0", "pub1": "publish QoS 1", "recv": "receive QoS 0"}[case]
        note("| %s | %d | %s | %s | x%.1f |" % (label, n, cells[0], cells[1], med[libs[0]] / med[libs[1]]))
    for case, lib, n, label in (
        ("pub0", "umqtt_rs+coalesce", args.n0, "publish QoS 0, umqtt_rs coalesce=True"),
        ("pub1", "umqtt_rs+pipelined", args.n1, "publish QoS 1, umqtt_rs wait=False + drain()"),
    ):
        if case not in args.cases:
            continue
        r = sorted(rates[(case, lib)])
        base = sorted(rates[(case, libs[1])])[args.runs // 2]
        note("| %s | %d | %.0f [%.0f-%.0f] | | x%.1f |" % (label, n, r[len(r) // 2], r[0], r[-1], r[len(r) // 2] / base))
    for case, what in (
        ("pub0", "a loop of sock.write() of the same QoS 0 PUBLISH, prebuilt"),
        ("pub1", "a loop of sock.write() of a prebuilt QoS 1 PUBLISH and a blocking sock.read() of its PUBACK"),
    ):
        if case not in args.cases:
            continue
        r = sorted(rates[(case, "sock.write")])
        note("floor: %s: %.0f [%.0f-%.0f] msg/s" % (what, r[len(r) // 2], r[0], r[-1]))
    return 0


# Heap on the device: after boot (same steps as test: clock, LAN up), the
# built-in module's import, the frozen layers', one client with default
# buffers, and after it connected.
MEM_SCRIPT = """import gc, esp32
def free():
    gc.collect()
    return gc.mem_free()
def idf():
    return sum(h[1] for h in esp32.idf_heap_info(esp32.HEAP_DATA))
f = free()
print("MEM heap_free", f, "idf_free", idf(), "heap_total", f + gc.mem_alloc())
try:
    import umqtt_rs
except ImportError:
    umqtt_rs = None
if umqtt_rs:
    g = free()
    print("MEM import_umqtt_rs", f - g)
    import umqtt_rs_robust
    f = free()
    print("MEM import_robust", g - f)
    import asyncio
    g = free()
    import umqtt_rs_asyncio
    f = free()
    print("MEM import_asyncio_layer", g - f)
    c = umqtt_rs.MQTTClient("mem", "10.0.2.100", 1883)
    g = free()
    print("MEM client", f - g)
    c.connect()
    f = free()
    print("MEM connected", g - f)
    c.disconnect()
"""


def cmd_mem(args, qemu, note):
    """Heap figures of the firmware (and of --stock, a build without the module)."""
    figures = {}
    for label, flash in (("with umqtt_rs", args.flash), ("without", args.stock)):
        if not flash:
            continue
        run = argparse.Namespace(**vars(args))
        run.flash = flash
        with Session(run, qemu, note) as sess:
            sess.dev.soft_reset()
            out = sess.dev.run(MEM_SCRIPT, 60)
        figures[label] = {}
        for line in out.splitlines():
            f = line.split()
            if f[:1] == ["MEM"]:
                for k, v in zip(f[1::2], f[2::2]):
                    figures[label][k] = int(v)
        note("%s: %s" % (label, figures[label]))
    note("")
    note("| heap (gc.mem_free) | bytes |")
    note("|---|---:|")
    w = figures["with umqtt_rs"]
    for key, what in (
        ("heap_free", "free after boot, LAN up (with umqtt_rs)"),
        ("import_umqtt_rs", "taken by `import umqtt_rs` (built in)"),
        ("import_robust", "taken by `import umqtt_rs_robust` (frozen)"),
        ("import_asyncio_layer", "taken by `import umqtt_rs_asyncio` (frozen) after `import asyncio`"),
        ("client", "one `MQTTClient(...)`, default buffers"),
        ("connected", "more after its `connect()` (socket)"),
    ):
        note("| %s | %d |" % (what, w[key]))
    if "without" in figures:
        o = figures["without"]
        note("| free after boot, LAN up, without umqtt_rs | %d |" % o["heap_free"])
        note("| difference in the heap after boot | %+d |" % (w["heap_free"] - o["heap_free"]))
        note("| difference in ESP-IDF's free RAM after boot | %+d |" % (w["idf_free"] - o["idf_free"]))
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--qemu", default=os.environ.get("QEMU") or "qemu-system-riscv32")
    ap.add_argument("--machine", default="esp32c3")
    ap.add_argument("--flash", required=True, help="merged flash image (esp-build.sh, variant QEMU)")
    ap.add_argument("--out", default=None, help="logs and results (default build/test-qemu or build/bench-qemu)")
    sub = ap.add_subparsers(dest="command", required=True)
    t = sub.add_parser("test", help="tests/micropython on the device")
    t.add_argument("--timeout", type=float, default=TEST_TIMEOUT, help="seconds per test")
    t.add_argument("tests", nargs="*", help="test names (default: all of tests/micropython)")
    b = sub.add_parser("bench", help="umqtt_rs vs umqtt.simple on the device")
    b.add_argument("--runs", type=int, default=3)
    b.add_argument("--n0", type=int, default=1000, help="QoS 0 publishes per run")
    b.add_argument("--n1", type=int, default=200, help="QoS 1 publishes per run")
    b.add_argument("--nr", type=int, default=1000, help="messages received per run")
    b.add_argument("--cases", type=lambda v: v.split(","), default=["pub0", "pub1", "recv"], help="some of pub0,pub1,recv")
    m = sub.add_parser("mem", help="heap after boot, import and per client")
    m.add_argument("--stock", help="flash image of the same firmware without umqtt_rs")
    args = ap.parse_args(argv)
    args.out = args.out or os.path.join(TOP, "build", args.command + "-qemu")
    # Killed: unwind, so that QEMU, mosquitto and the temporary files go too.
    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda signum, _frame: sys.exit(128 + signum))
    qemu = check_tools(args)
    os.makedirs(args.out, exist_ok=True)
    open(os.path.join(args.out, "serial.log"), "w").close()
    report = open(os.path.join(args.out, "results.txt"), "w")

    def note(s):
        print(s, flush=True)
        report.write(s + "\n")
        report.flush()

    return {"test": cmd_test, "bench": cmd_bench, "mem": cmd_mem}[args.command](args, qemu, note)


if __name__ == "__main__":
    sys.exit(main())
