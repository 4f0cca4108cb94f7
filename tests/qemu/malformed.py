# A broker that breaks the protocol: reserved flag bits, a bad remaining
# length, an unknown CONNACK return code, a packet a broker never sends.
# Each raises MQTTException and the client closes the connection.
import sys

sys.path.append(sys.path[0] + "/support")
from scripted_broker import Broker, packet
from umqtt_rs import MQTTClient, MQTTException


def after_connect(name, data):
    b = Broker()
    c = MQTTClient("qemu", "scripted")
    c.connect(sock=b)
    b.send(data)
    try:
        c.wait_msg()
        print(name, "accepted?")
    except MQTTException:
        print(name, "MQTTException", "closed", b.closed, c.sock)


def instead_of_connack(name, data):
    b = Broker()
    b.connack_rc = None
    b._answer = lambda kind, flags, body: b.send(data)
    c = MQTTClient("qemu", "scripted")
    try:
        c.connect(sock=b)
        print(name, "accepted?")
    except MQTTException as e:
        print(name, "MQTTException", "closed", b.closed, c.sock)


after_connect("PINGRESP flags", packet(0xD1))
after_connect("PUBACK flags", packet(0x41, b"\x00\x01"))
after_connect("PUBREL flags", packet(0x60, b"\x00\x01"))
after_connect("PUBLISH QoS 3", packet(0x36, b"\x00\x01t\x00\x01"))
after_connect("remaining length 5 bytes", b"\x30\xff\xff\xff\xff\x01")
after_connect("remaining length too short", packet(0x40, b"\x00"))
after_connect("PINGRESP with a body", packet(0xD0, b"\x00"))
after_connect("reserved type 0", packet(0x00))
after_connect("reserved type 15", packet(0xF0))
after_connect("CONNECT from broker", packet(0x10, b"\x00\x04MQTT\x04\x02\x00\x00\x00\x00"))
after_connect("second CONNACK", packet(0x20, b"\x00\x00"))
after_connect("PUBLISH QoS 1 id 0", packet(0x32, b"\x00\x01t\x00\x00m"))
instead_of_connack("CONNACK code 6", packet(0x20, b"\x00\x06"))
instead_of_connack("CONNACK code 0xff", packet(0x20, b"\x00\xff"))
instead_of_connack("CONNACK flags 0x02", packet(0x20, b"\x02\x00"))
instead_of_connack("CONNACK length 3", packet(0x20, b"\x00\x00\x00"))
instead_of_connack("PUBLISH before CONNACK", packet(0x30, b"\x00\x01tm"))
