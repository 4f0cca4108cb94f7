# ARM Cortex-M3 (MPS2-AN385) under qemu: MicroPython's bare-metal qemu port,
# no network; the tests talk to a scripted broker over an in-memory stream.
PORT := qemu
MPY_BOARD := MPS2_AN385
RUST_TARGET := thumbv7m-none-eabi
FIRMWARE := firmware.elf
# board.c: ports/qemu has no mp_hal_ticks_ms() and no abort().  manifest.py
# freezes the scripted broker of tests/qemu (no filesystem to import it from).
PORT_MAKE_VARS := BOARD=$(MPY_BOARD) FROZEN_MANIFEST=$(TOP)/boards/qemu-arm/manifest.py \
	UMQTT_RS_BOARD_SRC=$(TOP)/boards/qemu-arm/board.c
DEBIAN_PACKAGES := make gcc-arm-none-eabi libnewlib-arm-none-eabi python3-serial
BACKPORTS_PACKAGES := qemu-system-arm
QEMU := qemu-system-arm -machine mps2-an385 -nographic -monitor null -semihosting
SIZE_TOOL := arm-none-eabi-size
# `make BOARD=qemu-arm lib` (the port's make passes its own binutils).
LIB_LD := arm-none-eabi-ld
LIB_OBJCOPY := arm-none-eabi-objcopy
LIB_NM := arm-none-eabi-nm
TEST_KIND := qemu
