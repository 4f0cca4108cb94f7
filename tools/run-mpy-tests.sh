#!/usr/bin/env bash
# Run the MicroPython .py/.exp tests on a firmware with upstream's runner.
#   tools/run-mpy-tests.sh <firmware> <micropython source dir> [test files...]
# Expects the broker environment of tools/broker.py (MQTT_HOST, MQTT_PORT...).
# UMQTT_RS_LIB=<folder>: <firmware> is a stock one and umqtt_rs is installed
# in that folder (the natmod and the Python layers: make natmod).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
firmware=$1
mpy=$2
shift 2
if [ -n "${UMQTT_RS_LIB:-}" ]; then
    export UMQTT_RS_STOCK=$firmware
    firmware=$top/tools/mpy-natmod.sh
fi
results=$top/build/test-results
rm -rf "$results"
export MICROPY_MICROPYTHON=$firmware
if [ $# -gt 0 ]; then
    python3 "$mpy/tests/run-tests.py" -r "$results" "$@"
else
    python3 "$mpy/tests/run-tests.py" -r "$results" -d "$top/tests/micropython"
fi || {
    python3 "$mpy/tests/run-tests.py" -r "$results" --print-failures || true
    exit 1
}
# tests/micropython/smallheap/ (400 KB) and heap256k/: the same firmware
# with a small heap.
if [ $# -eq 0 ]; then
    export UMQTT_RS_FIRMWARE=$firmware MICROPY_MICROPYTHON=$top/tools/mpy-heap.sh
    for dir in smallheap:400K heap256k:256K; do
        name=${dir%%:*}
        UMQTT_RS_HEAPSIZE=${dir##*:} python3 "$mpy/tests/run-tests.py" -r "$results/$name" -d "$top/tests/micropython/$name" || {
            python3 "$mpy/tests/run-tests.py" -r "$results/$name" --print-failures || true
            exit 1
        }
    done
fi
