#!/usr/bin/env bash
# Make sure the Rust toolchain has what the build and the checks use.
set -euo pipefail
command -v cargo >/dev/null || { echo "rust-setup: cargo not found; install Rust with rustup" >&2; exit 1; }
have=$(rustup component list --installed 2>/dev/null || true)
for c in clippy rustfmt; do
    echo "$have" | grep -q "^$c" || rustup component add "$c"
done
for t in "$@"; do
    rustup target list --installed | grep -qx "$t" || rustup target add "$t"
done
