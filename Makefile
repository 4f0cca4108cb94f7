# umqtt_rs: build MicroPython firmware with the native MQTT client, test it.
#
#   make            firmware for BOARD (default unix) -> build/<board>/...
#   make demo       firmware + a local mosquitto + a publish/subscribe round trip
#   make test       everything: Rust tests, lints, bindings, firmware tests
#                   (and on unix the same with MQTT 5 built in: test-mqtt5)
#                   (the reliability test's short run, test-reliability-short:
#                   200+ cuts a side)
#   make test-reliability
#                   the reliability test at full size: 1,000+ random cuts on
#                   the publisher's side and 1,000+ on the subscriber's
#                   (RELIABILITY_CUTS=N for another size; tests/reliability/run.py)
#   make test-reliability-mqtt5
#                   its cuts, restart and power-cut scenarios with MQTT 5 clients
#   make bench      benchmarks: umqtt_rs vs umqtt.simple vs libmosquitto
#                   (not part of make test; see docs/benchmarks.md)
#   make lib        only the prelinked Rust object for BOARD
#                   (MQTT5=1 on any target: the core with MQTT 5)
#   make bindings   regenerate src/ffi/bindings.rs from micropython-glue/umqtt_rs.h
#   make fuzz       run each cargo-fuzz target for FUZZ_SECONDS (default 60)
#   make natmod ARCH=x64|armv6m|armv7m|armv7emsp|rv32imc
#                   umqtt_rs as a dynamic native module for stock firmware:
#                   build/natmod/<arch>/umqtt_rs.mpy (see "Install on stock
#                   firmware" in the README; xtensawin needs Espressif's Rust)
#   make BOARD=esp32c3 [VARIANT=QEMU]
#                   ESP32 firmware with ESP-IDF (IDF_PATH) and a MicroPython
#                   git checkout (MPY_DIR); QEMU: OpenETH + a flash image
#   make BOARD=esp32c3 test-qemu (bench-qemu, size-esp)
#                   that image under Espressif's QEMU (QEMU=...): the
#                   MicroPython tests, examples and a broker restart
#                   against mosquitto, on the device (rates; growth, heap)
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
# 1: MQTT 5 besides 3.1.1 (cargo feature mqtt5, the glue's urs_v5.c:
# MQTTClient(..., protocol=5)); build it into its own OUT=.  0, the
# default for now: MQTT 3.1.1 only (MQTT 5 costs ~24 KB on Cortex-M3,
# docs/size.md).  tools/build-lib.sh and micropython-glue read it from the
# environment, also when the port's make calls them.
MQTT5 ?= 0
export UMQTT_RS_MQTT5 := $(MQTT5)

# VARIANT: a board variant of the port (esp32: QEMU), built apart.
VARIANT ?=
OUT ?= $(TOP)/build/$(BOARD)$(if $(VARIANT),-$(VARIANT))
MPY_DIR ?= $(TOP)/build/micropython
PYTHON ?= python3
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# Debian packages the tests and the demo need on top of the board's.
TEST_PACKAGES := mosquitto mosquitto-clients openssl dpkg-dev libclang-dev python3-paho-mqtt

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
	@# MQTT 5's wire layer (the mqtt5 feature, off in the firmware by default).
	cargo clippy --all-targets --features mqtt5 -- -D warnings
	cargo test --features mqtt5

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

# The cuts, restart and power-cut scenarios with MQTT 5 clients (the MQTT 5
# firmware).
.PHONY: test-reliability-mqtt5
test-reliability-mqtt5: deps
	$(MAKE) MQTT5=1 OUT=$(TOP)/build/$(BOARD)-mqtt5 firmware
	$(PYTHON) $(TOP)/tests/reliability/run.py --firmware $(TOP)/build/$(BOARD)-mqtt5/$(FIRMWARE) --cuts $(RELIABILITY_CUTS) --protocol 5 $(RELIABILITY_ARGS)
	$(PYTHON) $(TOP)/tests/reliability/power_cut.py --firmware $(TOP)/build/$(BOARD)-mqtt5/$(FIRMWARE) --protocol 5 $(POWERCUT_ARGS)

test-reliability-short:
	$(MAKE) test-reliability RELIABILITY_CUTS=200 POWERCUT_ARGS="--messages 1000 --kills 30"

