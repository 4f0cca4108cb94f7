# Type stubs for the native `umqtt_rs` module (micropython-glue/modumqtt_rs.c),
# for IDEs and type checkers.  Keyword names and defaults are those of the C
# argument tables; methods the C code defines with fixed arity take their
# arguments by position only.  tools/check-stubs.py compares the names here
# with the firmware's.

from typing import Any, Callable, Optional, Union, overload

# Topics, filters and messages: text is sent as UTF-8.
_Buf = Union[str, bytes, bytearray, memoryview]
_Filters = Union[_Buf, list[_Buf], tuple[_Buf, ...]]
_FilterQos = Union[list[tuple[_Buf, int]], tuple[tuple[_Buf, int], ...]]

class MQTTException(Exception):
    """A refused CONNACK or SUBACK (args[0]: the return code, 0x80 for a
    refused subscription) or a broker that broke the protocol (a message).
    MQTT 5: args[0] is the reason code (a refused PUBACK/PUBREC, SUBACK,
    CONNACK, or the broker's DISCONNECT, whose args[1] is the Reason String
    or None)."""

# MQTT 5 property identifiers, the keys of props dicts (only in a firmware
# built with MQTT5=1; tools/check-stubs.py lets one without lack them).
PROP_PAYLOAD_FORMAT_INDICATOR: int  # 0x01
PROP_MESSAGE_EXPIRY_INTERVAL: int  # 0x02
PROP_CONTENT_TYPE: int  # 0x03
PROP_RESPONSE_TOPIC: int  # 0x08
PROP_CORRELATION_DATA: int  # 0x09
PROP_SUBSCRIPTION_IDENTIFIER: int  # 0x0B
PROP_SESSION_EXPIRY_INTERVAL: int  # 0x11
PROP_ASSIGNED_CLIENT_IDENTIFIER: int  # 0x12
PROP_SERVER_KEEP_ALIVE: int  # 0x13
PROP_AUTHENTICATION_METHOD: int  # 0x15
PROP_AUTHENTICATION_DATA: int  # 0x16
PROP_REQUEST_PROBLEM_INFORMATION: int  # 0x17
PROP_WILL_DELAY_INTERVAL: int  # 0x18
PROP_REQUEST_RESPONSE_INFORMATION: int  # 0x19
PROP_RESPONSE_INFORMATION: int  # 0x1A
PROP_SERVER_REFERENCE: int  # 0x1C
PROP_REASON_STRING: int  # 0x1F
PROP_RECEIVE_MAXIMUM: int  # 0x21
PROP_TOPIC_ALIAS_MAXIMUM: int  # 0x22
PROP_TOPIC_ALIAS: int  # 0x23
PROP_MAXIMUM_QOS: int  # 0x24
PROP_RETAIN_AVAILABLE: int  # 0x25
PROP_USER_PROPERTY: int  # 0x26
PROP_MAXIMUM_PACKET_SIZE: int  # 0x27
PROP_WILDCARD_SUBSCRIPTION_AVAILABLE: int  # 0x28
PROP_SUBSCRIPTION_IDENTIFIER_AVAILABLE: int  # 0x29
PROP_SHARED_SUBSCRIPTION_AVAILABLE: int  # 0x2A

# A props dict: {PROP_*: int | str | bytes}, PROP_USER_PROPERTY: a list of
# (name, value) pairs (received: also PROP_SUBSCRIPTION_IDENTIFIER a list).
_Props = dict[int, Any]

