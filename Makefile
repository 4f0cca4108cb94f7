# umqtt_rs: build MicroPython firmware with the native MQTT client, test it.
#
#   make            firmware for BOARD (default unix) -> build/<board>/...
#   make demo       firmware + a local mosquitto + a publish/subscribe round trip
#   make test       everything: Rust tests, lints, bindings, firmware tests
#   make bench      benchmarks: umqtt_rs vs umqtt.simple vs libmosquitto
#                   (not part of make test; see docs/benchmarks.md)
#   make lib        only the prelinked Rust object for BOARD
#   make bindings   regenerate src/ffi/bindings.rs from micropython-glue/umqtt_rs.h
#   make fuzz       run each cargo-fuzz target for FUZZ_SECONDS (default 60)
#
# MPY_DIR=/path/to/micropython uses your own MicroPython checkout (v1.24+);
# otherwise the pinned 1.25 source is fetched into build/micropython.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BOARD ?= unix
BOARD_DIR := $(TOP)/boards/$(BOARD)
ifeq ($(wildcard $(BOARD_DIR)/board.mk),)
$(error unknown BOARD '$(BOARD)': see boards/)
endif
include $(BOARD_DIR)/board.mk

OUT ?= $(TOP)/build/$(BOARD)
MPY_DIR ?= $(TOP)/build/micropython
PYTHON ?= python3
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Debian packages the tests and the demo need on top of the board's.
TEST_PACKAGES := mosquitto mosquitto-clients openssl dpkg-dev libclang-dev

FUZZ_SECONDS ?= 60

.PHONY: fuzz all firmware lib demo test deps mpy-source check-rust check-bindings \
	bindings test-firmware clean distclean

all: firmware

deps:
	@$(TOP)/tools/deps.sh $(DEBIAN_PACKAGES) $(TEST_PACKAGES)
	@$(TOP)/tools/rust-setup.sh

mpy-source:
ifeq ($(MPY_DIR),$(TOP)/build/micropython)
	@$(TOP)/tools/fetch-micropython.sh $(MPY_DIR)
else
	@test -f $(MPY_DIR)/py/mpconfig.h || { echo "MPY_DIR=$(MPY_DIR) is not a MicroPython tree"; exit 1; }
endif

# The Rust object alone (the port's make builds it too, through micropython.mk).
lib:
	@$(TOP)/tools/build-lib.sh $(RUST_TARGET) $(OUT)/umqtt_rs_core.o

firmware: mpy-source
	@$(TOP)/tools/deps.sh $(DEBIAN_PACKAGES)
	$(MAKE) -C $(MPY_DIR)/mpy-cross -j$(JOBS) >/dev/null
	@# Frozen code names the qstrs missing from the main table: when the
	@# module adds one, the port's make does not regenerate it.
	rm -f $(OUT)/frozen_content.c
	$(MAKE) -C $(MPY_DIR)/ports/$(PORT) -j$(JOBS) BUILD=$(OUT) \
		USER_C_MODULES=$(TOP) UMQTT_RS_TARGET=$(RUST_TARGET) \
		UMQTT_RS_OBJ=$(OUT)/umqtt_rs_core.o $(PORT_MAKE_VARS)
	@echo "firmware: $(OUT)/$(FIRMWARE)"

demo: deps firmware
	$(PYTHON) $(TOP)/tools/broker.py run -- $(OUT)/$(FIRMWARE) $(TOP)/examples/roundtrip.py

check-rust:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
	cargo test

check-bindings:
	$(TOP)/tools/bindings.sh --check

bindings:
	$(TOP)/tools/bindings.sh

# The MicroPython tests (.py + .exp) and the examples on the firmware, against
# a mosquitto and a fake broker that tools/broker.py starts and stops.
test-firmware: firmware
	$(PYTHON) $(TOP)/tools/broker.py run -- $(TOP)/tools/run-mpy-tests.sh $(OUT)/$(FIRMWARE) $(MPY_DIR)
	$(PYTHON) $(TOP)/tools/broker.py run -- $(TOP)/tests/examples.sh $(OUT)/$(FIRMWARE)

test: deps check-rust check-bindings test-firmware
	@echo "make test: all passed"

# Benchmarks on the unix firmware against a private mosquitto; a table on
# stdout and build/bench/results.json.  BENCH_ARGS="--quick" for a smoke run.
BENCH_PACKAGES := libmosquitto-dev valgrind mosquitto
.PHONY: bench
bench: firmware
	@test "$(PORT)" = unix || { echo "make bench needs BOARD=unix"; exit 1; }
	@$(TOP)/tools/deps.sh $(BENCH_PACKAGES)
	$(PYTHON) $(TOP)/bench/bench.py --firmware $(OUT)/$(FIRMWARE) --obj-dir $(OUT) \
		--mpy-dir $(MPY_DIR) --out $(TOP)/build/bench $(BENCH_ARGS)

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(TOP)/tools/fuzz.sh

clean:
	rm -rf $(OUT) $(TOP)/target

distclean:
	rm -rf $(TOP)/build $(TOP)/target
