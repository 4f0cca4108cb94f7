# ESP32-C6 (RISC-V RV32IMAC, no FPU): MicroPython's esp32 port, built with
# ESP-IDF v5.2-v5.4 (idf.py) and micropython-glue/micropython.cmake.  ESP-IDF
# is not installable here: `make BOARD=esp32c6` needs it (tools/esp-build.sh says
# what is missing); `make BOARD=esp32c6 lib` and `test` build and check the Rust
# object with Debian's RISC-V binutils.
PORT := esp32
MPY_BOARD := ESP32_GENERIC_C6
IDF_TARGET := esp32c6
RUST_TARGET := riscv32imac-unknown-none-elf
BUILD_KIND := idf
FIRMWARE := firmware.bin
DEBIAN_PACKAGES := binutils-riscv64-unknown-elf
LIB_LD := riscv64-unknown-elf-ld
LIB_LDFLAGS := -m elf32lriscv
LIB_OBJCOPY := riscv64-unknown-elf-objcopy
LIB_NM := riscv64-unknown-elf-nm
# tools/check-lib.sh: binutils prefix and the exact ISA of the chip.
LIB_CHECK := riscv64-unknown-elf- rv32imac
# Frozen: the port's manifest + umqtt_rs_robust, umqtt_rs_asyncio.
FROZEN_MANIFEST := $(TOP)/boards/esp32c6/manifest.py
TEST_KIND := lib
