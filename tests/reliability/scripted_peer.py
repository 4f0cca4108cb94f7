"""Shared by the repro scripts in tests/reliability/repro/: a scripted broker
on a loopback port (one thread of this process) against a MicroPython client
script run on the firmware, with every wait bounded."""

import os
import socket
import subprocess
import sys
import threading

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def firmware():
    """The firmware named on the command line, else the unix build."""
    return sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "build", "unix", "micropython")


def read_packet(conn):
    """(first byte, body) of the next packet; EOFError when the peer closed."""
    first = conn.recv(1)
    if not first:
        raise EOFError
    n, shift = 0, 0
    while True:
        b = conn.recv(1)[0]
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            break
    body = b""
    while len(body) < n:
        body += conn.recv(n - len(body))
    return first[0], body


def run(client_script, broker, expect):
    """Runs broker(listening_socket, log) in a thread and client_script on the
    firmware (PORT in its environment); prints both sides' output and returns
    the exit status: 0 when `expect` is in the client's output, else 1."""
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    log = []
    t = threading.Thread(target=broker, args=(lsock, log), daemon=True)
    t.start()
    env = dict(os.environ, PORT=str(lsock.getsockname()[1]))
    out = subprocess.run([firmware(), "-c", client_script], env=env, capture_output=True, text=True, timeout=30)
    t.join(10)
    print(out.stdout + out.stderr + "\n".join(log))
    return 0 if expect in out.stdout else 1
