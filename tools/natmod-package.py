#!/usr/bin/env python3
"""Write the mip package.json of a natmod build: every file of its folder
(build/natmod/<arch>/lib: umqtt_rs.mpy, the Python layers as .mpy, the type
stubs), by URLs relative to the package.json, so that the folder can be put
on any web server (or used from disk) as it is:

    mpremote mip install <folder or URL>/package.json

mip on the board (MicroPython 1.25's) takes only absolute URLs: with
BASE_URL, the URLs are BASE_URL/<file>, for a folder published there:

    >>> mip.install("https://<host>/<path>/package.json")

    tools/natmod-package.py <lib folder> <version> <arch> [BASE_URL]
"""

import json
import os
import sys


def main():
    lib, version, arch = sys.argv[1:4]
    base = sys.argv[4].rstrip("/") + "/" if len(sys.argv) > 4 and sys.argv[4] else ""
    files = sorted(f for f in os.listdir(lib) if f.endswith((".mpy", ".pyi")))
    if "umqtt_rs.mpy" not in files:
        print("natmod-package: no umqtt_rs.mpy in %s" % lib, file=sys.stderr)
        return 1
    pkg = {
        "version": version,
        "arch": arch,
        "urls": [[f, base + f] for f in files],
    }
    with open(os.path.join(lib, "package.json"), "w") as f:
        json.dump(pkg, f, indent=1)
        f.write("\n")
    print("natmod-package: %s/package.json (%s, %d files)" % (lib, arch, len(files)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
