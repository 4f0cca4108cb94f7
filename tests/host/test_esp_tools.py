"""Offline checks of the ESP32 developer tools (host Python 3, unittest):
what `make BOARD=esp32c3 test-qemu` / `size-esp` run needs ESP-IDF and
QEMU, so `make test` checks here what it can without them.

    python3 -m unittest discover -s tests/host -v
"""

import importlib.util
import os
import sys
import tempfile
import unittest

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(TOP, "tools"))

import esp_qemu  # noqa: E402

spec = importlib.util.spec_from_file_location("esp_size", os.path.join(TOP, "tools", "esp-size.py"))
esp_size = importlib.util.module_from_spec(spec)
spec.loader.exec_module(esp_size)

# A GNU ld map as ESP-IDF's link writes it: output sections at column 0,
# input sections indented, a long input section name alone on its line,
# archive members, and sections dropped at address 0 (not in the image).
MAP = """\
Discarded input sections

 .text          0x00000000        0x8 CMakeFiles/micropython.elf.dir/x/micropython-glue/urs_io.c.obj

Linker script and memory map

.iram0.text     0x40380000     0x100
 .text          0x40380000       0x40 esp-idf/main/libmain.a(gc.c.obj)
.flash.text     0x42000020     0x2000
 .text          0x42000020      0x184 CMakeFiles/micropython.elf.dir/x/micropython-glue/modumqtt_rs.c.obj
 .text._ZN8umqtt_rs3ffi10fill_chunk17h8fdc4965009585d1E
                0x42000200       0x82 umqtt_rs_core.o
 .text.unused   0x00000000       0x10 umqtt_rs_core.o
.flash.rodata   0x3c000020      0x400
 .rodata.str1.4
                0x3c000020       0x30 umqtt_rs_core.o
 *fill*         0x3c000050        0x4
.dram0.bss      0x3fc80000       0x20
 .bss           0x3fc80000       0x20 esp-idf/main/libmain.a(gc.c.obj)
.debug_info     0x00000000     0x9999
 .debug_info    0x00000000      0x100 umqtt_rs_core.o
"""


class EspSizeTest(unittest.TestCase):
    def test_map_objects(self):
        with tempfile.NamedTemporaryFile("w", suffix=".map", delete=False) as f:
            f.write(MAP)
        try:
            got = esp_size.map_objects(f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual(
            dict(got),
            {
                ("libmain.a(gc.c.obj)", "text"): 0x40,
                ("modumqtt_rs.c.obj", "text"): 0x184,
                ("umqtt_rs_core.o", "text"): 0x82,
                ("umqtt_rs_core.o", "rodata"): 0x30,
                ("libmain.a(gc.c.obj)", "bss"): 0x20,
            },
        )

    def test_kinds(self):
        secs = {".flash.text": 10, ".iram0.text": 5, ".flash.rodata": 7, ".dram0.data": 3, ".dram0.bss": 2, ".dram0.dummy": 99}
        self.assertEqual(dict(esp_size.by_kind(secs)), {"text": 15, "rodata": 7, "data": 3, "bss": 2})


class EspQemuTest(unittest.TestCase):
    # Examples run elsewhere than on the device, and why.
    NOT_ON_DEVICE = {"config": "the settings file, not an example"}

    def test_every_example_runs_on_the_device(self):
        names = {f[:-3] for f in os.listdir(os.path.join(TOP, "examples")) if f.endswith(".py")}
        covered = set(esp_qemu.Examples.NAMES) | set(self.NOT_ON_DEVICE) | set(esp_qemu.Examples.NOT_RUN)
        self.assertEqual(names - covered, set(), "examples that test-qemu does not run")
        for n in esp_qemu.Examples.NAMES:
            self.assertTrue(callable(getattr(esp_qemu.Examples, "check_" + n, None)), n)

    def test_example_settings(self):
        # The device's config.py: the examples' own, with this board's settings after it.
        with open(os.path.join(TOP, "examples", "config.py")) as f:
            text = f.read() + esp_qemu.EXAMPLE_SETTINGS % (esp_qemu.GUEST_BROKER, {"EXAMPLE_COUNT": "3"})
        ns = {}
        exec(compile(text, "config.py", "exec"), ns)
        self.assertEqual(ns["BROKER"], esp_qemu.GUEST_BROKER)
        self.assertEqual(ns["getenv"]("EXAMPLE_COUNT", 0), "3")
        self.assertEqual(ns["getenv"]("EXAMPLE_DROP"), None)
        compile(esp_qemu.RUN_EXAMPLE % "roundtrip.py", "run", "exec")

    def test_device_scripts_compile(self):
        for path in ("tests/esp32/robust_restart.py", "bench/esp_device_bench.py"):
            with open(os.path.join(TOP, path)) as f:
                compile(f.read(), path, "exec")
        compile(esp_qemu.MEM_SCRIPT, "mem", "exec")


if __name__ == "__main__":
    unittest.main()
