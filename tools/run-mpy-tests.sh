#!/usr/bin/env bash
# Run the MicroPython .py/.exp tests on a firmware with upstream's runner.
#   tools/run-mpy-tests.sh <firmware> <micropython source dir> [test files...]
# Expects the broker environment of tools/broker.py (MQTT_HOST, MQTT_PORT...).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
firmware=$1
mpy=$2
shift 2
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
# tests/micropython/smallheap/: the same firmware with a small heap.
if [ $# -eq 0 ]; then
    export UMQTT_RS_FIRMWARE=$firmware MICROPY_MICROPYTHON=$top/tools/mpy-heap.sh
    python3 "$mpy/tests/run-tests.py" -r "$results/smallheap" -d "$top/tests/micropython/smallheap" || {
        python3 "$mpy/tests/run-tests.py" -r "$results/smallheap" --print-failures || true
        exit 1
    }
fi
