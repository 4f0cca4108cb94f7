# Settings for the examples. On a board, edit the first lines and copy this
# file next to the example (e.g. `mpremote cp config.py :`). On the unix port
# the broker comes from the MQTT_HOST / MQTT_PORT environment variables and
# no WiFi is involved.
import sys

WIFI_SSID = "my-network"
WIFI_PASSWORD = "my-password"
BROKER = "192.168.1.10"  # host name or address of your MQTT broker
PORT = 1883
TOPIC_PREFIX = "umqtt_rs/demo"

UNIX = sys.platform in ("linux", "darwin")


def getenv(name, default=None):
    """An environment variable on unix, else default."""
    if UNIX:
        import os

        v = os.getenv(name)
        if v:
            return v
    return default


def broker():
    """(host, port) of the broker."""
    return getenv("MQTT_HOST", BROKER), int(getenv("MQTT_PORT", PORT))


def client_id(name):
    """A client id unique to this board (or this unix process)."""
    try:
        import machine
        import binascii

        uid = binascii.hexlify(machine.unique_id()).decode()
    except (ImportError, AttributeError):
        import random

        uid = "%08x" % random.getrandbits(32)
    return "%s-%s" % (name, uid)


def wifi_connect(timeout_s=20):
    """Join WIFI_SSID on a board; nothing to do on unix."""
    if UNIX:
        return
    import network
    import time

    wlan = network.WLAN(network.STA_IF)
    wlan.active(True)
    if not wlan.isconnected():
        print("connecting to", WIFI_SSID)
        wlan.connect(WIFI_SSID, WIFI_PASSWORD)
        t0 = time.ticks_ms()
        while not wlan.isconnected():
            if time.ticks_diff(time.ticks_ms(), t0) > timeout_s * 1000:
                raise OSError("WiFi connection to %s timed out" % WIFI_SSID)
            time.sleep_ms(200)
    print("network", wlan.ifconfig()[0])
