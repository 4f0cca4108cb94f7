# Type stubs for umqtt_rs_robust (micropython-glue/python/umqtt_rs_robust.py):
# umqtt.robust's MQTTClient and the reconnecting RobustClient over the native
# client.  Names the classes pass on to the native client (__getattr__) are
# declared where that is safe to call through them; tools/check-stubs.py
# checks that each is reachable on the firmware.

from typing import Any, Callable, Optional, Union

from umqtt_rs import MQTTException as MQTTException

_Buf = Union[str, bytes, bytearray, memoryview]

class QueueFull(Exception):
    """The offline queue is at its bound: the QoS 1/2 message was not taken."""

class MQTTClient:
    """umqtt.robust's MQTTClient: publish, wait_msg, check_msg, subscribe and
    unsubscribe reconnect (connect(False), retried after delay(i)) on OSError."""

    DELAY: int
    DEBUG: bool
    on_connect: Optional[Callable[[MQTTClient, int], Any]]
    on_disconnect: Optional[Callable[[MQTTClient, Optional[BaseException]], Any]]
    resubscribe: str
    connected: bool
    def __init__(
        self,
        client_id: _Buf,
        server: Union[str, bytes],
        port: int = 0,
        user: Optional[_Buf] = None,
        password: Optional[_Buf] = None,
        keepalive: int = 0,
        ssl: Any = None,
        ssl_params: dict[str, Any] = {},
        *,
        on_connect: Optional[Callable[[MQTTClient, int], Any]] = None,
        on_disconnect: Optional[Callable[[MQTTClient, Optional[BaseException]], Any]] = None,
        resubscribe: str = "auto",
        rx_size: int = 1024,
        tx_size: int = 1024,
        store_size: int = 2048,
        window: int = 16,
        max_packet_size: int = 65536,
        session: Optional[_Buf] = None,
        session_file: Optional[str] = None,
    ) -> None:
        """resubscribe: "auto" (renew subscriptions when the broker lost the
        session) or "always".  The keyword-only extras after it go to the
        native client."""
    def delay(self, i: int) -> None: ...
    def log(self, in_reconnect: bool, e: BaseException) -> None: ...
    def reconnect(self) -> Optional[int]: ...
    def connect(self, clean_session: bool = True, timeout: Optional[float] = None, *, props: Optional[dict[int, Any]] = None) -> Optional[int]:
        """Returns session_present.  A clean session forgets the recorded
        subscriptions."""
    def publish(self, topic: _Buf, msg: _Buf, retain: bool = False, qos: int = 0, *, props: Optional[dict[int, Any]] = None) -> None: ...
    def wait_msg(self) -> None: ...
    def check_msg(self, attempts: int = 2) -> None: ...
    def subscribe(
        self, topic: _Buf, qos: int = 0, *, no_local: bool = False, retain_as_published: bool = False, retain_handling: int = 0
    ) -> None: ...
    def unsubscribe(self, topic: _Buf) -> None: ...
    def disconnect(self) -> None: ...
    def ping(self) -> None: ...
    def set_callback(self, f: Optional[Callable[..., Any]], flags: bool = False, *, props: bool = False) -> None: ...
    def set_ack_callback(self, f: Optional[Callable[[int], Any]]) -> None: ...
    def set_last_will(self, topic: _Buf, msg: _Buf, retain: bool = False, qos: int = 0, *, props: Optional[dict[int, Any]] = None) -> None: ...
    def subscriptions(self) -> dict[bytes, int]:
        """The active subscriptions: {filter bytes: qos}."""
    # From the native client.
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
    def session_present(self) -> int: ...
    def drain(self, timeout: Optional[float] = None, /) -> bool: ...
    def inflight(self) -> int: ...
    def pending(self) -> int: ...
    def is_connected(self) -> bool: ...
    def next_timeout(self) -> Optional[int]: ...
    def session_bytes(self) -> bytes: ...

class RobustClient(MQTTClient):
    """Reconnects by itself with exponential backoff plus jitter, keeps the
    session (connect() defaults to clean_session=False) and queues publishes
    made while offline (QueueFull beyond the bound for QoS 1/2)."""

    backoff_min: float
    backoff_max: float
    jitter: float
    connect_timeout: Optional[float]
    queue_size: int
    queue_bytes: int
    queue_qos0: bool
    dropped: int
    def __init__(
        self,
        client_id: _Buf,
        server: Union[str, bytes],
        port: int = 0,
        user: Optional[_Buf] = None,
        password: Optional[_Buf] = None,
        keepalive: int = 0,
        ssl: Any = None,
        ssl_params: dict[str, Any] = {},
        *,
        backoff_min: float = 1,
        backoff_max: float = 60,
        jitter: float = 0.5,
        connect_timeout: Optional[float] = 10,
        queue_size: int = 16,
        queue_bytes: int = 8192,
        queue_qos0: bool = False,
        on_connect: Optional[Callable[[MQTTClient, int], Any]] = None,
        on_disconnect: Optional[Callable[[MQTTClient, Optional[BaseException]], Any]] = None,
        resubscribe: str = "auto",
        rx_size: int = 1024,
        tx_size: int = 1024,
        store_size: int = 2048,
        window: int = 16,
        max_packet_size: int = 65536,
        session: Optional[_Buf] = None,
        session_file: Optional[str] = None,
    ) -> None: ...
    def backoff_ms(self, n: int) -> int:
        """Milliseconds to wait after the n-th failed attempt in a row."""
    def queued(self) -> int:
        """Messages waiting in the offline queue."""
    def connect(self, clean_session: bool = False, timeout: Optional[float] = None, *, props: Optional[dict[int, Any]] = None) -> Optional[int]: ...
    # Returns False where MQTTClient.publish returns None: the override is not
    # a subtype at runtime either.
    def publish(  # type: ignore[override]
        self, topic: _Buf, msg: _Buf, retain: bool = False, qos: int = 0, *, wait: bool = True
    ) -> Optional[bool]:
        """False when a QoS 0 message was dropped (offline), else None."""
    def drain(self, timeout: Optional[float] = None) -> bool:
        """False on timeout or when the connection is lost."""
