#!/bin/sh
# The stock firmware (boards/unix-stock) with umqtt_rs installed as files, as
# `mip install` leaves it: the native module and the Python layers in
# $UMQTT_RS_LIB (build/natmod/<arch>/lib).  tools/run-mpy-tests.sh runs the
# tests through this when UMQTT_RS_LIB is set.
MICROPYPATH=".frozen:$UMQTT_RS_LIB" exec "$UMQTT_RS_STOCK" "$@"
