#!/usr/bin/env python3
"""What the module adds to an ESP32 firmware: two builds of the same
MicroPython, board and variant, one with umqtt_rs and one without.

    tools/esp-size.py WITH_DIR STOCK_DIR [--size riscv32-esp-elf-size]

(``make BOARD=esp32c3 size-esp`` builds both and runs this.)  Reads each
build directory's micropython.bin (the app image), micropython.elf (sections,
through binutils' ``size -A``) and micropython.map (GNU ld's map: which
object file put how many bytes into which output section), and prints
Markdown tables: the app image, text/rodata/data/bss, and the object files
whose bytes differ most (the glue, the Rust core, frozen modules, qstrs).

text is code (IRAM + flash), rodata the flash constants, data initialised
RAM (also in the image), bss zeroed RAM: data + bss come out of the RAM that
ESP-IDF's heap, and MicroPython's heap within it, would otherwise have.
Standard library only; runs without ESP-IDF (tests/host checks it on a
made-up map).
"""

import argparse
import collections
import os
import re
import shutil
import subprocess
import sys

# ESP-IDF output sections -> kind; the *_dummy ones only reserve address
# space (no bytes) and are left out.
KINDS = (
    ("text", (".iram0.vectors", ".iram0.text", ".iram0.text_end", ".flash.text", ".rtc.text", ".rtc.force_fast")),
    ("rodata", (".flash.appdesc", ".flash.rodata", ".rodata")),
    ("data", (".dram0.data", ".iram0.data", ".rtc.data", ".data")),
    ("bss", (".dram0.bss", ".iram0.bss", ".noinit", ".rtc.bss", ".rtc_noinit", ".bss")),
)
KIND_OF = {sec: kind for kind, secs in KINDS for sec in secs}
# ESP-IDF's toolchains, Debian's RISC-V binutils.
SIZE_TOOLS = ("riscv32-esp-elf-size", "xtensa-esp32-elf-size", "xtensa-esp32s3-elf-size", "riscv64-unknown-elf-size")


def sections(elf, size_tool):
    """{section: bytes} of an ELF, from `size -A -d`."""
    out = subprocess.run([size_tool, "-A", "-d", elf], capture_output=True, text=True, check=True).stdout
    secs = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[0].startswith(".") and f[1].isdigit():
            secs[f[0]] = int(f[1])
    return secs


def by_kind(secs):
    kinds = collections.Counter()
    for sec, n in secs.items():
        if sec in KIND_OF:
            kinds[KIND_OF[sec]] += n
    return kinds


INPUT = re.compile(r"^ (\S+)?\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$")
OUTPUT = re.compile(r"^(\.\S+)(?:\s+0x[0-9a-f]+\s+0x[0-9a-f]+)?\s*$")


def object_name(path):
    """A build-independent name for an input file of the map."""
    path = path.strip()
    m = re.match(r"(.*\.a)\((.*)\)$", path)
    if m:
        return "%s(%s)" % (os.path.basename(m.group(1)), m.group(2))
    return os.path.basename(path)


def map_objects(map_path):
    """{(object, kind): bytes} placed at a real address, from a GNU ld map."""
    totals = collections.Counter()
    kind = None
    in_map = False
    pending = False  # an input section name alone on its line: numbers next
    with open(map_path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not in_map:
                in_map = line.startswith("Linker script and memory map")
                continue
            m = OUTPUT.match(line)
            if m and not line.startswith(" "):
                kind = KIND_OF.get(m.group(1))
                pending = False
                continue
            if kind is None:
                continue
            if pending and line.startswith(" " * 16):
                line = " x" + line  # join the two lines of a long input section name
            m = INPUT.match(line)
            pending = False
            if not m:
                pending = re.match(r"^ \S+$", line) is not None
                continue
            addr, size, obj = int(m.group(2), 16), int(m.group(3), 16), m.group(4)
            if addr == 0 or size == 0 or obj.startswith("0x"):
                continue
            totals[(object_name(obj), kind)] += size
    return totals


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("with_dir", help="build directory of the firmware with umqtt_rs")
    ap.add_argument("stock_dir", help="build directory of the same firmware without it")
    ap.add_argument("--size", help="binutils `size` for the chip's ELF (default: the first of %s on PATH)" % ", ".join(SIZE_TOOLS))
    ap.add_argument("--top", type=int, default=12, help="object files listed")
    args = ap.parse_args(argv)
    args.size = args.size or next((t for t in SIZE_TOOLS if shutil.which(t)), None)
    if not args.size:
        sys.exit("esp-size: no binutils size for the chip: --size riscv32-esp-elf-size (ESP-IDF's export.sh)")
    dirs = (args.with_dir, args.stock_dir)
    for d in dirs:
        for name in ("micropython.bin", "micropython.elf", "micropython.map"):
            if not os.path.exists(os.path.join(d, name)):
                sys.exit("esp-size: no %s in %s (build it first)" % (name, d))

    print("| | with umqtt_rs | without | difference |")
    print("|---|---:|---:|---:|")
    img = [os.path.getsize(os.path.join(d, "micropython.bin")) for d in dirs]
    print("| app image (micropython.bin) | %d | %d | %+d |" % (img[0], img[1], img[0] - img[1]))
    kinds = [by_kind(sections(os.path.join(d, "micropython.elf"), args.size)) for d in dirs]
    for kind, _ in KINDS:
        print("| %s | %d | %d | %+d |" % (kind, kinds[0][kind], kinds[1][kind], kinds[0][kind] - kinds[1][kind]))

    objs = [map_objects(os.path.join(d, "micropython.map")) for d in dirs]
    names = {o for o, _ in objs[0]} | {o for o, _ in objs[1]}
    rows = []
    for o in names:
        d = {k: objs[0][(o, k)] - objs[1][(o, k)] for k, _ in KINDS}
        if any(d.values()):
            rows.append((sum(abs(v) for v in d.values()), o, d))
    rows.sort(key=lambda r: (-r[0], r[1]))
    print()
    print("| object file | text | rodata | data | bss |")
    print("|---|---:|---:|---:|---:|")
    for _, o, d in rows[: args.top]:
        print("| %s | %s |" % (o, " | ".join("%+d" % d[k] for k, _ in KINDS)))
    rest = collections.Counter()
    for _, _, d in rows[args.top :]:
        rest.update(d)
    if rows[args.top :]:
        print("| %d others | %s |" % (len(rows) - args.top, " | ".join("%+d" % rest[k] for k, _ in KINDS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
