# Invalid arguments raise ValueError with a message naming the rule, before
# any socket is opened (the port here is closed: reaching it would be an
# OSError).
from umqtt_rs import MQTTClient

cases = (
    ("empty id, persistent", dict(client_id=""), dict(clean_session=False)),
    ("password without user", dict(client_id="a", password="pw"), {}),
    ("NUL in client id", dict(client_id="a\0b"), {}),
    ("id not UTF-8", dict(client_id=b"\xff"), {}),
)
for name, make, conn in cases:
    c = MQTTClient(make.pop("client_id"), "127.0.0.1", 9, **make)
    try:
        c.connect(**conn)
        print(name, "accepted")
    except ValueError as e:
        print(name, "->", e)
c = MQTTClient("a", "127.0.0.1", 9)
for bad in ([], [("t", 0)] * 9):
    try:
        c.subscribe(bad)
    except ValueError as e:
        print(len(bad), "topics ->", e)
