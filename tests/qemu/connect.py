# CONNECT and CONNACK over the scripted broker: the bytes the client writes,
# session present 0/1, a refused CONNACK (MQTTException with the return code,
# connection closed), DISCONNECT.
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker
from umqtt_rs import MQTTClient, MQTTException

b = Broker()
c = MQTTClient("qemu", "scripted", keepalive=60)
print("connect", c.connect(sock=b))
print("same stream", c.sock is b)
b.show()
c.disconnect()
b.show()
print("closed", b.closed, c.sock)

b = Broker(session_present=1)
c = MQTTClient("qemu", "scripted", user="u", password="p")
c.set_last_will("will/t", "gone", retain=True, qos=1)
print("connect", c.connect(sock=b, clean_session=False))
b.show()

for rc in (1, 2, 3, 4, 5):
    b = Broker(connack_rc=rc)
    c = MQTTClient("qemu", "scripted")
    try:
        c.connect(sock=b)
        print("connected?")
    except MQTTException as e:
        print("refused", e.args[0], "closed", b.closed, c.sock)

try:
    MQTTClient("qemu", "scripted").connect(sock=42)
except TypeError:
    print("TypeError")
