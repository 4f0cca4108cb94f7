# Linux/macOS unix port: the development and test firmware (TLS via mbedTLS).
PORT := unix
RUST_TARGET := host
FIRMWARE := micropython
PORT_MAKE_VARS := MICROPY_PY_BTREE=0 MICROPY_PY_FFI=0 \
	FROZEN_MANIFEST=$(TOP)/boards/unix/manifest.py PROG=micropython
DEBIAN_PACKAGES := build-essential pkg-config libmbedtls-dev
SIZE_TOOL := size
TEST_KIND := unix
