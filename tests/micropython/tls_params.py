# ssl=True with umqtt.simple's ssl_params (cert_reqs, cadata,
# server_hostname): through micropython-lib's `ssl` module when the firmware
# has it, else through its `tls` module. Verification works, a wrong CA
# fails, an unknown parameter is a TypeError, and no parameters means no
# verification (ssl.wrap_socket's default).
import sys

try:
    import tls
except ImportError:
    print("SKIP")
    raise SystemExit

sys.path.append(sys.path[0] + "/support")
from mqtt_test import TLS_PORT, CA_DER, BAD_CA_DER, client, topic, read_file, Inbox, wait_until


def params(ca_path):
    return {
        "cert_reqs": tls.CERT_REQUIRED,
        "cadata": read_file(ca_path),
        "server_hostname": "localhost",
    }


inbox = Inbox()
c = client("tlsp", port=TLS_PORT, ssl=True, ssl_params=params(CA_DER))
c.set_callback(inbox)
print("verified connect", c.connect())
t = topic("tlsp")
c.subscribe(t, qos=1)
c.publish(t, b"secret", qos=1)
print("received", wait_until(c, lambda: inbox.msgs), [m for _, m in inbox.msgs])
c.disconnect()

try:
    client("tlsp-bad", port=TLS_PORT, ssl=True, ssl_params=params(BAD_CA_DER)).connect()
    print("connected with the wrong CA")
except (OSError, ValueError) as e:
    print("wrong CA", type(e).__name__)

try:
    client("tlsp-x", port=TLS_PORT, ssl=True, ssl_params={"nonsense": 1}).connect()
except TypeError:
    print("TypeError")

c = client("tlsp-none", port=TLS_PORT, ssl=True)
print("unverified connect", c.connect())
c.disconnect()
