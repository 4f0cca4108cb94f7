# MQTT 5 request/response with request(): a responder (another client, in
# a thread) answers requests on "svc" to their Response Topic with their
# Correlation Data, through mosquitto.  request() returns the answer's
# payload; several in a row each get their own; a request nobody answers
# raises OSError(ETIMEDOUT), and its late answer is dropped (never reaches
# a callback) without disturbing the next request; answers reach request()
# also in non-blocking mode and in a callback; a new session subscribes the
# response topic again; MQTT 3.1.1 has no request().
import sys
import time

sys.path.append(sys.path[0] + "/support")
import umqtt_rs
from mqtt_test import client, topic, drain

if not hasattr(umqtt_rs, "PROP_USER_PROPERTY"):
    print("SKIP")
    raise SystemExit
import _thread

P = umqtt_rs
svc = topic("svc")
state = {"delay": 0, "stop": False, "seen": []}


def responder():
    r = client("v5responder", protocol=5)

    def answer(t, m, props):
        state["seen"].append(sorted((props or {}).keys()))
        time.sleep_ms(state["delay"])
        out = {P.PROP_CORRELATION_DATA: props[P.PROP_CORRELATION_DATA]}
        r.publish(props[P.PROP_RESPONSE_TOPIC], b"re:" + m, qos=1, props=out)

    r.set_callback(answer, props=True)
    r.connect()
    r.subscribe(svc, 1)
    state["ready"] = True
    while not state["stop"]:
        r.check_msg()
        time.sleep_ms(2)
    r.disconnect()


_thread.start_new_thread(responder, ())
while not state.get("ready"):
    time.sleep_ms(10)

other = []
c = client("v5requester", protocol=5)
c.set_callback(lambda t, m: other.append((t, m)))
c.connect()
print("answer", c.request(svc, b"ping", 5))
print("qos 0", c.request(svc, b"a", 5, qos=0), c.request(svc, b"b", 5, qos=2))
# The application's properties go along with the request's own.
print("props", c.request(svc, b"u", 5, props={P.PROP_USER_PROPERTY: [("k", "v")]}))
print("request carried", state["seen"][-1] == [P.PROP_RESPONSE_TOPIC, P.PROP_CORRELATION_DATA, P.PROP_USER_PROPERTY])

# Nobody answers in time: ETIMEDOUT; the late answer is dropped.
state["delay"] = 600
try:
    c.request(svc, b"slow", 0.2)
    print("answered?")
except OSError as e:
    print("timeout", e.errno == 110)
state["delay"] = 0
drain(c, 800)
print("late answer dropped", other == [])
print("next", c.request(svc, b"next", 5))

# Non-blocking mode: request() still waits for its answer.
c.setblocking(False)
print("non-blocking", c.request(svc, b"nb", 5))
c.setblocking(True)

# A callback may make a request: the answer is taken while it runs.
trigger = topic("trigger")
nested = []


def on_trigger(t, m):
    nested.append(c.request(svc, b"inner", 5))


c.subscribe(trigger, 1, cb=on_trigger)
c.publish(trigger, b"go", qos=1)
t0 = time.ticks_ms()
while not nested and time.ticks_diff(time.ticks_ms(), t0) < 5000:
    c.check_msg()
print("from a callback", nested)

# A new connection without a session subscribes the response topic again.
c.disconnect()
c.connect(clean_session=True)
print("reconnected", c.request(svc, b"again", 5))
c.disconnect()

old = client("v5req311")
try:
    old.request(svc, b"x", 1)
except ValueError as e:
    print("3.1.1", e)
except AttributeError:
    print("3.1.1", "no request")
state["stop"] = True
time.sleep_ms(200)
