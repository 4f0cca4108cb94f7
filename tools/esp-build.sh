#!/usr/bin/env bash
# Build MicroPython's esp32 port with umqtt_rs through ESP-IDF's idf.py.
#   tools/esp-build.sh <IDF target> <MicroPython board> <build dir> <micropython dir> \
#       [rust toolchain] [board variant] [frozen manifest] [stock]
# "stock" as the 8th argument builds the same firmware without umqtt_rs
# (no user C module; the port's own frozen manifest unless one is given):
# what the module adds is measured against it (make BOARD=... size-esp).
# Output in <build dir>: firmware.bin (bootloader + partition table + app, as
# the port's own `make` writes it: flash it at the bootloader offset, or use
# idf.py flash); with the variant QEMU also flash.bin, the whole flash padded
# to its size, the image qemu-system-riscv32 -M esp32c3 boots
# (make BOARD=esp32c3 test-qemu).
# Needs (each is checked, with a message saying what to do):
#   - ESP-IDF v5.2-v5.4, its environment loaded (. $IDF_PATH/export.sh);
#   - a MicroPython git checkout (v1.25) with the esp32 port's submodules
#     (make -C ports/esp32 submodules), given as MPY_DIR: the Debian source
#     tarball this project fetches has them empty;
#   - the Rust target of the chip, installed beforehand (make BOARD=... deps):
#     this build never calls rustup and needs no network;
#   - for Xtensa (esp32, esp32s2, esp32s3): Espressif's Rust toolchain "esp"
#     (cargo install espup && espup install && . ~/export-esp.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
idf_target=$1
board=$2
out=$3
mpy=$4
toolchain=${5:-}
variant=${6:-}
manifest=${7:-}
stock=${8:-}
modules=(-D USER_C_MODULES="$top/micropython-glue/micropython.cmake")
[ "$stock" = stock ] && modules=()
missing() { echo "esp-build: $*" >&2; exit 2; }

command -v idf.py >/dev/null ||
    missing "ESP-IDF not found (idf.py not on PATH). Install ESP-IDF v5.2-v5.4 and run . \$IDF_PATH/export.sh; see README, \"ESP32 family\"."
version=$(idf.py --version 2>/dev/null | sed -n 's/.*v\([0-9]*\.[0-9]*\).*/\1/p' | head -1)
case "$version" in
    5.2 | 5.3 | 5.4) ;;
    *) missing "ESP-IDF v${version:-?} found; MicroPython 1.25 supports v5.2-v5.4" ;;
esac
[ -n "$(ls -A "$mpy/lib/berkeley-db-1.xx" 2>/dev/null)" ] ||
    missing "$mpy has no esp32 submodules: use a MicroPython v1.25 git checkout (MPY_DIR=...) after make -C \$MPY_DIR/ports/esp32 submodules"
board_dir=$mpy/ports/esp32/boards/$board
if [ -n "$variant" ] && [ ! -f "$board_dir/mpconfigvariant_$variant.cmake" ]; then
    missing "$board has no variant $variant in $mpy ($board_dir/mpconfigvariant_$variant.cmake).
  The QEMU variant of ESP32_GENERIC_C3 (OpenETH NIC) is upstream commit f71a2316ee (with b8a9782a2b for
  network.PHY_OPENETH), not in a MicroPython release yet: apply them to your checkout (README, \"ESP32 family\")."
fi
if [ "$toolchain" = esp ]; then
    # Looked up on disk, not through rustup: this build runs offline.
    [ -d "${RUSTUP_HOME:-$HOME/.rustup}/toolchains/esp" ] ||
        missing "Xtensa needs Espressif's Rust toolchain: cargo install espup && espup install && . ~/export-esp.sh"
fi

make -C "$mpy/mpy-cross" >/dev/null
# -D values are cached by CMake: one build dir per board and variant.
idf.py -C "$mpy/ports/esp32" -B "$out" \
    -D MICROPY_BOARD="$board" \
    ${variant:+-D MICROPY_BOARD_VARIANT=$variant} \
    ${manifest:+-D MICROPY_FROZEN_MANIFEST=$manifest} \
    "${modules[@]}" \
    ${toolchain:+-D UMQTT_RS_CARGO_TOOLCHAIN=$toolchain} \
    build
# What the port's own `make` adds after idf.py: the combined firmware.bin.
python3 "$mpy/ports/esp32/makeimg.py" "$out/sdkconfig" "$out/bootloader/bootloader.bin" \
    "$out/partition_table/partition-table.bin" "$out/micropython.bin" "$out/firmware.bin" "$out/micropython.uf2"
if [ "$variant" = QEMU ]; then
    # QEMU takes the whole flash, padded to a size it knows (2, 4, 8, 16 MB).
    size=$(sed -n 's/^CONFIG_ESPTOOLPY_FLASHSIZE="\(.*\)"/\1/p' "$out/sdkconfig")
    (cd "$out" && esptool.py --chip "$idf_target" merge_bin --fill-flash-size "${size:-4MB}" -o flash.bin @flash_args >/dev/null)
    echo "esp-build: $out/flash.bin ($idf_target, $board-$variant, ${size:-4MB}); run: make BOARD=... test-qemu, or"
    echo "  qemu-system-riscv32 -M $idf_target -nographic -drive file=$out/flash.bin,if=mtd,format=raw -nic user,model=open_eth"
else
    echo "esp-build: $out/firmware.bin ($idf_target, $board); flash with: idf.py -C $mpy/ports/esp32 -B $out -p PORT flash"
fi
