# micropython.mk: the umqtt_rs user C module for make-based ports.
#   make -C ports/<port> USER_C_MODULES=<path to the umqtt_rs checkout> \
#        UMQTT_RS_TARGET=<rust target triple, or "host">
# The top-level Makefile of umqtt_rs sets these for every board it knows.

UMQTT_RS_DIR := $(USERMOD_DIR)
UMQTT_RS_TOP := $(abspath $(UMQTT_RS_DIR)/..)
UMQTT_RS_TARGET ?= host
UMQTT_RS_OBJ ?= $(BUILD)/umqtt_rs_core.o

# Board support a port lacks (boards/<board>/, e.g. a clock for ports/qemu).
SRC_USERMOD_LIB_C += $(UMQTT_RS_BOARD_SRC)

# UMQTT_RS_MODULE=0 leaves the module out (the baseline of `make size`).
ifneq ($(UMQTT_RS_MODULE),0)
SRC_USERMOD_C += $(UMQTT_RS_DIR)/modumqtt_rs.c $(UMQTT_RS_DIR)/urs_io.c \
	$(UMQTT_RS_DIR)/urs_delivery.c $(UMQTT_RS_DIR)/urs_transport.c $(UMQTT_RS_DIR)/urs_session.c \
	$(UMQTT_RS_DIR)/urs_publish.c $(UMQTT_RS_DIR)/urs_subscribe.c $(UMQTT_RS_DIR)/urs_v5.c $(UMQTT_RS_DIR)/urs_auth.c $(UMQTT_RS_DIR)/urs_request.c
CFLAGS_USERMOD += -I$(UMQTT_RS_DIR)
# The glue's MQTT 5 part with a core built with it (UMQTT_RS_MQTT5=1, which
# the top-level Makefile's MQTT5=1 exports; tools/build-lib.sh reads it too).
ifeq ($(UMQTT_RS_MQTT5),1)
CFLAGS_USERMOD += -DUMQTT_RS_MQTT5=1
endif
# make tracks no flags (nor the qstrs they bring): a build folder keeps the
# setting it was built with.
UMQTT_RS_MQTT5_WAS := $(shell cat $(BUILD)/umqtt_rs_mqtt5 2>/dev/null)
ifneq ($(UMQTT_RS_MQTT5_WAS),)
ifneq ($(UMQTT_RS_MQTT5_WAS),$(or $(UMQTT_RS_MQTT5),0))
$(error $(BUILD) was built with MQTT5=$(UMQTT_RS_MQTT5_WAS): build into another OUT= (or make clean))
endif
endif
$(shell mkdir -p $(BUILD) && echo $(or $(UMQTT_RS_MQTT5),0) > $(BUILD)/umqtt_rs_mqtt5)
# One prelinked object: it goes on the link line whole, like any object.
LDFLAGS_USERMOD += $(UMQTT_RS_OBJ)

# Build (or refresh: cargo decides) the Rust object before the glue compiles.
$(BUILD)/$(notdir $(UMQTT_RS_DIR))/modumqtt_rs.o: $(UMQTT_RS_OBJ)
$(UMQTT_RS_OBJ): umqtt_rs_core_force
	$(ECHO) "RUST $@"
	$(Q)$(UMQTT_RS_TOP)/tools/build-lib.sh $(UMQTT_RS_TARGET) $@ $(LD) $(OBJCOPY) "$(UMQTT_RS_LDFLAGS)"
.PHONY: umqtt_rs_core_force
umqtt_rs_core_force:
endif
