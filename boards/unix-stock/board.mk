# The unix port without umqtt_rs built in (issue 11): a stock firmware, as
# users flash it, for the dynamic native module (.mpy) to be loaded into.
# Same MicroPython source and options as boards/unix, TLS on.
PORT := unix
RUST_TARGET := host
FIRMWARE := micropython
UMQTT_RS_MODULE := 0
PORT_MAKE_VARS := MICROPY_PY_BTREE=0 MICROPY_PY_FFI=0 \
	FROZEN_MANIFEST=$(TOP)/boards/unix-stock/manifest.py PROG=micropython
DEBIAN_PACKAGES := build-essential pkg-config libmbedtls-dev
SIZE_TOOL := size
TEST_KIND := stock
