# ESP32 (Xtensa LX6): MicroPython's esp32 port, built with ESP-IDF
# v5.2-v5.4 (idf.py) and micropython-glue/micropython.cmake.  Xtensa needs
# Espressif's Rust toolchain ("esp", installed by espup) and the Xtensa
# binutils that come with ESP-IDF; neither is installable here, so
# `make BOARD=esp32`, `lib` and `test` say what is missing.
PORT := esp32
MPY_BOARD := ESP32_GENERIC
IDF_TARGET := esp32
RUST_TARGET := xtensa-esp32-none-elf
RUST_TOOLCHAIN := esp
BUILD_KIND := idf
FIRMWARE := firmware.bin
DEBIAN_PACKAGES :=
LIB_LD := xtensa-esp32-elf-ld
LIB_OBJCOPY := xtensa-esp32-elf-objcopy
LIB_NM := xtensa-esp32-elf-nm
TEST_KIND := lib
