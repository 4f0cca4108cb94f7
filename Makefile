# umqtt_rs: build MicroPython firmware with the native MQTT client, test it.
#
#   make            firmware for BOARD (default unix) -> build/<board>/...
#   make demo       firmware + a local mosquitto + a publish/subscribe round trip
#   make test       everything: Rust tests, lints, bindings, firmware tests
#                   (the reliability test's short run, test-reliability-short:
#                   200+ cuts a side)
#   make test-reliability
#                   the reliability test at full size: 1,000+ random cuts on
#                   the publisher's side and 1,000+ on the subscriber's
#                   (RELIABILITY_CUTS=N for another size; tests/reliability/run.py)
#   make bench      benchmarks: umqtt_rs vs umqtt.simple vs libmosquitto
#                   (not part of make test; see docs/benchmarks.md)
#   make lib        only the prelinked Rust object for BOARD
#   make bindings   regenerate src/ffi/bindings.rs from micropython-glue/umqtt_rs.h
#   make fuzz       run each cargo-fuzz target for FUZZ_SECONDS (default 60)
#   make BOARD=esp32c3 [VARIANT=QEMU]
#                   ESP32 firmware with ESP-IDF (IDF_PATH) and a MicroPython
#                   git checkout (MPY_DIR); QEMU: OpenETH + a flash image
#   make BOARD=esp32c3 test-qemu (bench-qemu)
#                   that image under Espressif's QEMU (QEMU=...): the
#                   MicroPython tests against mosquitto, on the device
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
# What a board.mk may leave out (docs/boards.md lists every variable).
BUILD_KIND ?= make
TEST_KIND ?= none
RUST_TOOLCHAIN ?=
LIB_LD ?= ld
LIB_OBJCOPY ?= objcopy
LIB_NM ?= nm
# 0: build the firmware without the module (the baseline of `make size`).
UMQTT_RS_MODULE ?= 1

# VARIANT: a board variant of the port (esp32: QEMU), built apart.
VARIANT ?=
OUT ?= $(TOP)/build/$(BOARD)$(if $(VARIANT),-$(VARIANT))
MPY_DIR ?= $(TOP)/build/micropython
PYTHON ?= python3
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Debian packages the tests and the demo need on top of the board's.
TEST_PACKAGES := mosquitto mosquitto-clients openssl dpkg-dev libclang-dev

FUZZ_SECONDS ?= 60

.PHONY: test-host test-reliability test-reliability-short
.PHONY: fuzz all firmware lib demo test deps mpy-source check-rust check-bindings \
	bindings test-firmware clean distclean deps-board test-board test-boards \
	check-lib check-offline-build size

all: firmware

# The Rust target is installed here, never inside a firmware build (which
# must work offline: tools/check-offline-build.sh).
deps:
	@$(TOP)/tools/deps.sh $(DEBIAN_PACKAGES) $(TEST_PACKAGES)
	@$(TOP)/tools/rust-setup.sh $(if $(filter esp,$(RUST_TOOLCHAIN)),,$(filter-out host,$(RUST_TARGET)))

mpy-source:
ifeq ($(MPY_DIR),$(TOP)/build/micropython)
	@$(TOP)/tools/fetch-micropython.sh $(MPY_DIR)
else
	@test -f $(MPY_DIR)/py/mpconfig.h || { echo "MPY_DIR=$(MPY_DIR) is not a MicroPython tree"; exit 1; }
endif

# The Rust object alone (the port's make builds it too, through micropython.mk).
lib: deps-board
	@NM=$(LIB_NM) UMQTT_RS_CARGO_TOOLCHAIN=$(RUST_TOOLCHAIN) $(TOP)/tools/build-lib.sh \
		$(RUST_TARGET) $(OUT)/umqtt_rs_core.o $(LIB_LD) $(LIB_OBJCOPY) "$(LIB_LDFLAGS)"

# What the board's build and tests need on this machine: Debian packages
# (qemu from bookworm-backports), the Rust target or Espressif's toolchain.
deps-board:
	@$(TOP)/tools/deps.sh $(DEBIAN_PACKAGES)
	@$(if $(BACKPORTS_PACKAGES),$(TOP)/tools/deps-backports.sh $(BACKPORTS_PACKAGES))
