#!/usr/bin/env python3
"""Fetch umqtt.simple from PyPI (micropython-umqtt-simple) for the benchmarks.

The package index is the one pip itself is configured with (``pip config
list``: an ``index-url`` from the environment or a config file), else pip's
built-in default; no registry host is named here.  The source archive is
pinned by version and sha256, downloaded into build/ (never committed) and
its ``umqtt/simple.py`` unpacked unchanged, so the firmware imports it as
``umqtt.simple`` from that folder on MICROPYPATH.

    python3 bench/incumbent.py DEST_DIR      # prints the folder for MICROPYPATH
"""

import hashlib
import html.parser
import os
import ssl
import subprocess
import sys
import tarfile
import urllib.parse
import urllib.request

PROJECT = "micropython-umqtt-simple"
VERSION = "1.3.4"
ARCHIVE = "micropython-umqtt.simple-1.3.4.tar.gz"
SHA256 = "b6a2520239e3992c63a7de9370ee9b3d9d27819a90359c521f1c0f7ccab8d12f"
MEMBER = "micropython-umqtt.simple-1.3.4/umqtt/simple.py"
TIMEOUT = 60  # seconds per HTTP request


def pip_settings():
    """(index_url, cafile) as pip would use them."""
    out = subprocess.run(
        [sys.executable, "-m", "pip", "config", "list"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, timeout=60,
    ).stdout
    values = {}
    for line in out.splitlines():
        key, sep, val = line.partition("=")
        if sep:
            values[key.strip()] = val.strip().strip("'\"")

    def pick(name):
        # The environment overrides the config files, a [download] section
        # overrides [global] for `pip download`.
        for scope in (":env:", "download", "global", "user", "site"):
            if scope + "." + name in values:
                return values[scope + "." + name]
        return None

    index = pick("index-url")
    if not index:
        index = subprocess.run(
            [sys.executable, "-c", "from pip._internal.models.index import PyPI; print(PyPI.simple_url)"],
            stdout=subprocess.PIPE, text=True, timeout=60, check=True,
        ).stdout.strip()
    return index, pick("cert")


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [v for k, v in attrs if k == "href" and v]


def _get(url, ctx):
    req = urllib.request.Request(url, headers={"Accept": "text/html"})
    with urllib.request.urlopen(req, timeout=TIMEOUT, context=ctx) as r:
        return r.read()


def _sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def fetch(dest):
    """Make dest/umqtt/simple.py (umqtt.simple 1.3.4, unmodified); return dest."""
    os.makedirs(dest, exist_ok=True)
    archive = os.path.join(dest, ARCHIVE)
    target = os.path.join(dest, "umqtt", "simple.py")
    if not (os.path.exists(archive) and _sha256(archive) == SHA256):
        index, cafile = pip_settings()
        ctx = ssl.create_default_context(cafile=cafile) if cafile else ssl.create_default_context()
        page_url = index.rstrip("/") + "/" + PROJECT + "/"
        parser = _Links()
        parser.feed(_get(page_url, ctx).decode("utf-8", "replace"))
        urls = [urllib.parse.urljoin(page_url, h) for h in parser.hrefs]
        urls = [u for u in urls if urllib.parse.urlsplit(u).path.endswith("/" + ARCHIVE)]
        if not urls:
            raise SystemExit("incumbent: %s %s not listed at the package index" % (PROJECT, VERSION))
        data = _get(urls[0].split("#")[0], ctx)
        if hashlib.sha256(data).hexdigest() != SHA256:
            raise SystemExit("incumbent: %s does not match its pinned sha256" % ARCHIVE)
        with open(archive + ".part", "wb") as f:
            f.write(data)
        os.replace(archive + ".part", archive)
        if os.path.exists(target):
            os.remove(target)
    if not os.path.exists(target):
        with tarfile.open(archive) as tar:
            src = tar.extractfile(MEMBER).read()
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(src)
    return dest


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    print(fetch(sys.argv[1]))
