#!/usr/bin/env bash
# Run every example on the firmware against the broker of tools/broker.py and
# check what it printed (and, for the subscriber, what a real client sent it).
#   tests/examples.sh <firmware>
set -euo pipefail
firmware=$(realpath "$1")
cd "$(dirname "$0")/../examples"
fail=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT

expect() { # name, pattern: the last run's output must contain pattern
    if grep -q -- "$2" "$log"; then
        echo "pass  examples/$1"
    else
        echo "FAIL  examples/$1: no '$2' in:"; sed 's/^/    /' "$log"; fail=1
    fi
}
run() { timeout 60 "$firmware" "$@" >"$log" 2>&1 || echo "exit status $?" >>"$log"; }

# A reading goes out to a real subscriber.
sub=$(mktemp)
timeout 30 mosquitto_sub -h "$MQTT_HOST" -p "$MQTT_PORT" -t 'umqtt_rs/demo/sensor/temperature' -C 3 >"$sub" &
sub_pid=$!
sleep 0.5
EXAMPLE_COUNT=3 EXAMPLE_INTERVAL=0.1 run publish_sensor.py
wait "$sub_pid" || true
[ "$(wc -l <"$sub")" = 3 ] && echo "3 readings received" >>"$log"
rm -f "$sub"
expect publish_sensor.py "3 readings received"

# Commands from a real publisher switch the LED.
EXAMPLE_COUNT=3 EXAMPLE_DURATION=20 timeout 60 "$firmware" subscribe_led.py >"$log" 2>&1 &
led_pid=$!
for _ in $(seq 100); do grep -q "waiting for commands" "$log" && break; sleep 0.1; done
for cmd in on off toggle; do
    mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -t umqtt_rs/demo/led -q 1 -m "$cmd"
done
wait "$led_pid" || echo "exit status $?" >>"$log"
expect subscribe_led.py "handled 3 commands"

# Dropped without DISCONNECT: the broker publishes the retained will.
EXAMPLE_COUNT=2 EXAMPLE_INTERVAL=0.1 EXAMPLE_DROP=1 run last_will.py
status=$(sed -n 's/ = online$//p' "$log")
if [ -n "$status" ]; then
    will=$(timeout 10 mosquitto_sub -h "$MQTT_HOST" -p "$MQTT_PORT" -t "$status" -C 1 -W 5 || true)
    echo "retained status: $will" >>"$log"
fi
expect last_will.py "retained status: offline"

run qos_levels.py
expect qos_levels.py "got 3 of 3"

run roundtrip.py
expect roundtrip.py "received: hello from umqtt_rs"

# A 300 KB image from a real publisher, received in pieces into a file.
img=$(mktemp); out=$(mktemp)
head -c 300000 /dev/urandom >"$img"
sha=$(sha256sum "$img" | cut -d' ' -f1)
mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -t umqtt_rs/demo/ota/sha256 -q 1 -r -m "$sha"
EXAMPLE_OUT=$out EXAMPLE_DURATION=20 timeout 60 "$firmware" -X heapsize=128K ota_receive.py >"$log" 2>&1 &
ota_pid=$!
for _ in $(seq 100); do grep -q "waiting for an image" "$log" && break; sleep 0.1; done
mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -t umqtt_rs/demo/ota/image -q 1 -f "$img"
wait "$ota_pid" || echo "exit status $?" >>"$log"
cmp -s "$img" "$out" && echo "file identical" >>"$log"
mosquitto_pub -h "$MQTT_HOST" -p "$MQTT_PORT" -t umqtt_rs/demo/ota/sha256 -r -n
rm -f "$img" "$out"
expect ota_receive.py "sha256 $sha OK"
expect ota_receive.py "file identical"

# Two wakes of the sleeping sensor: the second restores the saved session.
state=$(mktemp -u)
EXAMPLE_STATE=$state run deep_sleep_sensor.py
expect deep_sleep_sensor.py "published, acknowledged"
EXAMPLE_STATE=$state run deep_sleep_sensor.py
expect deep_sleep_sensor.py "restored session with 0 in flight"
rm -f "$state"

exit $fail