ifeq ($(RUST_TOOLCHAIN),esp)
	@rustup toolchain list 2>/dev/null | grep -q '^esp' || { \
		echo "$(BOARD): $(RUST_TARGET) needs Espressif's Rust toolchain, not installable here:"; \
		echo "  cargo install espup && espup install && . ~/export-esp.sh"; \
		echo "  and ESP-IDF v5.2-v5.4 for the Xtensa binutils (see README, \"Build for your board\")"; \
		exit 2; }
else
	@$(TOP)/tools/rust-setup.sh $(filter-out host,$(RUST_TARGET))
endif

ifeq ($(BUILD_KIND),idf)
# ESP32 chips: MicroPython's esp32 port through idf.py (tools/esp-build.sh
# says what is missing when ESP-IDF, the submodules or the toolchain are).
# Needs no network: the Rust target comes from `make BOARD=... deps`.
firmware:
	@$(TOP)/tools/esp-build.sh $(IDF_TARGET) $(MPY_BOARD) $(OUT) $(MPY_DIR) "$(RUST_TOOLCHAIN)" \
		"$(VARIANT)" "$(FROZEN_MANIFEST)"
else
firmware: mpy-source
	@$(TOP)/tools/deps.sh $(DEBIAN_PACKAGES)
	$(MAKE) -C $(MPY_DIR)/mpy-cross -j$(JOBS) >/dev/null
	@# Frozen code names the qstrs missing from the main table: when the
	@# module adds one, the port's make does not regenerate it.
	rm -f $(OUT)/frozen_content.c
	$(MAKE) -C $(MPY_DIR)/ports/$(PORT) -j$(JOBS) BUILD=$(OUT) \
		USER_C_MODULES=$(TOP) UMQTT_RS_TARGET=$(RUST_TARGET) \
		UMQTT_RS_OBJ=$(OUT)/umqtt_rs_core.o UMQTT_RS_MODULE=$(UMQTT_RS_MODULE) \
		$(PORT_MAKE_VARS)
	@echo "firmware: $(OUT)/$(FIRMWARE)"
