# Type stubs for umqtt_rs_asyncio (micropython-glue/python/umqtt_rs_asyncio.py):
# an asyncio client over the native client in non-blocking mode.  connect,
# publish, subscribe and unsubscribe are generators at runtime (awaiting
# them allocates nothing); they are typed as coroutines, which is how they
# are used.  Names passed on to the native client (__getattr__) are declared
# where calling them does not disturb the driving tasks; tools/check-stubs.py
# checks that each is reachable on the firmware.

from typing import Any, AsyncIterator, Optional, Union

from umqtt_rs import MQTTException as MQTTException

_Buf = Union[str, bytes, bytearray, memoryview]

class MQTTClient:
    """Awaitable connect/publish/subscribe/unsubscribe/ping/disconnect and an
    async iterator of messages."""

    queue_size: int
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
        queue_size: int = 32,
        flags: bool = False,
        window: int = 16,
        wait_on: str = "sock",
        props: bool = False,
        rx_size: int = 1024,
        tx_size: int = 1024,
        store_size: int = 2048,
        max_packet_size: int = 65536,
        session: Optional[_Buf] = None,
        session_file: Optional[str] = None,
    ) -> None:
        """queue_size: messages held for messages() (the oldest is dropped and
        counted in .dropped); flags: messages() yields (topic, msg, retained,
        qos, dup); wait_on: "sock" or "client" (the native object)."""
    async def connect(
        self, clean_session: bool = True, timeout: Optional[float] = None, *, sock: Any = None, props: Optional[dict[int, Any]] = None
    ) -> int:
        """Returns session_present.  The TCP/TLS handshake blocks the loop (at
        most timeout seconds); the CONNACK is awaited without blocking it."""
    async def disconnect(self) -> None: ...
    async def publish(self, topic: _Buf, msg: _Buf, retain: bool = False, qos: int = 0, *, props: Optional[dict[int, Any]] = None) -> None:
        """QoS 0 returns once queued; QoS 1 awaits the PUBACK, QoS 2 the PUBCOMP."""
    async def subscribe(
        self, topic: _Buf, qos: int = 0, *, no_local: bool = False, retain_as_published: bool = False, retain_handling: int = 0
    ) -> None:
        """Awaits the SUBACK; MQTTException(code) when refused (0x80, or
        MQTT 5's reason code).  The keyword-only options are MQTT 5's."""
    async def unsubscribe(self, topic: _Buf) -> None: ...
    async def ping(self) -> None: ...
    def messages(self) -> AsyncIterator[tuple[Any, ...]]:
        """(topic, msg), or (topic, msg, retained, qos, dup) with flags=True.
        Ends after disconnect(); raises the error that closed the connection."""
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
    def session_present(self) -> int: ...
    def set_last_will(self, topic: _Buf, msg: _Buf, retain: bool = False, qos: int = 0) -> None:
        """Before connect()."""
    def inflight(self) -> int: ...
    def pending(self) -> int: ...
    def is_connected(self) -> bool: ...
    def next_timeout(self) -> Optional[int]: ...
    def session_bytes(self) -> bytes: ...
    def session_data(self) -> Optional[bytes]: ...
    def set_session_data(self, data: Optional[_Buf], /) -> None: ...
