# boards/qemu-arm without umqtt_rs built in (issue 11): the firmware the
# armv7m dynamic native module (make natmod ARCH=armv7m) is tested on.  The
# scripted broker of tests/qemu stays frozen in (test support, not the
# module); tools/run-natmod-qemu.py puts the .mpy into the running firmware.
include $(TOP)/boards/qemu-arm/board.mk
UMQTT_RS_MODULE := 0
NATMOD_ARCH := armv7m
# A Cortex-M3 firmware loads armv6m code too: the RP2040 build runs here.
NATMOD_ALSO := armv6m
TEST_KIND := qemu-natmod
