# Switch an LED from MQTT: publish "on", "off" or "toggle" to
# <TOPIC_PREFIX>/led, e.g.  mosquitto_pub -t umqtt_rs/demo/led -m on
# Board: machine.Pin(LED_PIN). Unix: prints the LED state.
# Stops after EXAMPLE_COUNT commands or EXAMPLE_DURATION seconds when set.
import time

import config
from umqtt_rs import MQTTClient

LED_PIN = 2  # the blue LED of most ESP32 DevKit boards
TOPIC = config.TOPIC_PREFIX + "/led"
COUNT = int(config.getenv("EXAMPLE_COUNT", 0))
DURATION = float(config.getenv("EXAMPLE_DURATION", 0))


class Led:
    def __init__(self):
        try:
            import machine

            self.pin = machine.Pin(LED_PIN, machine.Pin.OUT)
        except (ImportError, AttributeError):
            self.pin = None  # unix
        self.state = 0

    def set(self, on):
        self.state = 1 if on else 0
        if self.pin is not None:
            self.pin.value(self.state)
        print("led:", "on" if self.state else "off")


led = Led()
handled = 0


def on_message(topic, msg):
    global handled
    cmd = bytes(msg).strip().lower()
    if cmd in (b"on", b"1"):
        led.set(True)
    elif cmd in (b"off", b"0"):
        led.set(False)
    elif cmd == b"toggle":
        led.set(not led.state)
    else:
        print("ignored:", msg)
        return
    handled += 1


def main():
    config.wifi_connect()
    host, port = config.broker()
    c = MQTTClient(config.client_id("led"), host, port=port, keepalive=30)
    c.set_callback(on_message)
    c.connect()
    c.subscribe(TOPIC, qos=1)
    print("waiting for commands on", TOPIC)
    t0 = time.ticks_ms()
    try:
        while COUNT == 0 or handled < COUNT:
            if DURATION and time.ticks_diff(time.ticks_ms(), t0) > DURATION * 1000:
                break
            if c.check_msg() is None:
                time.sleep_ms(20)
    finally:
        c.disconnect()
    print("handled", handled, "commands")


main()
