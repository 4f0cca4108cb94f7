# ESP32-S3 (Xtensa LX7): MicroPython's esp32 port, built with ESP-IDF
# v5.2-v5.4 (idf.py) and micropython-glue/micropython.cmake.  Xtensa needs
# Espressif's Rust toolchain ("esp", installed by espup) and the Xtensa
# binutils that come with ESP-IDF; neither is installable here, so
# `make BOARD=esp32s3`, `lib` and `test` say what is missing.
PORT := esp32
MPY_BOARD := ESP32_GENERIC_S3
IDF_TARGET := esp32s3
RUST_TARGET := xtensa-esp32s3-none-elf
RUST_TOOLCHAIN := esp
BUILD_KIND := idf
FIRMWARE := firmware.bin
DEBIAN_PACKAGES :=
LIB_LD := xtensa-esp32s3-elf-ld
LIB_OBJCOPY := xtensa-esp32s3-elf-objcopy
LIB_NM := xtensa-esp32s3-elf-nm
TEST_KIND := lib
