#!/usr/bin/env bash
# Build the Rust core for one target and prelink it into a single relocatable
# object that exports only the umqtt_rs_* functions of umqtt_rs.h.
#   tools/build-lib.sh <rust-target> <output.o> [ld] [objcopy] [extra ld flags]
# UMQTT_RS_PIC=1: position-independent code for a dynamic native module
# (.mpy; tools/mpy_ld.py takes no other relocation model), built apart in
# target/natmod so it does not rebuild the firmware's object each time.
# Why prelink: linking the raw staticlib lets Rust's compiler_builtins and
# panic machinery leak into the firmware's link (see docs/building.md).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
target=$1
out=$2
ld=${3:-ld}
objcopy=${4:-objcopy}
ldflags=${5:-}

case "$target" in
    host) target=$(rustc -vV | sed -n 's/^host: //p') ;;
esac
# Xtensa needs Espressif's toolchain: UMQTT_RS_CARGO_TOOLCHAIN=esp (espup).
toolchain=${UMQTT_RS_CARGO_TOOLCHAIN:+"+$UMQTT_RS_CARGO_TOOLCHAIN"}
# This runs inside firmware builds (the port's make, idf.py through
# micropython.cmake), which must work offline: never install anything here
# (no `rustup target add`: it needs the network).  The target's standard
# library is installed by `make deps` (tools/rust-setup.sh); only check for
# it, in the sysroot of the rustc cargo will use (RUSTC, as cargo reads it).
# tools/check-offline-build.sh (make test) holds this script to that.
if [ -z "$toolchain" ]; then
    sysroot=$("${RUSTC:-rustc}" --print sysroot)
    ls "$sysroot/lib/rustlib/$target/lib/"libcore-*.rlib >/dev/null 2>&1 || {
        echo "build-lib: the Rust target $target is not installed (no libcore in $sysroot)." >&2
        echo "build-lib: install it once, with the network: tools/rust-setup.sh $target" >&2
        echo "build-lib: (or make BOARD=<board> deps; by hand: rustup target add $target)" >&2
        exit 2
    }
fi

# UMQTT_RS_MQTT5=1 (make MQTT5=1): MQTT 5 in the wire layer too.
features=firmware
if [ "${UMQTT_RS_MQTT5:-0}" = 1 ]; then features=firmware,mqtt5; fi
target_dir=$top/target
pic=()
drop=()
if [ "${UMQTT_RS_PIC:-0}" = 1 ]; then
    target_dir=$top/target/natmod
    pic=(-- -C relocation-model=pic)
    # Unwind tables mean nothing without an unwinder (panic = abort).
    drop=(--remove-section=.eh_frame --remove-section='.ARM.extab*')
fi
CARGO_TARGET_DIR=$target_dir cargo ${toolchain:-} rustc --manifest-path "$top/Cargo.toml" --quiet --release --lib \
    --target "$target" --features "$features" --crate-type staticlib "${pic[@]}"
lib=$target_dir/$target/release/libumqtt_rs.a

# The exports are exactly the functions the header declares.
# The MQTT 5 block (#if UMQTT_RS_MQTT5) only with the feature.
v5_block='/^#if UMQTT_RS_MQTT5$/,/^#endif \/\/ UMQTT_RS_MQTT5$/d'
if [ "$features" != firmware ]; then v5_block=; fi
exports=$(sed "$v5_block" "$top/micropython-glue/umqtt_rs.h" \
    | sed -n 's/^[a-z_0-9 ]*[ *]\(umqtt_rs_[a-z_0-9]*\)(.*/\1/p' | sort -u)
[ -n "$exports" ] || { echo "build-lib: no exports found in umqtt_rs.h" >&2; exit 1; }
undef=(); keep=()
for e in $exports; do undef+=(-u "$e"); keep+=("--keep-global-symbol=$e"); done

mkdir -p "$(dirname "$out")"
tmp=$out.tmp.o
# Only the crate's own object (LTO merged core into it) goes in, not Rust's
# compiler_builtins: its memcpy & co. would duplicate the firmware's C library
# (2.6 KB on Cortex-M), and the firmware's libc/libgcc provide what the
# object calls (memcpy, memmove, memset, memcmp/bcmp; on ARM the __aeabi_mem*
# aliases, which micropython-glue gives weak fallbacks for).
members=$(mktemp -d)
trap 'rm -rf "$members"' EXIT
own=$("${AR:-ar}" t "$lib" | grep '^umqtt_rs-')
(cd "$members" && "${AR:-ar}" x "$lib" $own)
# shellcheck disable=SC2086
"$ld" -r $ldflags "${undef[@]}" -o "$tmp" "$members"/*.o
"$objcopy" "${keep[@]}" "${drop[@]}" --remove-section=.llvmbc --remove-section='.ARM.exidx*' \
    --remove-section=.llvmcmd "$tmp" "$tmp.2"
rm -f "$tmp"
# Replace the object only when it changed, so make relinks only then.
if cmp -s "$tmp.2" "$out"; then rm -f "$tmp.2"; else mv "$tmp.2" "$out"; fi

# Every export must be defined in the object.
# (nm's output is read once: `nm | grep -q` under pipefail fails when grep
# stops reading early.)
defined=$("${NM:-nm}" "$out")
missing=$(for e in $exports; do grep -q " T $e$" <<<"$defined" || echo "$e"; done)
[ -z "$missing" ] || { echo "build-lib: not defined in $out: $missing" >&2; exit 1; }
# ... and it needs nothing but C library memory functions (and compiler
# helpers of libgcc: __aeabi_*, __*di3).
needs=$(awk '$1 == "U" {print $2}' <<<"$defined" | grep -vxE 'mem(cpy|move|set|cmp)|bcmp|__aeabi_[a-z0-9]+|__[a-z]+[dt]i3' || true)
[ -z "$needs" ] || { echo "build-lib: $out needs unexpected symbols: $needs" >&2; exit 1; }
echo "build-lib: $out ($target, features $features)"
