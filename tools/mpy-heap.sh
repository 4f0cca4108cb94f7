#!/bin/sh
# The firmware with a small heap, for tests/micropython/smallheap/ (upstream's
# run-tests.py passes no interpreter options to ordinary tests).
exec "$UMQTT_RS_FIRMWARE" -X heapsize="${UMQTT_RS_HEAPSIZE:-400K}" "$@"
