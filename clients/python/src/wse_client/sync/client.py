"""A blocking client for scripts and notebooks.

:class:`SyncWSEClient` runs an :class:`~wse_client.AsyncWSEClient` on an
event loop in a background thread it owns; every method blocks the calling
thread until the loop has done the work (or the timeout passes). Methods may
be called from any thread. Handlers registered with :meth:`on` run on the
client's thread, one at a time: they must not call the blocking methods of
the same client (that would wait for the thread they run on).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future
from typing import Any, Coroutine, Iterable, Iterator, TypeVar

from ..asyncio.client import AsyncWSEClient, Handler
from ..events import ConnectionState, Event, Position, SubscribeResult
from ..exceptions import ClientClosed

__all__ = ["SyncWSEClient"]

T = TypeVar("T")


class SyncWSEClient:
    """The blocking twin of :class:`~wse_client.AsyncWSEClient`; takes the
    same arguments.

    ::

        with SyncWSEClient("ws://localhost:5007/wse", token="...") as client:
            client.subscribe(["prices"])
            for event in client:
                print(event)
    """

    def __init__(self, url: str, token: str | None = None, **kwargs: Any) -> None:
        self._client = AsyncWSEClient(url, token, **kwargs)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="wse-client", daemon=True)
        self._started = False
        self._lock = threading.Lock()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_forever()
        self._loop.close()

    def _call(self, coro: Coroutine[Any, Any, T], timeout: float | None) -> T:
        if not self._thread.is_alive():
            coro.close()
            raise ClientClosed("wse: client closed")
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self._loop)
        try:
            return fut.result(timeout)
        except TimeoutError:
            fut.cancel()
            raise

    @property
    def client(self) -> AsyncWSEClient:
        """The underlying asyncio client (use it only on the client's loop)."""
        return self._client

    def connect(self, timeout: float | None = 30.0) -> None:
        """Start the thread, connect and block until ready (see
        :meth:`AsyncWSEClient.connect` for the errors it raises)."""
        with self._lock:
            if self._started:
                raise ClientClosed("wse: connect() may be called once")
            self._started = True
            self._thread.start()
        try:
            self._call(self._client.connect(), timeout)
        except BaseException:
            self._stop_thread()
            raise

    def close(self, timeout: float | None = 10.0) -> None:
        """Close the connection and stop the thread; idempotent."""
        if self._thread.is_alive():
            try:
                self._call(self._client.close(), timeout)
            finally:
                self._stop_thread()

    def _stop_thread(self) -> None:
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._loop.stop)
            if threading.current_thread() is not self._thread:
                self._thread.join(10)

    def __enter__(self) -> SyncWSEClient:
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def subscribe(
        self, topics: Iterable[str] | str, recover: bool = True, *, presence: Any = None, timeout: float | None = None
    ) -> SubscribeResult:
        """Subscribe and block until the server replied."""
        return self._call(self.client.subscribe(topics, recover, presence=presence), timeout)

    def unsubscribe(self, topics: Iterable[str] | str, timeout: float | None = None) -> SubscribeResult:
        """Unsubscribe and block until the server replied."""
        return self._call(self.client.unsubscribe(topics), timeout)

    def send(self, type: str, payload: Any = None, timeout: float | None = 10.0) -> None:
        """Send an application message; blocks until it is written."""
        self._call(self.client.send(type, payload), timeout)

    def ping(self, timeout: float = 10.0) -> float:
        """Ping the server and return the round-trip time in seconds."""
        return self._call(self.client.ping(timeout), timeout + 1)

    def recv(self, timeout: float | None = None) -> Event:
        """Block for the next event. Raises TimeoutError after timeout
        seconds, ClientClosed once the client stopped and the queue is
        empty, or the error that stopped the client."""
        try:
            return self._call(self.client.recv(timeout), None)
        except asyncio.TimeoutError:
            raise TimeoutError("wse: no event in time") from None

    def __iter__(self) -> Iterator[Event]:
        while True:
            try:
                yield self.recv()
            except ClientClosed as exc:
                if exc is self.client.error:
                    raise
                return

    def on(self, type: str, handler: Handler | None = None) -> Any:
        """Register a handler (see :meth:`AsyncWSEClient.on`); it runs on the
        client's thread. Register before :meth:`connect` to see every event."""
        return self._client.on(type, handler)

    def wait_closed(self, timeout: float | None = None) -> None:
        """Block until the client has stopped."""
        self._call(self.client.wait_closed(), timeout)

    def run_forever(self) -> None:
        """Block until the client stops (handlers do the work meanwhile);
        raises the error that stopped it, if any."""
        self.wait_closed()
        if self.client.error is not None:
            raise self.client.error

    @property
    def state(self) -> ConnectionState:
        """The connection state."""
        return self._client.state

    @property
    def is_connected(self) -> bool:
        """Whether a connection is ready now."""
        return self._client.is_connected

    @property
    def connection_id(self) -> str | None:
        """The current connection's id."""
        return self.client.connection_id

    @property
    def latency(self) -> float | None:
        """Round-trip time of the last client ping, in seconds."""
        return self.client.latency

    @property
    def subscribed_topics(self) -> tuple[str, ...]:
        """The subscribed topics."""
        return self.client.subscribed_topics

    @property
    def positions(self) -> dict[str, Position]:
        """The last delivered position of every tracked topic."""
        return self.client.positions

    @property
    def error(self) -> BaseException | None:
        """Why the client stopped, if not normally."""
        return self.client.error