class MQTTClient:
    """A drop-in for umqtt.simple's MQTTClient, with the extensions in README.md."""

    # Read-only attributes, as in umqtt.simple.
    @property
    def sock(self) -> Any: ...
    @property
    def server(self) -> Union[str, bytes]: ...
    @property
    def port(self) -> int: ...
    @property
    def client_id(self) -> _Buf: ...
    @property
    def keepalive(self) -> int: ...
    @property
    def cb(self) -> Optional[Callable[..., Any]]: ...
    @property
    def session_present(self) -> int:
        """The last CONNACK's session-present flag, 0 or 1."""
    @property
    def protocol(self) -> int:
        """4 (MQTT 3.1.1) or 5."""
    @property
    def connack(self) -> Optional[_Props]:
        """MQTT 5: the last CONNACK's properties as the broker sent them
        (None when it sent none; a firmware with MQTT 5 only)."""
    def __init__(
        self,
        client_id: _Buf,
        server: Union[str, bytes],
        port: int = 0,
        user: Optional[_Buf] = None,
        password: Optional[_Buf] = None,
        keepalive: int = 0,
        ssl: Any = None,
        ssl_params: Optional[dict[str, Any]] = None,
        *,
        rx_size: int = 1024,
        tx_size: int = 1024,
        store_size: int = 2048,
        window: int = 16,
        max_packet_size: int = 65536,
        session: Optional[_Buf] = None,
        session_file: Optional[str] = None,
        coalesce: bool = False,
        protocol: int = 4,
        topic_aliases: int = 256,
    ) -> None:
        """port 0: 8883 with ssl, else 1883.  ssl: True (ssl.wrap_socket with
        ssl_params) or an SSLContext.  max_packet_size 0: MQTT's own limit.
        session: bytes from session_bytes(); session_file: a path the session
        is kept in.  coalesce: publishes that do not wait stay queued until
        the buffer is full, a call that waits or reads, or flush().
        protocol: 4 (MQTT 3.1.1) or 5 (ValueError on a firmware without it).
        topic_aliases: MQTT 5, bytes of memory for outgoing topic aliases
        (0: none sent)."""
    def connect(
        self, clean_session: bool = True, timeout: Optional[float] = None, *, sock: Any = None, props: Optional[_Props] = None
    ) -> Optional[int]:
        """Returns the session-present flag (0/1); None in non-blocking mode,
        where check_msg() takes the CONNACK.  sock: an open stream to use
        instead of a new socket.  props: MQTT 5 CONNECT properties, kept for
        the next connect() calls (None keeps them, {} drops them)."""
    def disconnect(self, reason: int = 0, session_expiry: Optional[int] = None, props: Optional[_Props] = None) -> None:
        """The last three: MQTT 5's DISCONNECT reason code and properties."""
    def ping(self) -> None: ...
    @overload
    def publish(
        self,
        topic: _Buf,
        msg: _Buf,
        retain: bool = False,
        qos: int = 0,
        *,
        wait: bool = True,
        length: None = None,
        props: Optional[_Props] = None,
    ) -> Optional[int]:
        """props: MQTT 5 PUBLISH properties."""
    @overload
    def publish(
        self, topic: _Buf, msg: Any, retain: bool = False, qos: int = 0, *, wait: bool = True, length: int, props: Optional[_Props] = None
    ) -> Optional[int]:
        """length=n: msg is a readable stream the n-byte payload is read from."""
    def subscribe(
        self,
        topic: Union[_Buf, _FilterQos],
        qos: int = 0,
        cb: Optional[Callable[..., Any]] = None,
        *,
        no_local: bool = False,
        retain_as_published: bool = False,
        retain_handling: int = 0,
        props: Optional[_Props] = None,
    ) -> Optional[int]:
        """Waits for the SUBACK (MQTTException(code) when refused: 0x80, or
        MQTT 5's reason code) and returns None; in non-blocking mode returns
        the packet id at once.  A list of (filter, qos) pairs goes in one
        SUBSCRIBE; cb receives the filters' messages instead of
        set_callback's function.  The keyword-only options are MQTT 5's;
        props: SUBSCRIBE properties (PROP_USER_PROPERTY,
        PROP_SUBSCRIPTION_IDENTIFIER; without one the client sends its
        own and dispatches on it)."""
    def unsubscribe(self, topic: _Filters, /) -> Optional[int]:
        """Waits for the UNSUBACK; in non-blocking mode returns the packet id."""
    def set_callback(
        self, f: Optional[Callable[..., Any]], flags: bool = False, view: bool = False, *, chunks: int = 0, props: bool = False
    ) -> None:
        """f(topic, msg); with flags=True f(topic, msg, retained, qos, dup);
        view=True passes memoryviews valid while f runs; chunks=N passes a
        payload over N bytes as f(topic, chunk, offset, total) calls;
        props=True adds the MQTT 5 properties (a dict, or None) last."""
    def set_last_will(
        self, topic: _Buf, msg: _Buf, retain: bool = False, qos: int = 0, *, props: Optional[_Props] = None
    ) -> None: ...
    def wait_msg(self) -> None: ...
    def check_msg(self) -> None: ...
    def drain(self, timeout: Optional[float] = None, /) -> bool:
        """Waits until every QoS 1/2 message is acknowledged; False when
        timeout (seconds) ran out."""
    def inflight(self) -> int: ...
    def pending(self) -> int: ...
    def flush(self) -> None: ...
    def session_bytes(self) -> bytes: ...
    def session_data(self) -> Optional[bytes]: ...
    def set_session_data(self, data: Optional[_Buf], /) -> None:
        """Up to 65,535 bytes of the application's kept with the session."""
    def suback(self, pid: int, /) -> Optional[bytes]:
        """Non-blocking mode: the SUBACK return codes of request pid once it
        arrived (of an unsubscribe: MQTT 5's UNSUBACK reason codes, None in
        3.1.1), else None."""
    def is_connected(self) -> bool: ...
    def set_ack_callback(self, f: Optional[Callable[..., Any]], reason: bool = False) -> None:
        """f(pid); with reason=True f(pid, code): 0, or MQTT 5's reason code
        of a PUBACK/PUBREC refusing publish pid."""
    def set_auth_callback(self, f: Optional[Callable[[int, _Props], Optional[_Buf]]], /) -> None:
        """MQTT 5 enhanced authentication: f(reason, props) for each AUTH from
        the broker: 0x18 with a challenge, f returns the answer's data; 0 when
        a re-authentication succeeded."""
    def reauth(self, data: Optional[_Buf] = None, /) -> None:
        """MQTT 5: re-authenticate with the CONNECT's method and data;
        blocking mode returns at the broker's Success."""
    def request(
        self, topic: _Buf, msg: _Buf, timeout: Optional[float] = 5, *, qos: int = 1, props: Optional[_Props] = None
    ) -> bytes:
        """MQTT 5 request/response: publishes msg with a Response Topic (the
        client's own, subscribed at the first request) and a new
        Correlation Data, and returns the payload of the answer published
        to that topic with that Correlation Data; OSError(ETIMEDOUT) when
        none came within timeout seconds (None: no limit).  Always waits."""
    def setblocking(self, flag: bool, /) -> None: ...
    def next_timeout(self) -> Optional[int]:
        """Milliseconds until the client must run again, or None."""