# The same MicroPython tests on a unix firmware built with MQTT 5
# (MQTT5=1, build/unix-mqtt5): the 3.1.1 tests unchanged, and the
# tests/micropython/mqtt5_*.py ones, which SKIP on a firmware without it.
.PHONY: test-mqtt5
test-mqtt5: deps
	$(MAKE) MQTT5=1 OUT=$(TOP)/build/$(BOARD)-mqtt5 firmware
	$(PYTHON) $(TOP)/tools/broker.py run -- $(TOP)/tools/run-mpy-tests.sh $(TOP)/build/$(BOARD)-mqtt5/$(FIRMWARE) $(MPY_DIR)
	@# paho-mqtt (Debian's, hence /usr/bin/python3) as an independent MQTT 5 peer.
	/usr/bin/python3 $(TOP)/tests/mqtt5/paho_crosscheck.py $(TOP)/build/$(BOARD)-mqtt5/$(FIRMWARE)
	$(PYTHON) $(TOP)/tests/mqtt5/oversize.py $(TOP)/build/$(BOARD)-mqtt5/$(FIRMWARE)
	@# Exactly once in MQTT 5 under cuts at any byte, short (make test-reliability-mqtt5: full).
	$(PYTHON) $(TOP)/tests/reliability/run.py --firmware $(TOP)/build/$(BOARD)-mqtt5/$(FIRMWARE) --cuts 200 --protocol 5 cuts
	$(PYTHON) $(TOP)/tests/reliability/power_cut.py --firmware $(TOP)/build/$(BOARD)-mqtt5/$(FIRMWARE) --protocol 5 --messages 1000 --kills 30
	$(PYTHON) $(TOP)/tools/check-stubs.py $(TOP)/build/$(BOARD)-mqtt5/$(FIRMWARE)

ifeq ($(TEST_KIND),unix)
test: deps check-rust check-bindings test-firmware test-mqtt5 test-host test-reliability-short test-boards
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
	@# Stock firmware (no module built in) with the dynamic native module.
	$(MAKE) BOARD=unix-stock OUT=$(TOP)/build/unix-stock test
	$(MAKE) BOARD=qemu-arm-stock OUT=$(TOP)/build/qemu-arm-stock test
	$(MAKE) BOARD=qemu-rv32-stock OUT=$(TOP)/build/qemu-rv32-stock test
	@# Every architecture builds (armv6m, armv7emsp: no firmware here to run).
	$(MAKE) natmod-all

ifeq ($(TEST_KIND),qemu)
# tests/qemu on the firmware under qemu: a scripted broker, no network.
test-board: deps-board firmware
	$(TOP)/tools/run-qemu-tests.sh "$(QEMU)" $(OUT)/$(FIRMWARE) $(MPY_DIR)
