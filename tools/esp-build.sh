#!/usr/bin/env bash
# Build MicroPython's esp32 port with umqtt_rs through ESP-IDF's idf.py.
#   tools/esp-build.sh <IDF target> <MicroPython board> <build dir> <micropython dir> [rust toolchain]
# Needs (none is installable on this machine; each is checked with a message):
#   - ESP-IDF v5.2-v5.4, its environment loaded (. $IDF_PATH/export.sh);
#   - a MicroPython git checkout (v1.25) with the esp32 port's submodules
#     (make -C ports/esp32 submodules), given as MPY_DIR: the Debian source
#     tarball this project fetches has them empty;
#   - for Xtensa (esp32, esp32s2, esp32s3): Espressif's Rust toolchain "esp"
#     (cargo install espup && espup install && . ~/export-esp.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
idf_target=$1
board=$2
out=$3
mpy=$4
toolchain=${5:-}
missing() { echo "esp-build: $*" >&2; exit 2; }

command -v idf.py >/dev/null ||
    missing "ESP-IDF not found (idf.py not on PATH). Install ESP-IDF v5.2-v5.4 and run . \$IDF_PATH/export.sh; see README, \"Build for your board\"."
version=$(idf.py --version 2>/dev/null | sed -n 's/.*v\([0-9]*\.[0-9]*\).*/\1/p' | head -1)
case "$version" in
    5.2 | 5.3 | 5.4) ;;
    *) missing "ESP-IDF v${version:-?} found; MicroPython 1.25 supports v5.2-v5.4" ;;
esac
[ -n "$(ls -A "$mpy/lib/berkeley-db-1.xx" 2>/dev/null)" ] ||
    missing "$mpy has no esp32 submodules: use a MicroPython v1.25 git checkout (MPY_DIR=...) after make -C \$MPY_DIR/ports/esp32 submodules"
if [ "$toolchain" = esp ]; then
    rustup toolchain list 2>/dev/null | grep -q '^esp' ||
        missing "Xtensa needs Espressif's Rust toolchain: cargo install espup && espup install && . ~/export-esp.sh"
fi

make -C "$mpy/mpy-cross" >/dev/null
idf.py -C "$mpy/ports/esp32" -B "$out" \
    -D MICROPY_BOARD="$board" \
    -D USER_C_MODULES="$top/micropython-glue/micropython.cmake" \
    ${toolchain:+-D UMQTT_RS_CARGO_TOOLCHAIN=$toolchain} \
    build
echo "esp-build: $out/firmware.bin ($idf_target, $board); flash with: idf.py -C $mpy/ports/esp32 -B $out -p PORT flash"
