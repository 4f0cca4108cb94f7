#!/usr/bin/env bash
# Footprint of umqtt_rs per board: each firmware is built twice, with and
# without the module (UMQTT_RS_MODULE=0, everything else equal), in
# build/size/<board>-{with,without}; the growth in text/data/bss is the
# module's cost.  Then one MQTTClient is created on the firmware and the heap
# it takes (object, rx/tx buffers, message store) is measured with gc.
#   tools/size.sh BOARD...      prints a Markdown table, also in build/size/size.md
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
sizes=$top/build/size
mkdir -p "$sizes"
mpy=${MPY_DIR:-$top/build/micropython}

var() { # var BOARD NAME: a variable of boards/BOARD/board.mk
    make -s -C "$top" --no-print-directory BOARD="$1" -f Makefile -f - print-var VAR="$2" <<'MK'
print-var:
	@echo $($(VAR))
MK
}

probe=$sizes/probe
rm -rf "$probe"; mkdir -p "$probe"
cat > "$probe/client_heap.py" <<'PY'
import gc
from umqtt_rs import MQTTClient
gc.collect()
f0 = gc.mem_free()
c = MQTTClient("size", "scripted")
gc.collect()
print("client_heap", f0 - gc.mem_free())
PY
echo "not compared" > "$probe/client_heap.py.exp"

heap_of() { # heap_of BOARD FIRMWARE
    local qemu
    qemu=$(var "$1" QEMU)
    if [ -z "$qemu" ]; then
        "$2" "$probe/client_heap.py" | sed -n 's/^client_heap //p'
    else
        /usr/bin/python3 "$mpy/tests/run-tests.py" -r "$probe/res" \
            -t "execpty:$qemu -serial pty -kernel $2" "$probe/client_heap.py" >/dev/null 2>&1 || true
        sed -n 's/^client_heap //p' "$probe"/res/*client_heap.py.out
        rm -rf "$probe/res"
    fi
}

report=$sizes/size.md
{
    echo "| board | Rust target | text | data | bss | text growth | data growth | bss growth | one MQTTClient (heap) |"
    echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
} > "$report"
for b in "$@"; do
    for kind in with without; do
        module=1; [ $kind = with ] || module=0
        echo "size: building $b $kind the module" >&2
        make -s -C "$top" BOARD="$b" OUT="$sizes/$b-$kind" UMQTT_RS_MODULE=$module firmware >"$sizes/$b-$kind.log" 2>&1 ||
            { tail -20 "$sizes/$b-$kind.log" >&2; exit 1; }
    done
    fw=$(var "$b" FIRMWARE)
    tool=$(var "$b" SIZE_TOOL)
    read -r t1 d1 b1 _ < <("$tool" "$sizes/$b-with/$fw" | tail -1)
    read -r t0 d0 b0 _ < <("$tool" "$sizes/$b-without/$fw" | tail -1)
    heap=$(heap_of "$b" "$sizes/$b-with/$fw")
    printf '| %s | %s | %d | %d | %d | %+d | %+d | %+d | %s B |\n' "$b" "$(var "$b" RUST_TARGET)" \
        "$t1" "$d1" "$b1" $(( t1 - t0 )) $(( d1 - d0 )) $(( b1 - b0 )) "${heap:-?}" >> "$report"
done
cat "$report"
