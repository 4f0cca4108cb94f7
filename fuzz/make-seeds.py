#!/usr/bin/env python3
"""Write the committed seed corpora (fuzz/corpus/<target>/): one seed per
packet type for `decode` and `roundtrip`, a few broker conversations for
`session` (3.1.1, through the C ABI) and `session5` (MQTT 5, tests/driver5).  Rerun after changing a target's input format."""
import os

HERE = os.path.dirname(os.path.abspath(__file__))

PACKETS = {
    "connect": bytes([0x10, 0x0D, 0, 4]) + b"MQTT" + bytes([4, 2, 0, 10, 0, 1]) + b"c",
    "connack": bytes([0x20, 2, 0, 0]),
    "publish": bytes([0x34, 9, 0, 3]) + b"a/b" + bytes([0, 11]) + b"hi",
    "puback": bytes([0x40, 2, 0, 1]),
    "pubrec": bytes([0x50, 2, 0, 1]),
    "pubrel": bytes([0x62, 2, 0, 1]),
    "pubcomp": bytes([0x70, 2, 0, 1]),
    "subscribe": bytes([0x82, 8, 0, 1, 0, 3]) + b"a/#" + bytes([1]),
    "suback": bytes([0x90, 4, 0, 1, 1, 0x80]),
    "unsubscribe": bytes([0xA2, 7, 0, 1, 0, 3]) + b"a/+",
    "unsuback": bytes([0xB0, 2, 0, 1]),
    "pingreq": bytes([0xC0, 0]),
    "pingresp": bytes([0xD0, 0]),
    "disconnect": bytes([0xE0, 0]),
}


# MQTT 5 (decode tries both versions on every input): one seed per packet
# type, with properties and reason codes.
PACKETS5 = {
    "v5_connect": bytes([0x10, 19, 0, 4]) + b"MQTT" + bytes([5, 2, 0, 10, 5, 0x11, 0, 0, 0, 60, 0, 1]) + b"c",
    "v5_connack": bytes([0x20, 9, 0, 0, 6, 0x21, 0, 20, 0x22, 0, 10]),
    "v5_publish": bytes([0x32, 16, 0, 3]) + b"a/b" + bytes([0, 11, 6, 0x23, 0, 1, 0x0B, 0x80, 0x01]) + b"hi",
    "v5_puback": bytes([0x40, 3, 0, 1, 0x10]),
    "v5_pubrec": bytes([0x50, 8, 0, 1, 0x97, 4, 0x1F, 0, 1]) + b"q",
    "v5_pubrel": bytes([0x62, 3, 0, 1, 0x92]),
    "v5_pubcomp": bytes([0x70, 4, 0, 1, 0, 0]),
    "v5_subscribe": bytes([0x82, 11, 0, 1, 2, 0x0B, 42, 0, 3]) + b"a/#" + bytes([0x2D]),
    "v5_suback": bytes([0x90, 6, 0, 1, 0, 1, 0x87, 0x9E]),
    "v5_unsubscribe": bytes([0xA2, 15, 0, 2, 7, 0x26, 0, 1]) + b"k" + bytes([0, 1]) + b"v" + bytes([0, 3]) + b"a/+",
    "v5_unsuback": bytes([0xB0, 5, 0, 2, 0, 0, 0x11]),
    "v5_disconnect": bytes([0xE0, 7, 0x8E, 5, 0x11, 0, 0, 0, 0]),
    "v5_auth": bytes([0xF0, 12, 0x18, 10, 0x15, 0, 2]) + b"M1" + bytes([0x16, 0, 2, 0xAB, 0xCD]),
}


def feed(b):
    # session op 0: broker bytes, length-prefixed
    return bytes([0, len(b)]) + b


def session_seeds():
    hdr = bytes([40, 40, 4])  # rx, tx, keepalive 2 s with a store
    connack = PACKETS["connack"]
    return {
        "publish_qos012": hdr + feed(connack) + bytes([10, 0x10]) + feed(bytes([0x90, 3, 0, 1, 1]))
        + bytes([8, 0x10, 4, 8, 0x20, 4]) + feed(bytes([0x40, 2, 0, 2]))
        + feed(bytes([0x50, 2, 0, 3])) + feed(bytes([0x70, 2, 0, 3])),
        "incoming_qos2": hdr + feed(connack) + feed(PACKETS["publish"])
        + feed(bytes([0x3C, 9, 0, 3]) + b"a/b" + bytes([0, 11]) + b"hi") + feed(bytes([0x62, 2, 0, 11])),
        "split_publish": hdr + feed(connack) + feed(PACKETS["publish"][:3]) + feed(PACKETS["publish"][3:])
        + feed(bytes([0x30, 5, 0, 1]) + b"tqq"),
        "keepalive": bytes([40, 40, 2]) + feed(connack) + bytes([7, 10, 7, 10]) + feed(PACKETS["pingresp"])
        + bytes([15, 1]),
        "unsubscribe": hdr + feed(connack) + bytes([10, 0x80]) + feed(PACKETS["unsuback"]),
        "resume": hdr + feed(connack) + bytes([8, 0x10, 4, 8, 0x20, 4, 13, 0]) + feed(bytes([0x20, 2, 1, 0]))
        + feed(bytes([0x40, 2, 0, 1])) + feed(bytes([0x50, 2, 0, 2])) + feed(bytes([0x70, 2, 0, 2])),
        "large": bytes([0, 0, 4]) + feed(connack) + feed(bytes([0x30, 0xC8, 1, 0, 1]) + b"t" + bytes(100))
        + feed(bytes(100)),
        "bad_length": hdr + feed(connack) + feed(bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 1])),
    }