endif

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
	@# The scripted-broker tests of the qemu boards need no network: unix too.
	$(TOP)/tools/run-mpy-tests.sh $(OUT)/$(FIRMWARE) $(MPY_DIR) $(TOP)/tests/qemu/*.py
	@# The type stubs (micropython-glue/python/*.pyi) name what the firmware has.
	$(PYTHON) $(TOP)/tools/check-stubs.py $(OUT)/$(FIRMWARE)

# Host-side Python tests: the fault-injection proxy (tools/faultproxy.py).
test-host:
	$(PYTHON) -m unittest discover -s $(TOP)/tests/host

# Reliability on the unix firmware through tools/faultproxy.py: 10,000 QoS 1 +
# 10,000 QoS 2 messages (or 40 per cut) with RELIABILITY_CUTS+ random cuts on
# each side (publisher, subscriber) against mosquitto's unbounded re-sends:
# 0 lost, no QoS 2 duplicate beyond the broker's re-sends of released ids
# that the subscriber's proxy counts; then a mosquitto restart mid-stream
# (tests/reliability/run.py, ~15-30 s; ~1 min full size); the session
# crossing a process boundary, as in deep sleep (tests/reliability/
# deep_sleep.py); publisher and subscriber killed at random and restarted
# from their session files (tests/reliability/power_cut.py, ~25 s; ~8 s
# short); and the regression tests of the QoS 2 bugs it found
# (tests/reliability/repro/).
RELIABILITY_CUTS ?= 1000
# The power-cut test: 5,000 QoS 1 + 5,000 QoS 2 messages, 100+ kills.
POWERCUT_ARGS ?= --messages 5000 --kills 100
test-reliability: firmware
	$(PYTHON) $(TOP)/tests/reliability/run.py --firmware $(OUT)/$(FIRMWARE) --cuts $(RELIABILITY_CUTS) $(RELIABILITY_ARGS)
	$(PYTHON) $(TOP)/tests/reliability/deep_sleep.py $(OUT)/$(FIRMWARE)
	$(PYTHON) $(TOP)/tests/reliability/power_cut.py --firmware $(OUT)/$(FIRMWARE) $(POWERCUT_ARGS)
	for t in $(TOP)/tests/reliability/repro/*.py; do \
		$(PYTHON) $$t $(OUT)/$(FIRMWARE) >/dev/null || { echo "FAIL $$t"; exit 1; }; \
		echo "pass  $$t"; done

test-reliability-short:
	$(MAKE) test-reliability RELIABILITY_CUTS=200 POWERCUT_ARGS="--messages 1000 --kills 30"

ifeq ($(TEST_KIND),unix)
test: deps check-rust check-bindings test-firmware test-host test-reliability-short test-boards
	@echo "make test: all passed"
else
test: test-board
	@echo "make BOARD=$(BOARD) test: all passed"
endif

# The other boards this machine can test, each in its own build folder.
test-boards:
	$(MAKE) BOARD=qemu-arm OUT=$(TOP)/build/qemu-arm test
	$(MAKE) BOARD=qemu-rv32 OUT=$(TOP)/build/qemu-rv32 test
	$(MAKE) BOARD=esp32c3 OUT=$(TOP)/build/esp32c3 test

ifeq ($(TEST_KIND),qemu)
# tests/qemu on the firmware under qemu: a scripted broker, no network.
test-board: deps-board firmware
	$(TOP)/tools/run-qemu-tests.sh "$(QEMU)" $(OUT)/$(FIRMWARE) $(MPY_DIR)
else ifeq ($(TEST_KIND),lib)
# Chips this machine cannot run: check the object their firmware links, and
# that building it calls no rustup (ESP-IDF builds must work offline).
test-board: check-lib check-offline-build
else ifeq ($(TEST_KIND),stock)
# A firmware without the module: it runs, has TLS and asyncio, and has no
# umqtt_rs of its own (MICROPYPATH=.frozen: nothing found on disk).
test-board: deps-board firmware
	MICROPYPATH=.frozen $(OUT)/$(FIRMWARE) -c "import tls, socket, asyncio; print('$(BOARD): tls, socket, asyncio')"
	@! MICROPYPATH=.frozen $(OUT)/$(FIRMWARE) -c "import umqtt_rs" 2>/dev/null || \
		{ echo "$(BOARD): umqtt_rs is built in"; exit 1; }
	@echo "$(BOARD): no umqtt_rs built in"
else
test-board:
	@echo "make BOARD=$(BOARD) test: nothing to test on this machine"; exit 2
endif

# The Rust object for the board: ELF flags, ISA, exports (tools/check-lib.sh).
check-lib: lib
	$(if $(LIB_CHECK),$(TOP)/tools/check-lib.sh $(OUT)/umqtt_rs_core.o $(LIB_CHECK),@echo "check-lib: no check for $(BOARD)")

check-offline-build: deps-board
	$(TOP)/tools/check-offline-build.sh $(RUST_TARGET) $(LIB_LD) $(LIB_OBJCOPY) $(LIB_NM) "$(LIB_LDFLAGS)"

# ESP32 under Espressif's QEMU (developer-run; needs ESP-IDF, a MicroPython
# checkout with the QEMU variant, and a qemu-system-riscv32 with the esp32c3
# machine: QEMU=path, default from PATH).  The QEMU variant is built into
# build/<board>-QEMU; tools/esp_qemu.py boots it with a private
# mosquitto reached through user-mode networking restricted to it, and runs
# tests/micropython on the device (TESTS="name ..." for some of them).
# Needs socat (QEMU's guestfwd runs one per guest connection).
ifeq ($(BUILD_KIND),idf)
QEMU ?= qemu-system-riscv32
QEMU_OUT := $(TOP)/build/$(BOARD)-QEMU
ESP_QEMU = $(PYTHON) $(TOP)/tools/esp_qemu.py --qemu "$(QEMU)" --machine $(IDF_TARGET) \
	--flash $(QEMU_OUT)/flash.bin
.PHONY: qemu-firmware test-qemu bench-qemu
qemu-firmware:
	$(MAKE) BOARD=$(BOARD) VARIANT=QEMU OUT=$(QEMU_OUT) firmware
test-qemu: qemu-firmware
	$(ESP_QEMU) test $(TESTS)
# On-target rates, umqtt_rs vs umqtt.simple frozen in the same firmware
# (BENCH_ARGS="--runs 5", see tools/esp_qemu.py bench --help).
bench-qemu: qemu-firmware
	$(ESP_QEMU) bench $(BENCH_ARGS)
endif

# Firmware growth with the module, per board built here (docs/size.md).
size: mpy-source
	$(TOP)/tools/size.sh unix qemu-arm qemu-rv32

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
