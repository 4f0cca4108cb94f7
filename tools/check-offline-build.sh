#!/usr/bin/env bash
# The firmware build must work offline: it never calls rustup (whose
# `target add` needs the network; installing the target is `make deps`'s
# job, tools/rust-setup.sh).  A real ESP-IDF build once did (issue 13).
#   tools/check-offline-build.sh <rust target> <ld> <objcopy> <nm> [ld flags]
# Needs no ESP-IDF: part of `make BOARD=esp32c3 test`, so of `make test`.
#  1. tools/build-lib.sh (what micropython.cmake and micropython.mk run inside
#     the port's build) builds the object with a `rustup` first on PATH that
#     records any call and fails: no call allowed.
#  2. With the target missing (a rustc whose sysroot has no libcore for it)
#     it fails, saying how to install the target, and still calls no rustup.
#  3. The other files a firmware build runs (tools/esp-build.sh,
#     micropython-glue/micropython.cmake and micropython.mk) name no rustup
#     command outside comments.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
target=$1
ld=$2
objcopy=$3
nm=$4
ldflags=${5:-}
fail() { echo "check-offline-build: $*" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/bin" "$tmp/empty-sysroot/lib/rustlib/$target/lib"
cat >"$tmp/bin/rustup" <<EOF
#!/bin/sh
echo "rustup \$*" >>"$tmp/rustup-calls"
exit 1
EOF
real_rustc=$(command -v rustc) || fail "rustc not found"
cat >"$tmp/bin/fake-rustc" <<EOF
#!/bin/sh
# The real rustc, except that its sysroot lacks every target.
[ "\$*" = "--print sysroot" ] && { echo "$tmp/empty-sysroot"; exit 0; }
exec "$real_rustc" "\$@"
EOF
chmod +x "$tmp/bin/rustup" "$tmp/bin/fake-rustc"

# 1. The normal build: the object is built, rustup is not called.
PATH=$tmp/bin:$PATH NM=$nm "$top/tools/build-lib.sh" "$target" "$tmp/core.o" "$ld" "$objcopy" "$ldflags" \
    >"$tmp/build.log" 2>&1 || { cat "$tmp/build.log" >&2; fail "build-lib.sh $target failed"; }
[ ! -s "$tmp/rustup-calls" ] || fail "build-lib.sh called rustup during a build: $(cat "$tmp/rustup-calls")"

# 2. The target missing: a clear failure, no install attempt.
if PATH=$tmp/bin:$PATH RUSTC=$tmp/bin/fake-rustc NM=$nm "$top/tools/build-lib.sh" "$target" "$tmp/core2.o" \
    "$ld" "$objcopy" "$ldflags" >"$tmp/missing.log" 2>&1; then
    fail "build-lib.sh succeeded without the target's standard library"
fi
[ ! -s "$tmp/rustup-calls" ] || fail "build-lib.sh called rustup for a missing target: $(cat "$tmp/rustup-calls")"
grep -q "rust-setup.sh $target" "$tmp/missing.log" ||
    { cat "$tmp/missing.log" >&2; fail "no hint how to install a missing target"; }

# 3. No rustup command in the rest of the firmware build's files.
for f in tools/esp-build.sh micropython-glue/micropython.cmake micropython-glue/micropython.mk; do
    calls=$(sed 's/#.*//' "$top/$f" | grep -nE '(^|[^./_[:alnum:]-])rustup([[:space:]]|$)' || true)
    [ -z "$calls" ] || fail "$f runs rustup: $calls"
done
echo "check-offline-build: $target: the firmware build calls no rustup (and says how to install a missing target)"
