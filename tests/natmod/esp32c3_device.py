# The rv32imc natmod on a stock ESP32-C3 firmware (MicroPython 1.25, ESP-IDF
# v5.2.2, board ESP32_GENERIC_C3 variant QEMU, no user C module) in
# Espressif's QEMU, after `mpremote mip install build/natmod/rv32imc/lib/
# package.json` (developer-run: the environment of ../shared/esp32; the
# broker is reached as 10.0.2.100:1883 through QEMU's guestfwd).  Checks:
# where the code goes (executable RAM, not the heap), LAN up, a QoS 0/1/2
# round trip, a raising callback (exceptions through the esp32 port's
# setjmp-based nlr), argument errors, keepalive pings while idle.
import gc, sys, time, network
print("impl", sys.implementation._build, "arch", sys.implementation._mpy >> 10)
import esp32
def exec_free():
    return sum(h[1] for h in esp32.idf_heap_info(esp32.HEAP_EXEC))
e0 = exec_free()
gc.collect(); f0 = gc.mem_free()
import umqtt_rs
print("exec RAM taken", e0 - exec_free(), "of", e0, "free")
gc.collect(); print("import took", f0 - gc.mem_free(), "heap bytes; file", umqtt_rs.__file__)
lan = network.LAN(phy_type=network.PHY_OPENETH, phy_addr=1)
lan.active(True)
t0 = time.ticks_ms()
while lan.ifconfig()[0] == "0.0.0.0" and time.ticks_diff(time.ticks_ms(), t0) < 30000:
    time.sleep_ms(100)
print("lan", lan.ifconfig()[0])
from umqtt_rs import MQTTClient, MQTTException
got = []
def cb(t, m):
    if m == b"raise":
        raise ValueError("from callback")
    got.append((t, m))
c = MQTTClient("c3-natmod", "10.0.2.100", 1883, keepalive=2)
c.set_callback(cb)
print("connect", c.connect())
c.subscribe(b"natmod/loop", qos=2)
for q in (0, 1, 2):
    c.publish(b"natmod/loop", b"q%d" % q, qos=q)
t0 = time.ticks_ms()
while len(got) < 3 and time.ticks_diff(time.ticks_ms(), t0) < 10000:
    c.check_msg()
print("got", sorted(got))
try:
    c.publish(b"natmod/loop", b"raise", qos=1)
    while True:
        c.wait_msg()
except ValueError as e:
    print("callback raised", e)
try:
    c.publish(b"bad/#", b"x")
except ValueError as e:
    print("ValueError", e)
t0 = time.ticks_ms()
while time.ticks_diff(time.ticks_ms(), t0) < 5000:
    c.check_msg()
    time.sleep_ms(100)
print("alive after 5 s idle with keepalive=2", c.is_connected())
c.disconnect()
# The raised message was abandoned, not acknowledged: a reconnect with
# the session brings it again.
c2 = MQTTClient("c3-natmod2", "10.0.2.100", 1883)
try:
    c2.connect()
    c2.publish(b"x/y", b"z", qos=3)
except ValueError as e:
    print("ValueError", e)
c2.disconnect()
print("mem_free", gc.mem_free())
print("done")
