#!/usr/bin/env bash
# Build and run the cargo-fuzz targets of fuzz/ for a bounded time each.
#   tools/fuzz.sh [target...]     (default: every target in fuzz/Cargo.toml)
# FUZZ_SECONDS (default 60) per target.  The committed seeds in
# fuzz/corpus/<target> are read; what the fuzzer learns goes to
# build/fuzz/corpus/<target> (kept between runs, never committed).  A crash
# fails the run and leaves its input in fuzz/artifacts/<target>/.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
CARGO_FUZZ_VERSION=0.13.2
seconds=${FUZZ_SECONDS:-60}
export PATH=$top/build/tools/bin:$PATH

rustup toolchain list | grep -q '^nightly' || rustup toolchain install nightly --profile minimal
if ! cargo fuzz --version 2>/dev/null | grep -q "$CARGO_FUZZ_VERSION"; then
    cargo install cargo-fuzz --version "$CARGO_FUZZ_VERSION" --locked --root "$top/build/tools" --quiet
fi

cd "$top/fuzz"
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
cargo +nightly fuzz build
total=0
for t in "${targets[@]}"; do
    work=$top/build/fuzz/corpus/$t
    log=$top/build/fuzz/$t.log
    mkdir -p "$work"
    echo "fuzz: $t for ${seconds}s"
    if ! cargo +nightly fuzz run "$t" "$work" "corpus/$t" -- \
        -max_total_time="$seconds" -print_final_stats=1 -rss_limit_mb=2048 >"$log" 2>&1; then
        tail -40 "$log"
        echo "fuzz: $t FAILED (log $log, input in fuzz/artifacts/$t/)" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
    echo "fuzz: $t ok, ${runs:-?} executions"
    total=$((total + ${runs:-0}))
done
echo "fuzz: $total executions in total, no crash"
