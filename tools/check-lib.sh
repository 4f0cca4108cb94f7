#!/usr/bin/env bash
# Check a prelinked umqtt_rs object built for a RISC-V chip (make lib):
#   tools/check-lib.sh OBJ CROSS_PREFIX ISA
#     OBJ           the object (build/<board>/umqtt_rs_core.o)
#     CROSS_PREFIX  binutils prefix, e.g. riscv64-unknown-elf-
#     ISA           the exact base ISA and single-letter extensions, e.g.
#                   rv32imc (ESP32-C3) or rv32imac (ESP32-C6)
# Fails unless: the object exists; it is ELF32 RISC-V with the soft-float
# ilp32 ABI (no float-ABI flag) and RVC; its Tag_RISCV_arch names exactly
# ISA's extensions (an rv32imac object links into rv32imc firmware without a
# word and faults on the first atomic instruction); every global symbol it
# defines is umqtt_rs_*; it needs nothing but abort and the C library's
# mem* functions from the firmware.
set -euo pipefail
obj=$1
cross=$2
isa=$3
fail() { echo "check-lib: $obj: $*" >&2; exit 1; }

[ -s "$obj" ] || fail "missing (run make BOARD=<board> lib)"
header=$("${cross}readelf" -h "$obj")
grep -q "Class: *ELF32" <<<"$header" || fail "not ELF32"
grep -q "Machine: *RISC-V" <<<"$header" || fail "not RISC-V"
flags=$(sed -n 's/^ *Flags: *//p' <<<"$header")
[[ "$flags" == *"soft-float ABI"* ]] || fail "float ABI is not soft-float (ilp32): $flags"
[[ "$flags" == *RVC* ]] || fail "no RVC flag: $flags"

arch=$("${cross}readelf" -A "$obj" | sed -n 's/.*Tag_RISCV_arch: "\(.*\)"/\1/p')
[ -n "$arch" ] || fail "no Tag_RISCV_arch attribute"
# rv32i2p1_m2p0_c2p0_zmmul1p0 -> rv32 + i m c (z*/x*/s* extensions aside).
base=${arch%%[0-9]p*}
base=${base:0:4}
letters=$(tr '_' '\n' <<<"${arch:4}" | sed -n 's/^\([a-y]\)[0-9].*/\1/p' | tr -d '\n')
[ "$base$letters" = "$isa" ] || fail "ISA $base$letters ($arch), expected $isa"
if [[ "$isa" != *a* ]] && grep -q "_za" <<<"_$arch"; then
    fail "atomic extensions in $arch, expected $isa"
fi

syms=$("${cross}nm" -g "$obj")
exports=$(awk '$2 ~ /^[TDBRCVW]$/ {print $3}' <<<"$syms")
others=$(grep -v '^umqtt_rs_' <<<"$exports" || true)
[ -z "$others" ] || fail "exports more than umqtt_rs_*: $others"
[ -n "$exports" ] || fail "exports nothing"
needs=$(awk '$1 == "U" {print $2}' <<<"$syms" | grep -vxE 'abort|mem(cpy|move|set|cmp)|bcmp' || true)
[ -z "$needs" ] || fail "needs unexpected symbols: $needs"

echo "check-lib: $obj ok: $isa ($arch), $flags, $(wc -l <<<"$exports") exports, all umqtt_rs_*"
