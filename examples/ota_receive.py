# Receive a file larger than memory (a firmware image, a config blob) over
# MQTT: set_callback(f, chunks=N) passes the message on in pieces, written
# to a file as they come with a running sha256; nothing holds it whole.  The
# sender publishes the file to TOPIC_PREFIX/ota/image (QoS 1), e.g.
#   mosquitto_pub -h BROKER -t umqtt_rs/demo/ota/image -q 1 -f image.bin
# and the expected sha256 (hex) to TOPIC_PREFIX/ota/sha256 first (retained).
# EXAMPLE_OUT names the file (default ota.bin); EXAMPLE_DURATION bounds the
# wait (seconds, default 60).
import binascii
import hashlib
import time

import config
from umqtt_rs import MQTTClient

IMAGE = config.TOPIC_PREFIX + "/ota/image"
SHA = config.TOPIC_PREFIX + "/ota/sha256"
OUT = config.getenv("EXAMPLE_OUT", "ota.bin")
DURATION = int(config.getenv("EXAMPLE_DURATION", 60))


class Receiver:
    def __init__(self):
        self.expected = None
        self.out = None
        self.sha = None
        self.done = False

    def __call__(self, topic, msg, *piece):
        if bytes(topic) == SHA.encode():
            self.expected = bytes(msg).decode().strip()
            return
        offset, total = piece if piece else (0, len(msg))
        if offset == 0:
            self.out = open(OUT, "wb")
            self.sha = hashlib.sha256()
            print("receiving", total, "bytes into", OUT)
        self.out.write(msg)
        self.sha.update(msg)
        if offset + len(msg) == total:
            self.out.close()
            digest = binascii.hexlify(self.sha.digest()).decode()
            ok = self.expected is None or digest == self.expected
            print("received", total, "bytes, sha256", digest, "OK" if ok else "MISMATCH")
            self.done = True


def main():
    config.wifi_connect()
    host, port = config.broker()
    rx = Receiver()
    c = MQTTClient(config.client_id("ota"), host, port=port, keepalive=30)
    c.set_callback(rx, chunks=4096)
    c.connect()
    c.subscribe(SHA, qos=1)
    c.subscribe(IMAGE, qos=1)
    print("waiting for an image on", IMAGE)
    t0 = time.ticks_ms()
    while not rx.done and time.ticks_diff(time.ticks_ms(), t0) < DURATION * 1000:
        c.wait_msg()
    c.disconnect()


main()
