# connect()/disconnect(), connect()'s session-present result, ping() + wait_msg().
import sys

sys.path.append(sys.path[0] + "/support")
from mqtt_test import client

c = client("connect")
print("connect", c.connect())
c.disconnect()

# A persistent session: absent on the first connect, present on the second.
c = client("session")
print("first persistent", c.connect(clean_session=False))
c.disconnect()
print("second persistent", c.connect(clean_session=False))
c.disconnect()
# A clean connect discards the stored session and reports none.
print("clean", c.connect(clean_session=True))
c.disconnect()

# ping() sends PINGREQ; wait_msg() consumes the PINGRESP and returns None.
c = client("ping")
c.connect()
print("ping", c.ping())
print("wait_msg", c.wait_msg())
c.disconnect()
print("done")
