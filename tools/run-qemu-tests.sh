#!/usr/bin/env bash
# Run tests/qemu (.py + .exp, a scripted broker over an in-memory stream) on
# a qemu firmware with upstream's runner through a pseudo-terminal.
#   tools/run-qemu-tests.sh "<qemu command>" <firmware.elf> <micropython dir> [tests...]
# The runner needs pyserial, which Debian's /usr/bin/python3 has
# (python3-serial); a pyenv or venv python3 on PATH may not.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
qemu=$1
firmware=$2
mpy=$3
shift 3
[ $# -gt 0 ] || set -- "$top"/tests/qemu/*.py
results=$top/build/test-results-$(basename "$(dirname "$firmware")")
rm -rf "$results"
py=/usr/bin/python3
"$py" -c "import serial" 2>/dev/null || { echo "run-qemu-tests: $py lacks pyserial (apt-get install python3-serial)" >&2; exit 1; }
start=$(date +%s)
"$py" "$mpy/tests/run-tests.py" -r "$results" \
    -t "execpty:$qemu -serial pty -kernel $firmware" "$@" || {
    "$py" "$mpy/tests/run-tests.py" -r "$results" --print-failures || true
    exit 1
}
echo "run-qemu-tests: $(basename "$(dirname "$firmware")") passed in $(( $(date +%s) - start )) s"
