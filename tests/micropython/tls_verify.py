# TLS with certificate verification against the test CA: the client passes
# server_hostname itself (ssl=SSLContext, as in umqtt.simple 1.8); a wrong
# CA makes connect() fail.
import sys

try:
    import tls
except ImportError:
    print("SKIP")
    raise SystemExit

sys.path.append(sys.path[0] + "/support")
from mqtt_test import TLS_PORT, CA_DER, BAD_CA_DER, client, topic, read_file, Inbox, wait_until


def context(ca_path):
    ctx = tls.SSLContext(tls.PROTOCOL_TLS_CLIENT)
    ctx.verify_mode = tls.CERT_REQUIRED
    # MicroPython's tls takes the DER certificate positionally (no cadata=).
    ctx.load_verify_locations(read_file(ca_path))
    return ctx


inbox = Inbox()
c = client("tls", port=TLS_PORT, ssl=context(CA_DER))
c.set_callback(inbox)
print("connect", c.connect())
t = topic("tls")
c.subscribe(t, qos=1)
c.publish(t, b"secret", qos=1)
print("received", wait_until(c, lambda: inbox.msgs), [m for _, m in inbox.msgs])
c.disconnect()

bad = client("tls-bad", port=TLS_PORT, ssl=context(BAD_CA_DER))
try:
    bad.connect()
    print("connected with the wrong CA")
except (OSError, ValueError) as e:
    print("wrong CA", type(e).__name__)