else ifeq ($(TEST_KIND),lib)
# Chips this machine cannot run: check the object their firmware links, and
# that building it calls no rustup (ESP-IDF builds must work offline).
test-board: check-lib check-offline-build
else ifeq ($(TEST_KIND),stock)
# A firmware without the module: it has TLS and asyncio and no umqtt_rs of
# its own (MICROPYPATH=.frozen: nothing found on disk); then the x64 natmod
# installed beside it passes the same tests as the built-in module: tests/
# micropython against mosquitto, tests/qemu, and the type stubs; and `mip`
# installs it (tests/natmod/mip_install.py).
test-board: deps-board firmware
	MICROPYPATH=.frozen $(OUT)/$(FIRMWARE) -c "import tls, socket, asyncio; print('$(BOARD): tls, socket, asyncio')"
	@! MICROPYPATH=.frozen $(OUT)/$(FIRMWARE) -c "import umqtt_rs" 2>/dev/null || \
		{ echo "$(BOARD): umqtt_rs is built in"; exit 1; }
	@echo "$(BOARD): no umqtt_rs built in"
	$(MAKE) natmod ARCH=x64
	UMQTT_RS_LIB=$(TOP)/build/natmod/x64/lib $(PYTHON) $(TOP)/tools/broker.py run -- \
		$(TOP)/tools/run-mpy-tests.sh $(OUT)/$(FIRMWARE) $(MPY_DIR)
	UMQTT_RS_LIB=$(TOP)/build/natmod/x64/lib $(TOP)/tools/run-mpy-tests.sh $(OUT)/$(FIRMWARE) $(MPY_DIR) \
		$(TOP)/tests/qemu/*.py
	UMQTT_RS_LIB=$(TOP)/build/natmod/x64/lib UMQTT_RS_STOCK=$(OUT)/$(FIRMWARE) \
		$(PYTHON) $(TOP)/tools/check-stubs.py $(TOP)/tools/mpy-natmod.sh
	@# Installed with the firmware's own mip from a web server, then used.
	$(PYTHON) $(TOP)/tests/natmod/mip_install.py $(OUT)/$(FIRMWARE) $(TOP)/build/natmod/x64/lib
else ifeq ($(TEST_KIND),qemu-natmod)
# A qemu firmware without the module: the board's natmod (NATMOD_ARCH, and
# NATMOD_ALSO: older architectures it loads too) put in through the raw REPL
# passes tests/qemu (tools/run-natmod-qemu.py).
test-board: deps-board firmware
	for a in $(ARCH) $(NATMOD_ALSO); do \
		$(MAKE) natmod ARCH=$$a && \
		/usr/bin/python3 $(TOP)/tools/run-natmod-qemu.py "$(QEMU)" $(OUT)/$(FIRMWARE) \
			$(TOP)/build/natmod/$$a/umqtt_rs.mpy $(MPY_DIR) || exit 1; done
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
# Firmware growth with the module (docs/size.md): the QEMU variant built
# again without it (same MicroPython, board and variant) into
# build/<board>-QEMU-stock; tools/esp-size.py compares the images, sections
# and objects; `esp_qemu.py mem` boots both for the heap figures.
.PHONY: size-esp
size-esp: qemu-firmware
	$(TOP)/tools/esp-build.sh $(IDF_TARGET) $(MPY_BOARD) $(QEMU_OUT)-stock $(MPY_DIR) "" QEMU "" stock
	$(PYTHON) $(TOP)/tools/esp-size.py $(QEMU_OUT) $(QEMU_OUT)-stock
	$(ESP_QEMU) mem --stock $(QEMU_OUT)-stock/flash.bin
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
	@# The natmod rows: the stock firmware and the x64 .mpy.
	$(MAKE) BOARD=unix-stock OUT=$(TOP)/build/unix-stock firmware
	$(MAKE) natmod ARCH=x64
	$(PYTHON) $(TOP)/bench/bench.py --firmware $(OUT)/$(FIRMWARE) --obj-dir $(OUT) \
		--mpy-dir $(MPY_DIR) --out $(TOP)/build/bench \
		--stock-firmware $(TOP)/build/unix-stock/micropython --natmod-lib $(TOP)/build/natmod/x64/lib \
		$(BENCH_ARGS)

# ---- Dynamic native module (.mpy) ----------------------------------------
# Per MicroPython architecture: the Rust target, and the binutils that
# prelink the core (position-independent: UMQTT_RS_PIC=1).  ARCH from the
# command line, else the board's NATMOD_ARCH (boards/*-stock), else x64 (an
# ARCH in the environment is someone else's).
ifeq ($(origin ARCH),command line)
NATMOD_SEL := $(ARCH)
else
NATMOD_SEL := $(or $(NATMOD_ARCH),x64)
endif
override ARCH := $(NATMOD_SEL)
NATMOD_OUT = $(TOP)/build/natmod/$(ARCH)
NATMOD_ARCHS := x64 armv6m armv7m armv7emsp rv32imc
ifeq ($(ARCH),x64)
NATMOD_RUST := x86_64-unknown-linux-gnu
NATMOD_BINUTILS :=
else ifeq ($(ARCH),armv6m)
NATMOD_RUST := thumbv6m-none-eabi
NATMOD_BINUTILS := arm-none-eabi-
else ifeq ($(ARCH),armv7m)
NATMOD_RUST := thumbv7m-none-eabi
NATMOD_BINUTILS := arm-none-eabi-
else ifeq ($(ARCH),armv7emsp)
NATMOD_RUST := thumbv7em-none-eabihf
NATMOD_BINUTILS := arm-none-eabi-
else ifeq ($(ARCH),rv32imc)
NATMOD_RUST := riscv32imc-unknown-none-elf
NATMOD_BINUTILS := riscv64-unknown-elf-
NATMOD_LDFLAGS := -m elf32lriscv
else ifeq ($(ARCH),xtensawin)
NATMOD_RUST := xtensa-esp32-none-elf
NATMOD_BINUTILS := xtensa-esp32-elf-
NATMOD_TOOLCHAIN := esp
endif
# 1: link libgcc's helpers the code calls (mpy_ld.py needs PyPI's `ar` for
# that); none is needed: urs_natmod.c has armv6m's __aeabi_lmul.
NATMOD_LINK_RUNTIME ?= 0
# NATMOD_URL=https://<host>/<path>: the package.json names its files there
# (mip on the board takes only absolute URLs); else relative (mpremote).
NATMOD_URL ?=
# mpy_ld.py needs pyelftools: Debian's, for Debian's python3 (a pyenv or
# venv python3 on PATH may lack it).
NATMOD_PYTHON := /usr/bin/python3
NATMOD_PACKAGES := gcc-arm-none-eabi binutils-riscv64-unknown-elf gcc-riscv64-unknown-elf \
	picolibc-riscv64-unknown-elf python3-pyelftools

.PHONY: natmod natmod-all natmod-deps
natmod: mpy-source natmod-deps
	@test -n "$(NATMOD_RUST)" || { echo "natmod: unknown ARCH '$(ARCH)': one of $(NATMOD_ARCHS) xtensawin"; exit 2; }
ifeq ($(NATMOD_TOOLCHAIN),esp)
	@rustup toolchain list 2>/dev/null | grep -q '^esp' || { \
		echo "natmod: ARCH=xtensawin needs Espressif's Rust toolchain (xtensa-esp32-none-elf),"; \
		echo "  not installable here: cargo install espup && espup install && . ~/export-esp.sh"; \
		echo "  and xtensa-esp32-elf-gcc on PATH (ESP-IDF's export.sh)"; exit 2; }
else
	@$(TOP)/tools/rust-setup.sh $(NATMOD_RUST)
endif
	$(MAKE) -C $(MPY_DIR)/mpy-cross -j$(JOBS) >/dev/null
	@mkdir -p $(NATMOD_OUT)
	@UMQTT_RS_PIC=1 NM=$(NATMOD_BINUTILS)nm AR=$(NATMOD_BINUTILS)ar \
		UMQTT_RS_CARGO_TOOLCHAIN=$(NATMOD_TOOLCHAIN) $(TOP)/tools/build-lib.sh \
		$(NATMOD_RUST) $(NATMOD_OUT)/umqtt_rs_core.o $(NATMOD_BINUTILS)ld \
		$(NATMOD_BINUTILS)objcopy "$(NATMOD_LDFLAGS)"
	@ln -sf $(TOP)/micropython-glue/natmod/Makefile $(NATMOD_OUT)/Makefile
	$(MAKE) -C $(NATMOD_OUT) ARCH=$(ARCH) MPY_DIR=$(MPY_DIR) LINK_RUNTIME=$(NATMOD_LINK_RUNTIME) \
		PYTHON=$(NATMOD_PYTHON) UMQTT_RS_OBJ=$(NATMOD_OUT)/umqtt_rs_core.o
	@# What `mip install` puts in /lib: the module and the Python layers
	@# as bytecode.
	@mkdir -p $(NATMOD_OUT)/lib
	cp $(NATMOD_OUT)/umqtt_rs.mpy $(NATMOD_OUT)/lib/
	for m in umqtt_rs_robust umqtt_rs_asyncio; do \
		$(MPY_DIR)/mpy-cross/build/mpy-cross -o $(NATMOD_OUT)/lib/$$m.mpy $(TOP)/micropython-glue/python/$$m.py || exit 1; done
	cp $(TOP)/micropython-glue/python/*.pyi $(NATMOD_OUT)/lib/
	$(PYTHON) $(TOP)/tools/natmod-package.py $(NATMOD_OUT)/lib \
		$$(sed -n 's/^version = "\(.*\)"/\1/p' $(TOP)/Cargo.toml | head -1) $(ARCH) "$(NATMOD_URL)"
	@echo "natmod: $(NATMOD_OUT)/umqtt_rs.mpy, $(NATMOD_OUT)/lib/"

natmod-all:
	@for a in $(NATMOD_ARCHS); do $(MAKE) --no-print-directory natmod ARCH=$$a || exit 1; done

natmod-deps:
	@$(TOP)/tools/deps.sh $(NATMOD_PACKAGES)

fuzz:
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(TOP)/tools/fuzz.sh

clean:
	rm -rf $(OUT) $(TOP)/target

distclean:
	rm -rf $(TOP)/build $(TOP)/target
