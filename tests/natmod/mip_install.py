#!/usr/bin/env python3
"""Install umqtt_rs on the stock firmware with its own `mip`, as a user
does, then use it.

    tests/natmod/mip_install.py <stock firmware> <natmod lib folder>

Serves a copy of the folder (build/natmod/<arch>/lib) over HTTP on
loopback with a package.json that names it by absolute URLs (1.25's mip
takes no relative ones; tools/natmod-package.py with a base URL), runs
`mip.install("http://.../package.json", target=<empty folder>)` on the
firmware, checks that every file of the package arrived unchanged, and runs
a publish/subscribe round trip with the installed module (and its Python
layers) against a private mosquitto (tools/broker.py).  Exit 0 on success.
"""

import functools
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(TOP, "tools"))
import broker  # noqa: E402

ROUND_TRIP = """
import umqtt_rs, umqtt_rs_robust, umqtt_rs_asyncio
print(umqtt_rs.__file__)
got = []
c = umqtt_rs.MQTTClient(b"mip-install", %r, port=%d)
c.set_callback(lambda t, m: got.append((t, m)))
c.connect()
c.subscribe(b"mip/install", qos=1)
c.publish(b"mip/install", b"installed", qos=1)
while not got:
    c.wait_msg()
print(got)
c.disconnect()
"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main():
    firmware, built = sys.argv[1], os.path.abspath(sys.argv[2])
    with tempfile.TemporaryDirectory() as target, tempfile.TemporaryDirectory() as site:
        lib = os.path.join(site, "umqtt_rs")
        shutil.copytree(built, lib)
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=lib))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        base = "http://127.0.0.1:%d" % server.server_address[1]
        with open(os.path.join(lib, "package.json")) as f:
            pkg = json.load(f)
        subprocess.run([sys.executable, os.path.join(TOP, "tools", "natmod-package.py"), lib, pkg["version"],
                        pkg["arch"], base], check=True, timeout=30)
        with open(os.path.join(lib, "package.json")) as f:
            files = [dest for dest, _ in json.load(f)["urls"]]
        url = base + "/package.json"
        env = dict(os.environ, MICROPYPATH=".frozen")
        p = subprocess.run([firmware, "-c", "import mip; mip.install(%r, target=%r)" % (url, target)],
                           capture_output=True, text=True, timeout=60, env=env)
        print(p.stdout.strip())
        if p.returncode != 0:
            print("mip_install: mip.install failed:", p.stderr.strip())
            return 1
        for name in files:
            with open(os.path.join(lib, name), "rb") as a, open(os.path.join(target, name), "rb") as b:
                if a.read() != b.read():
                    print("mip_install: %s differs after install" % name)
                    return 1
        print("mip_install: %d files installed unchanged" % len(files))
        with broker.Broker(tls=False) as b:
            env["MICROPYPATH"] = ".frozen:" + target
            p = subprocess.run([firmware, "-c", ROUND_TRIP % (b.host, b.port)],
                               capture_output=True, text=True, timeout=60, env=env)
        out = p.stdout.strip()
        print(out)
        expect = [os.path.join(target, "umqtt_rs.mpy"), "[(b'mip/install', b'installed')]"]
        if p.returncode != 0 or out.splitlines() != expect:
            print("mip_install: round trip failed:", p.stderr.strip())
            return 1
        server.shutdown()
    print("mip_install: pass")
    return 0


if __name__ == "__main__":
    sys.exit(main())
