# Publish a sensor reading every EXAMPLE_INTERVAL seconds (default 5).
# Board: the ESP32's internal temperature sensor, or an ADC pin elsewhere.
# Unix: a made-up reading. EXAMPLE_COUNT=N stops after N readings (default:
# forever on a board, 3 on unix).
import time

import config
from umqtt_rs import MQTTClient

INTERVAL = float(config.getenv("EXAMPLE_INTERVAL", 5))
COUNT = int(config.getenv("EXAMPLE_COUNT", 3 if config.UNIX else 0))
TOPIC = config.TOPIC_PREFIX + "/sensor/temperature"


def make_sensor():
    try:
        import esp32

        if hasattr(esp32, "mcu_temperature"):
            return esp32.mcu_temperature  # Celsius: ESP32-C3, -S2, -S3, -C6
        raw = esp32.raw_temperature  # Fahrenheit, classic ESP32 only
        return lambda: (raw() - 32) / 1.8
    except (ImportError, AttributeError):
        pass
    try:
        import machine

        adc = machine.ADC(machine.Pin(34))
        return lambda: adc.read_u16() * 100 / 65535  # scale to your sensor
    except (ImportError, AttributeError, ValueError):
        pass
    import random

    return lambda: 20 + random.getrandbits(8) / 64  # unix: a fake reading


def main():
    config.wifi_connect()
    host, port = config.broker()
    read = make_sensor()
    c = MQTTClient(config.client_id("sensor"), host, port=port, keepalive=60)
    c.connect()
    print("publishing to", TOPIC)
    n = 0
    try:
        while COUNT == 0 or n < COUNT:
            value = "%.1f" % read()
            c.publish(TOPIC, value)
            n += 1
            print("published", value)
            if COUNT == 0 or n < COUNT:
                time.sleep(INTERVAL)
    finally:
        c.disconnect()


main()