def session5_seeds():
    # sizes (tx 32 + 16 * low nibble, store 32 * high nibble, maximum packet
    # size 8 * the byte), flags (window - 1 in the high nibble, bit 3 an alias
    # map, bit 2 an Authentication Method in CONNECT, keepalive and receive
    # maximum from the low bits); then ops as for `session`: 0-5 broker
    # bytes, 6 time, 7-8 publish (arg: topic, QoS in bits 4-5, retain bit 7;
    # then payload length; 8 with outgoing topic aliases), 9 subscribe,
    # 10 unsubscribe, 11 ping (arg bit 7: re-authenticate), 12 reconnect,
    # 13 disconnect, 14-15 the application acks.
    hdr = bytes([0xFF, 0x32])
    connack = PACKETS5["v5_connack"]
    return {
        "publish_refused": hdr + feed(connack) + bytes([7, 0x10, 2, 7, 0x20, 2])
        + feed(bytes([0x40, 3, 0, 1, 0x87])) + feed(bytes([0x50, 3, 0, 2, 0x97])),
        "limits": hdr + feed(bytes([0x20, 13, 0, 0, 10, 0x21, 0, 1, 0x24, 0, 0x25, 0, 0x13, 0, 2]))
        + bytes([7, 0x10, 2, 7, 0x80, 2, 6, 30]),
        "incoming": hdr + feed(connack) + bytes([9, 0x10]) + feed(bytes([0x90, 4, 0, 1, 0, 1]))
        + feed(bytes([0x32, 14, 0, 1]) + b"t" + bytes([0, 2, 7, 0x26, 0, 1]) + b"k" + bytes([0, 1]) + b"v" + b"x")
        + bytes([14, 0]),
        # flags bit 3: an alias map, topic alias maximum 3
        "alias": bytes([0xFF, 0x3A]) + feed(connack) + feed(bytes([0x30, 8, 0, 1]) + b"t" + bytes([3, 0x23, 0, 1]) + b"x")
        + feed(bytes([0x30, 7, 0, 0, 3, 0x23, 0, 1]) + b"y"),
        "disconnect": hdr + feed(connack) + feed(PACKETS5["v5_disconnect"]) + bytes([12, 1]) + feed(connack),
        # CONNACK with topic alias maximum 2; publishes with aliases, a
        # reconnect, again
        "aliases_out": hdr + feed(bytes([0x20, 6, 0, 0, 3, 0x22, 0, 2]))
        + bytes([8, 0x00, 1, 8, 0x00, 1, 8, 0x01, 1, 12, 1]) + feed(bytes([0x20, 6, 1, 0, 3, 0x22, 0, 2]))
        + bytes([8, 0x00, 1]),
        # flags bit 2: AUTH at connect (challenge, CONNACK), then a
        # re-authentication answered and ended with Success
        "auth": bytes([0xFF, 0x34]) + feed(bytes([0xF0, 9, 0x18, 7, 0x15, 0, 1]) + b"M" + bytes([0x16, 0, 0]))
        + feed(connack) + bytes([11, 0x80]) + feed(bytes([0xF0, 9, 0x18, 7, 0x15, 0, 1]) + b"M" + bytes([0x16, 0, 0]))
        + feed(bytes([0xF0, 6, 0, 4, 0x15, 0, 1]) + b"M"),
    }


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


write("decode", {**PACKETS, **PACKETS5})
# roundtrip: kind byte, one filter "a/b" QoS 1, then bytes for the fields
tail = bytes([2]) + b"cl" + bytes([0, 10, 1, 1, 3]) + b"w/t" + bytes([2]) + b"hi" + bytes([1, 1, 1, 1]) + b"u"
tail += bytes([1, 1]) + b"p" + bytes([5])
write("roundtrip", {name: bytes([k, 1, 3]) + b"a/b" + bytes([1]) + tail for k, name in enumerate(PACKETS)})
# v5 kinds 14-28 (AUTH is the 15th): two property lists of one property
# each (a user property, a will delay), then a filter and its options byte.
props5 = bytes([1, 22, 1]) + b"k" + bytes([1]) + b"v" + bytes([1, 12, 0, 0, 0, 5])
write("roundtrip", {
    "v5_" + name: bytes([14 + k]) + props5 + bytes([1, 3]) + b"a/b" + bytes([0x2D]) + tail
    for k, name in enumerate(list(PACKETS) + ["auth"])
})
write("session", session_seeds())
write("session5", session5_seeds())
# restore: what follows magic and version in saved session bytes (the target
# adds those and the checksum): flags, next id, messages, held-id runs.
write("restore", {
    "empty": bytes([0, 0, 1, 0, 0, 0, 0, 0]),
    "inflight": bytes([0, 0, 4, 3])
    + bytes([0, 1, 1, 0, 0, 0, 10]) + bytes([0x32, 8, 0, 1]) + b"t" + bytes([0, 1]) + b"one"
    + bytes([0, 2, 2, 0, 0, 0, 10]) + bytes([0x34, 8, 0, 1]) + b"t" + bytes([0, 2]) + b"two"
    + bytes([0, 3, 3, 0, 0, 0, 0])
    + bytes([0, 2, 0, 9, 0, 1, 1, 0, 0, 100])
    + bytes([0, 4]) + b"subs",
})
