# RISC-V RV32IMAC (qemu's virt machine): MicroPython's bare-metal qemu port,
# no network; the tests talk to a scripted broker over an in-memory stream.
# The firmware is built -march=rv32imac_zicsr -mabi=ilp32 (soft-float), so the
# Rust target is riscv32imac-unknown-none-elf.
PORT := qemu
MPY_BOARD := VIRT_RV32
RUST_TARGET := riscv32imac-unknown-none-elf
FIRMWARE := firmware.elf
# LIBS: GCC 12 would otherwise pick the rv64 picolibc for rv32imac_zicsr.
# -m elf32lriscv: Debian's riscv64-unknown-elf-ld prelinks rv32 objects only
# when told the emulation.
PORT_MAKE_VARS := BOARD=$(MPY_BOARD) FROZEN_MANIFEST=$(TOP)/boards/qemu-rv32/manifest.py \
	LIBS=-march=rv32imac UMQTT_RS_LDFLAGS="-m elf32lriscv" \
	UMQTT_RS_BOARD_SRC=$(TOP)/boards/qemu-rv32/board.c
DEBIAN_PACKAGES := make gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf python3-serial
BACKPORTS_PACKAGES := qemu-system-misc
QEMU := qemu-system-riscv32 -machine virt -bios none -nographic -monitor null -semihosting
SIZE_TOOL := riscv64-unknown-elf-size
# `make BOARD=qemu-rv32 lib` (the port's make passes its own binutils).
LIB_LD := riscv64-unknown-elf-ld
LIB_LDFLAGS := -m elf32lriscv
LIB_OBJCOPY := riscv64-unknown-elf-objcopy
LIB_NM := riscv64-unknown-elf-nm
TEST_KIND := qemu
