# boards/qemu-rv32 without umqtt_rs built in (issue 11): the firmware the
# rv32imc dynamic native module (make natmod ARCH=rv32imc) is tested on; the
# scripted broker of tests/qemu stays frozen in (test support).
include $(TOP)/boards/qemu-rv32/board.mk
UMQTT_RS_MODULE := 0
NATMOD_ARCH := rv32imc
TEST_KIND := qemu-natmod
