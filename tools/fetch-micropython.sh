#!/usr/bin/env bash
# Fetch MicroPython's source from Debian's trixie source package (pinned and
# checksummed), unpack it with Debian's patches applied, and cache it in
# build/micropython.  No git host is needed: the mirror is the machine's own.
set -euo pipefail

VERSION=1.25.0+ds-1
UPSTREAM=1.25.0+ds
DSC_SHA256=8c7c406be88a6f3bc19e694eb0bbc5841112243fdf2b5a296e000d8fdc5f3c34
ORIG_SHA256=7b25be99a502f070b2de81dafc08da7051d992325d6e67daa9045a918fffdbea

top=$(cd "$(dirname "$0")/.." && pwd)
dest=${1:-$top/build/micropython}
work=$top/build/mpy-fetch

if [ -f "$dest/py/mpconfig.h" ]; then
    exit 0
fi

command -v dpkg-source >/dev/null || "$top/tools/deps.sh" dpkg-dev

# The mirror URI comes from the machine's own apt configuration.
uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
if [ -z "$uri" ]; then
    uri=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$uri" ] || { echo "fetch-micropython: no Debian mirror in /etc/apt" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/src"
echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" > "$work/sources"
apt_opts=(-o "Dir::Etc::sourcelist=$work/sources" -o Dir::Etc::sourceparts=/nonexistent
          -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache")
[ "$(id -u)" = 0 ] && apt_opts+=(-o APT::Sandbox::User=root)

apt-get "${apt_opts[@]}" -q update >/dev/null
(cd "$work/src" && apt-get "${apt_opts[@]}" -q --download-only source "micropython=$VERSION" >/dev/null)

check() {
    local file=$1 want=$2 got
    got=$(sha256sum "$file" | cut -d' ' -f1)
    if [ "$got" != "$want" ]; then
        echo "fetch-micropython: checksum mismatch for $file: $got" >&2
        exit 1
    fi
    echo "$(basename "$file") $got"
}
check "$work/src/micropython_$VERSION.dsc" "$DSC_SHA256" DSC_SHA256
check "$work/src/micropython_$UPSTREAM.orig.tar.xz" "$ORIG_SHA256" ORIG_SHA256

(cd "$work/src" && dpkg-source -x "micropython_$VERSION.dsc" mpy >/dev/null 2>&1)
rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$work/src/mpy" "$dest"
rm -rf "$work"
echo "fetch-micropython: MicroPython $VERSION in $dest"
