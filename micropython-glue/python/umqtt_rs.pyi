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
    refused subscription) or a broker that broke the protocol (a message)."""

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
    ) -> None:
        """port 0: 8883 with ssl, else 1883.  ssl: True (ssl.wrap_socket with
        ssl_params) or an SSLContext.  max_packet_size 0: MQTT's own limit.
        session: bytes from session_bytes(); session_file: a path the session
        is kept in.  coalesce: publishes that do not wait stay queued until
        the buffer is full, a call that waits or reads, or flush()."""
    def connect(self, clean_session: bool = True, timeout: Optional[float] = None, *, sock: Any = None) -> Optional[int]:
        """Returns the session-present flag (0/1); None in non-blocking mode,
        where check_msg() takes the CONNACK.  sock: an open stream to use
        instead of a new socket."""
    def disconnect(self) -> None: ...
    def ping(self) -> None: ...
    @overload
    def publish(
        self, topic: _Buf, msg: _Buf, retain: bool = False, qos: int = 0, *, wait: bool = True, length: None = None
    ) -> Optional[int]: ...
    @overload
    def publish(self, topic: _Buf, msg: Any, retain: bool = False, qos: int = 0, *, wait: bool = True, length: int) -> Optional[int]:
        """length=n: msg is a readable stream the n-byte payload is read from."""
    def subscribe(self, topic: Union[_Buf, _FilterQos], qos: int = 0, cb: Optional[Callable[..., Any]] = None) -> Optional[int]:
        """Waits for the SUBACK (MQTTException(0x80) when refused) and returns
        None; in non-blocking mode returns the packet id at once.  A list of
        (filter, qos) pairs goes in one SUBSCRIBE; cb receives the filters'
        messages instead of set_callback's function."""
    def unsubscribe(self, topic: _Filters, /) -> Optional[int]:
        """Waits for the UNSUBACK; in non-blocking mode returns the packet id."""
    def set_callback(self, f: Optional[Callable[..., Any]], flags: bool = False, view: bool = False, *, chunks: int = 0) -> None:
        """f(topic, msg); with flags=True f(topic, msg, retained, qos, dup);
        view=True passes memoryviews valid while f runs; chunks=N passes a
        payload over N bytes as f(topic, chunk, offset, total) calls."""
    def set_last_will(self, topic: _Buf, msg: _Buf, retain: bool = False, qos: int = 0) -> None: ...
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
        arrived, else None."""
    def is_connected(self) -> bool: ...
    def set_ack_callback(self, f: Optional[Callable[[int], Any]], /) -> None: ...
    def setblocking(self, flag: bool, /) -> None: ...
    def next_timeout(self) -> Optional[int]:
        """Milliseconds until the client must run again, or None."""
