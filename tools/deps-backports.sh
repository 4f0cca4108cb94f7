#!/usr/bin/env bash
# Install Debian packages from bookworm-backports when they are missing.
#   tools/deps-backports.sh PACKAGE...
# qemu: bookworm's images may carry qemu-utils from backports, which blocks
# bookworm's own qemu-system-*; the backports qemu installs cleanly beside it.
# The suite is added with the URI of the machine's own Debian mirror
# (/etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list).
set -euo pipefail
missing=()
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} = 0 ] && exit 0
sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
[ -n "$codename" ] || { echo "deps-backports: unknown Debian release" >&2; exit 1; }
suite=$codename-backports
if ! grep -rqs -- "$suite" /etc/apt/sources.list /etc/apt/sources.list.d/; then
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    if [ -z "$uri" ]; then
        uri=$(awk '$1 == "deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    fi
    [ -n "$uri" ] || { echo "deps-backports: no Debian mirror in /etc/apt" >&2; exit 1; }
    echo "deps-backports: adding $suite ($uri) to /etc/apt/sources.list.d/umqtt-rs-backports.sources"
    printf 'Types: deb\nURIs: %s\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$uri" "$suite" | $sudo tee /etc/apt/sources.list.d/umqtt-rs-backports.sources >/dev/null
fi
echo "deps-backports: installing ${missing[*]} from $suite"
$sudo apt-get -q update >/dev/null
DEBIAN_FRONTEND=noninteractive $sudo apt-get -q install -y --no-install-recommends -t "$suite" "${missing[@]}" >/dev/null
