"""The asyncio client: the protocol core driven over a ``websockets``
connection.

Concurrency: an :class:`AsyncWSEClient` belongs to the event loop it was
connected in; its coroutines must be awaited there and are not thread-safe
(use :class:`~wse_client.sync.SyncWSEClient` from threads). One reader task
per connection decodes frames and runs the handlers registered with
:meth:`~AsyncWSEClient.on` one at a time, in arrival order; a handler that
blocks (or awaits for long) holds up everything after it, and when the
event queue read by ``async for`` / :meth:`~AsyncWSEClient.recv` is full
the reader stops reading until there is room again (the server eventually
drops a consumer that stays too slow with 4429; the client reconnects and
recovers what the server's recovery buffer still holds, and reports the
rest as MissedData).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from typing import Any, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Union
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import websockets
import websockets.exceptions
from websockets.legacy.client import WebSocketClientProtocol

from .. import codec
from ..events import ConnectionState, Disconnected, Event, Position, Reconnecting, SubscribeResult
from ..exceptions import (
    AuthenticationFailed,
    ClientClosed,
    ConnectionClosed,
    ConnectionFailed,
    Forbidden,
    GaveUp,
    HandshakeTimeout,
    InvalidURL,
    NotConnected,
    RequestTimeout,
    UpgradeRefused,
    WSEError,
)
from ..protocol import ClientProtocol, CloseAction, CloseDecision, ProtocolConfig, ReconnectPolicy

__all__ = ["AsyncWSEClient", "Handler", "TokenRefresh", "connect"]

log = logging.getLogger("wse_client")

#: A handler for :meth:`AsyncWSEClient.on`: a function or coroutine function
#: taking the event.
Handler = Callable[[Any], Union[None, Awaitable[None]]]
#: The ``token_refresh`` callback: returns (or resolves to) the new token.
TokenRefresh = Callable[[], Union[str, Awaitable[str]]]

_LOST = object()  # a request whose connection ended before the reply
#: Consecutive 4401 closes, each after a token refresh, before giving up.
_MAX_AUTH_FAILURES = 3
_EVENT_SIZE = 64  # bytes counted for an event that came from no frame


class _Inbox:
    """The queue ``async for`` reads: bounded by count and by bytes (frame
    sizes). The reader waits in :meth:`wait_room` while it is full."""

    def __init__(self, max_count: int, max_bytes: int) -> None:
        self.max_count = max_count
        self.max_bytes = max_bytes
        self._items: deque[tuple[Event, int]] = deque()
        self._bytes = 0
        self._getter: asyncio.Future[None] | None = None
        self._room: asyncio.Future[None] | None = None
        self.closed = False
        self.error: BaseException | None = None

    def __len__(self) -> int:
        return len(self._items)

    def full(self) -> bool:
        return len(self._items) >= self.max_count or self._bytes >= self.max_bytes

    def put_many(self, events: list[Event], size: int) -> None:
        """Queue the events of one frame of size bytes."""
        share = max(size // len(events), _EVENT_SIZE)
        items = self._items
        for ev in events:
            items.append((ev, share))
        self._bytes += share * len(events)
        g = self._getter
        if g is not None and not g.done():
            g.set_result(None)

    async def wait_room(self) -> None:
        while self.full() and not self.closed:
            self._room = asyncio.get_running_loop().create_future()
            await self._room

    def close(self, error: BaseException | None) -> None:
        self.closed = True
        self.error = error
        for f in (self._getter, self._room):
            if f is not None and not f.done():
                f.set_result(None)

    def pop(self) -> Event | None:
        """The next event if one is queued, else None."""
        if not self._items:
            return None
        ev, size = self._items.popleft()
        self._bytes -= size
        r = self._room
        if r is not None and not r.done() and not self.full():
            r.set_result(None)
        return ev

    async def get(self, timeout: float | None) -> Event:
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while not self._items:
            if self.closed:
                if self.error is not None:
                    raise self.error
                raise ClientClosed("wse: client closed")
            g = self._getter
            if g is None or g.done():
                g = self._getter = loop.create_future()  # shared by concurrent readers
            if deadline is None:
                await asyncio.shield(g)
            else:
                left = deadline - loop.time()
                if left <= 0:
                    raise asyncio.TimeoutError
                try:
                    await asyncio.wait_for(asyncio.shield(g), left)
                except asyncio.TimeoutError:
                    raise asyncio.TimeoutError from None
        ev, size = self._items.popleft()
        self._bytes -= size
        r = self._room
        if r is not None and not r.done() and not self.full():
            r.set_result(None)
        return ev


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    q = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in params]
    q.extend(params.items())
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(q), parts.fragment))


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port
    except ValueError as exc:
        raise InvalidURL(f"wse: invalid URL {url!r}: {exc}") from exc
    if parts.scheme not in ("ws", "wss"):
        raise InvalidURL(f"wse: invalid URL {url!r}: the scheme must be ws or wss")
    if not host:
        raise InvalidURL(f"wse: invalid URL {url!r}: no host")


class _ClosedEarly(Exception):
    """The server closed the connection before it was ready."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(code, reason)
        self.code = code
        self.reason = reason


class AsyncWSEClient:
    """A WSE client for asyncio.

    ::

        async with AsyncWSEClient("ws://localhost:5007/wse", token="...") as client:
            await client.subscribe(["prices"])
            async for event in client:
                print(event)

    ``token`` goes in an ``access_token`` cookie (``cookie_name``) and an
    ``Authorization: Bearer`` header, or, with ``auth_first_message``, in
    the first message. ``topics`` are subscribed on every connection.
    ``reconnect`` is True (default backoff), False, or a
    :class:`~wse_client.protocol.ReconnectPolicy`. ``token_refresh`` is called
    after close code 4401 for a new token. ``recovery`` tracks positions and
    recovers missed messages; ``encryption`` asks for end-to-end encryption
    (needs ``cryptography``); ``msgpack`` asks for MessagePack events (needs
    ``msgpack``). ``queue_size`` and ``queue_bytes`` bound the events
    waiting for ``async for`` (0 = no queue: handlers only). With
    ``wait_for_server`` the first :meth:`connect` retries with the backoff
    while the server is unreachable.
    """

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        topics: Iterable[str] = (),
        cookie_name: str = "access_token",
        reconnect: bool | ReconnectPolicy = True,
        recovery: bool = True,
        encryption: bool = False,
        msgpack: bool = False,
        token_refresh: TokenRefresh | None = None,
        auth_first_message: bool = False,
        extra_headers: dict[str, str] | None = None,
        queue_size: int = 1000,
        queue_bytes: int = 16 << 20,
        ping_interval: float = 15.0,
        heartbeat_timeout: float = 40.0,
        connect_timeout: float = 10.0,
        request_timeout: float = 10.0,
        max_message_size: int = 1 << 20,
        wait_for_server: bool = False,
    ) -> None:
        _check_url(url)
        self.url = url
        self._token = token
        self._cookie_name = cookie_name
        self._reconnect = reconnect is not False
        policy = reconnect if isinstance(reconnect, ReconnectPolicy) else ReconnectPolicy()
        self._token_refresh = token_refresh
        self._auth_first = auth_first_message
        self._extra_headers = dict(extra_headers or {})
        self._connect_timeout = connect_timeout
        self._request_timeout = request_timeout
        self._max_message_size = max_message_size
        self._wait_for_server = wait_for_server
        self._msgpack = msgpack
        self._encryption = encryption
        self._proto = ClientProtocol(
            ProtocolConfig(
                recovery=recovery,
                encryption=encryption,
                msgpack=msgpack,
                ping_interval=ping_interval,
                heartbeat_timeout=heartbeat_timeout,
                request_timeout=request_timeout,
                max_message_size=max_message_size,
                reconnect=policy,
                first_message_token=token if auth_first_message else None,
            )
        )
        self._proto.want(list(topics))
        self._queue_enabled = queue_size > 0
        self._inbox = _Inbox(max(queue_size, 1), queue_bytes)
        self._handlers: dict[str, list[Handler]] = {}
        self._any: list[Handler] = []
        self._waiters: dict[int, asyncio.Future[Any]] = {}
        self._state = ConnectionState.IDLE
        self._ws: WebSocketClientProtocol | None = None
        self._conn_task: asyncio.Task[tuple[int, str]] | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._write_lock = asyncio.Lock()
        self._closing = False
        self._auth_failures = 0
        self._error: BaseException | None = None
        self._stopped = asyncio.Event()
        #: Connections made so far (1 after the first connect).
        self.connections = 0
        #: Messages and events delivered to the application.
        self.events_delivered = 0

    # --- properties --------------------------------------------------------

    @property
    def state(self) -> ConnectionState:
        """The connection state."""
        return self._state

    @property
    def is_connected(self) -> bool:
        """Whether a connection is ready now."""
        return self._state is ConnectionState.CONNECTED

    @property
    def is_ready(self) -> bool:
        """The original client's name for :attr:`is_connected`."""
        return self.is_connected

    @property
    def connection_id(self) -> str | None:
        """The current connection's id (``server_ready``), or None."""
        return self._proto.connection_id

    @property
    def user_id(self) -> str | None:
        """The authenticated user of the current connection, or None."""
        return self._proto.user_id

    @property
    def features(self) -> dict[str, Any]:
        """The features the server announced in ``server_ready``."""
        return self._proto.features

    @property
    def encrypted(self) -> bool:
        """Whether the current connection is end-to-end encrypted."""
        return self._proto.encrypted

    @property
    def recovery_enabled(self) -> bool:
        """Whether positions are tracked and recovered on this connection."""
        return bool(self._proto.config.recovery and self._proto.features.get("recovery"))

    @property
    def latency(self) -> float | None:
        """Round-trip time of the last client ping in seconds, or None."""
        return self._proto.latency

    @property
    def subscribed_topics(self) -> tuple[str, ...]:
        """The topics subscribed, and subscribed again on every connection."""
        return self._proto.wanted_topics

    @property
    def positions(self) -> dict[str, Position]:
        """The last delivered position of every tracked topic."""
        return self._proto.positions()

    @property
    def queue_size(self) -> int:
        """Events waiting to be read by ``async for`` / :meth:`recv`."""
        return len(self._inbox)

    @property
    def error(self) -> BaseException | None:
        """Why the client stopped, when it stopped for a reason other than
        :meth:`close` or a normal close (1000/1001)."""
        return self._error

    # --- handlers ----------------------------------------------------------

    def on(self, type: str, handler: Handler | None = None) -> Any:
        """Call handler for every event of this type (``"*"``: every event).

        Handlers run on the reader task, in order; coroutine functions are
        awaited. Usable as a decorator: ``@client.on("price")``."""

        def register(h: Handler) -> Handler:
            if type == "*":
                self._any.append(h)
            else:
                self._handlers.setdefault(type, []).append(h)
            return h

        if handler is None:
            return register
        return register(handler)

    def on_any(self, handler: Handler) -> Handler:
        """Call handler for every event; same as ``on("*", handler)``."""
        return self.on("*", handler)  # type: ignore[no-any-return]

    def off(self, type: str, handler: Handler) -> None:
        """Remove a handler added with :meth:`on`."""
        lst = self._any if type == "*" else self._handlers.get(type, [])
        if handler in lst:
            lst.remove(handler)

    # --- lifecycle ---------------------------------------------------------

    async def __aenter__(self) -> AsyncWSEClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self) -> None:
        """Open the first connection and return once it is ready (and the
        constructor's topics are subscribed); then keep it up in the
        background.

        Raises :class:`~wse_client.exceptions.UpgradeRefused` (HTTP status),
        :class:`~wse_client.exceptions.ConnectionFailed` (network),
        :class:`~wse_client.exceptions.HandshakeTimeout`,
        :class:`~wse_client.exceptions.AuthenticationFailed` (4401 without a
        working refresh), :class:`~wse_client.exceptions.ConnectionClosed`."""
        if self._state is ConnectionState.CLOSED:
            raise ClientClosed("wse: the client was closed; make a new one")
        if self._state is not ConnectionState.IDLE:
            raise WSEError("wse: connect() was already called")
        self._state = ConnectionState.CONNECTING
        try:
            decision: CloseDecision | None = None
            while True:
                try:
                    await self._establish()
                    break
                except _ClosedEarly as c:
                    decision, _ = self._proto.connection_lost(c.code)
                    if decision.action is CloseAction.REFRESH and self._token_refresh is not None:
                        await self._refresh()  # AuthenticationFailed when it fails or keeps failing
                        await asyncio.sleep(decision.delay)
                        continue
                    if decision.action is CloseAction.RECONNECT and self._wait_for_server:
                        await asyncio.sleep(decision.delay)  # e.g. 4300 from a server that is draining
                        continue
                    raise self._final_error(c.code, c.reason, decision) from None
                except ConnectionFailed:
                    if not self._wait_for_server:
                        raise
                    decision = self._proto.connect_failed()
                    if decision.action is CloseAction.STOP:
                        raise
                    await asyncio.sleep(decision.delay)
        except BaseException as exc:
            self._state = ConnectionState.CLOSED
            if isinstance(exc, WSEError):
                self._error = exc
            self._inbox.close(self._error)
            self._stopped.set()
            raise
        self._supervisor = asyncio.get_running_loop().create_task(self._supervise())

    async def close(self) -> None:
        """Close the connection with 1000 and stop the client; idempotent.
        ``async for`` ends once the events already queued are read."""
        if self._state is ConnectionState.CLOSED and self._supervisor is None:
            return
        self._closing = True
        ws = self._ws
        if ws is not None:
            try:
                await asyncio.wait_for(ws.close(1000, "client closed"), 5)
            except (asyncio.TimeoutError, OSError, websockets.exceptions.WebSocketException):
                pass
        for task in (self._supervisor, self._conn_task):
            if task is not None and not task.done() and task is not asyncio.current_task():
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):
                    pass
        self._supervisor = None
        self._finish(None)

    async def disconnect(self) -> None:
        """The original client's name for :meth:`close`."""
        await self.close()

    async def wait_closed(self) -> None:
        """Wait until the client has stopped (``close()``, a final close
        code, or reconnecting gave up)."""
        await self._stopped.wait()

    def _finish(self, error: BaseException | None) -> None:
        self._state = ConnectionState.CLOSED
        if error is not None and self._error is None:
            self._error = error
        self._inbox.close(self._error)
        for fut in self._waiters.values():
            if not fut.done():
                fut.set_exception(ClientClosed("wse: client closed"))
        self._waiters.clear()
        self._ready.clear()
        self._stopped.set()

    # --- connection --------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        h = dict(self._extra_headers)
        tok = self._token
        if tok and tok != "cookie" and not self._auth_first:
            h["Authorization"] = f"Bearer {tok}"
            cookie = f"{self._cookie_name}={tok}"
            h["Cookie"] = f"{h['Cookie']}; {cookie}" if "Cookie" in h else cookie
        return h

    def _ws_url(self) -> str:
        params = {
            "client_version": codec.CLIENT_VERSION,
            "protocol_version": str(codec.PROTOCOL_VERSION),
            "compression": "true",
            "encryption": "true" if self._encryption else "false",
        }
        if self._msgpack:
            params["format"] = "msgpack"
        return _with_query(self.url, params)

    async def _establish(self) -> None:
        """Open a connection and wait until it is ready; raises
        ConnectionFailed or _ClosedEarly."""
        url = self._ws_url()
        try:
            ws = await websockets.connect(  # type: ignore[attr-defined]
                url,
                extra_headers=self._headers(),
                open_timeout=self._connect_timeout,
                ping_interval=None,
                close_timeout=5,
                max_size=self._max_message_size,
                compression=None,
            )
        except websockets.exceptions.InvalidStatusCode as exc:
            raise UpgradeRefused(self.url, exc.status_code) from exc
        except websockets.exceptions.InvalidURI as exc:
            raise InvalidURL(f"wse: invalid URL {self.url!r}: {exc}") from exc
        except asyncio.TimeoutError as exc:
            raise HandshakeTimeout(f"wse: {self.url}: no WebSocket upgrade within {self._connect_timeout}s") from exc
        except (OSError, websockets.exceptions.WebSocketException) as exc:
            raise ConnectionFailed(f"wse: cannot connect to {self.url}: {exc}") from exc
        self._ws = ws
        self._ready.clear()
        self._proto.connection_opened()
        task = asyncio.get_running_loop().create_task(self._serve(ws))
        self._conn_task = task
        ready = asyncio.get_running_loop().create_task(self._ready.wait())
        try:
            done, _ = await asyncio.wait({task, ready}, timeout=self._connect_timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            ready.cancel()
        if ready in done or self._ready.is_set():
            self._state = ConnectionState.CONNECTED
            self.connections += 1
            self._auth_failures = 0
            return
        if task in done:
            code, reason = task.result()
            self._ws = None
            raise _ClosedEarly(code, reason)
        task.cancel()
        ws.transport.abort()
        try:
            await task
        except (asyncio.CancelledError, Exception):
            pass
        self._ws = None
        raise HandshakeTimeout(f"wse: {self.url}: no server_ready within {self._connect_timeout}s")

    async def _serve(self, ws: WebSocketClientProtocol) -> tuple[int, str]:
        """Read one connection until it ends; returns its close code and reason."""
        proto = self._proto
        beat = asyncio.get_running_loop().create_task(self._heartbeat(ws))
        inbox = self._inbox
        ready = False
        try:
            await self._flush(ws)
            async for data in ws:
                if type(data) is str:
                    proto.receive_text(data)
                else:
                    proto.receive_binary(data)  # type: ignore[arg-type]
                out = proto.data_to_send()
                if out:
                    await self._write(ws, out)
                ev = proto.events_received()
                if ev:  # kept free of per-message coroutine calls: the hot path
                    if self._handlers or self._any:
                        for e in ev:
                            for r in self._call_handlers(e):
                                await self._await_handler(r, e)
                    self.events_delivered += len(ev)
                    if self._queue_enabled:
                        inbox.put_many(ev, len(data))
                        if inbox.full():
                            await inbox.wait_room()
                if proto.has_replies:
                    self._resolve()
                if not ready and proto.settled:
                    ready = True
                    self._ready.set()
                if proto.dead:
                    break
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            beat.cancel()
        if proto.dead:
            ws.transport.abort()
        code = ws.close_code if ws.close_code is not None else 1006
        return code, ws.close_reason or ""

    async def _heartbeat(self, ws: WebSocketClientProtocol) -> None:
        proto = self._proto
        try:
            while True:
                delay = proto.tick()
                await self._flush(ws)
                self._resolve()
                if proto.dead:
                    log.warning("wse: no frame from the server for %.0fs; reconnecting", proto.config.heartbeat_timeout)
                    ws.transport.abort()
                    return
                await asyncio.sleep(delay)
        except (websockets.exceptions.ConnectionClosed, OSError):
            return

    async def _flush(self, ws: WebSocketClientProtocol) -> None:
        out = self._proto.data_to_send()
        if out:
            await self._write(ws, out)

    async def _write(self, ws: WebSocketClientProtocol, frames: list[str | bytes]) -> None:
        async with self._write_lock:
            try:
                for f in frames:
                    await ws.send(f)
            except websockets.exceptions.ConnectionClosed:
                pass  # the reader sees the close

    def _resolve(self) -> None:
        for rid, reply in self._proto.replies_received():
            fut = self._waiters.pop(rid, None)
            if fut is not None and not fut.done():
                fut.set_result(reply)

    def _call_handlers(self, ev: Event) -> Iterator[Awaitable[None]]:
        """Call the handlers of ev in order, yielding what a coroutine
        handler returned so that the caller awaits it before the next."""
        hs = self._handlers.get(ev.type)
        for h in (*(hs or ()), *self._any):
            try:
                r = h(ev)
            except Exception:
                log.exception("wse: handler for %r failed", ev.type)
                continue
            if r is not None and inspect.isawaitable(r):
                yield r

    @staticmethod
    async def _await_handler(r: Awaitable[None], ev: Event) -> None:
        try:
            await r
        except Exception:
            log.exception("wse: handler for %r failed", ev.type)

    async def _deliver(self, events: list[Event], size: int) -> None:
        """Run the handlers of events and queue them for ``async for``."""
        for ev in events:
            for r in self._call_handlers(ev):
                await self._await_handler(r, ev)
        self.events_delivered += len(events)
        if self._queue_enabled:
            self._inbox.put_many(events, size)
            if self._inbox.full():
                await self._inbox.wait_room()

    async def _refresh(self) -> None:
        """Get a new token from token_refresh; AuthenticationFailed when
        there is no callback or it fails."""
        if self._token_refresh is None:
            raise AuthenticationFailed(4401, "authentication failed and no token_refresh callback")
        self._auth_failures += 1
        if self._auth_failures > _MAX_AUTH_FAILURES:
            raise AuthenticationFailed(4401, f"still refused after {_MAX_AUTH_FAILURES} refreshed tokens")
        try:
            r = self._token_refresh()
            tok = await r if inspect.isawaitable(r) else r
        except Exception as exc:
            raise AuthenticationFailed(4401, f"token_refresh failed: {exc}") from exc
        if not isinstance(tok, str) or not tok:
            raise AuthenticationFailed(4401, "token_refresh returned no token")
        self._token = tok
        if self._auth_first:
            self._proto.config.first_message_token = tok

    def _final_error(self, code: int | None, reason: str, decision: CloseDecision | None) -> BaseException:
        if decision is not None and decision.gave_up:
            return GaveUp(f"wse: gave up after {decision.attempt} reconnect attempts (last close code {code})")
        if code == 4401:
            return AuthenticationFailed(code, reason)
        if code == 4403:
            return Forbidden(code, reason)
        return ConnectionClosed(code, reason)

    async def _supervise(self) -> None:
        """Keep the client connected until a final close code or close()."""
        try:
            while True:
                assert self._conn_task is not None
                code, reason = await self._conn_task
                self._ws = None
                if self._closing:
                    return
                decision, lost = self._proto.connection_lost(code)
                for rid in lost:
                    fut = self._waiters.pop(rid, None)
                    if fut is not None and not fut.done():
                        fut.set_result(_LOST)
                if not await self._reconnect_loop(code, reason, decision):
                    return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: stop rather than hang silently
            log.exception("wse: client stopped by an unexpected error")
            self._finish(exc)

    async def _reconnect_loop(self, code: int, reason: str, decision: CloseDecision) -> bool:
        """Reconnect after a lost connection; False when the client stops."""
        self._ready.clear()
        announced = False
        while True:
            action = decision.action
            if not self._reconnect and action is not CloseAction.STOP:
                action = CloseAction.STOP
            err: BaseException | None = None
            if action is CloseAction.REFRESH:
                try:
                    await self._refresh()
                except AuthenticationFailed as exc:
                    err = exc
                    action = CloseAction.STOP
            if action is CloseAction.STOP:
                if err is None and not (code in (1000, 1001) and not decision.gave_up):
                    err = self._final_error(code, reason, decision)
                await self._deliver([Disconnected(code, reason, False, err)], 0)
                self._finish(err)
                return False
            if not announced:
                announced = True
                self._state = ConnectionState.RECONNECTING
                await self._deliver([Disconnected(code, reason, True)], 0)
            await self._deliver([Reconnecting(decision.attempt, decision.delay)], 0)
            await asyncio.sleep(decision.delay)
            try:
                await self._establish()
                return True
            except _ClosedEarly as c:
                code, reason = c.code, c.reason
                decision, _ = self._proto.connection_lost(code)
            except ConnectionFailed as exc:
                log.info("wse: reconnect attempt %d failed: %s", decision.attempt, exc)
                code, reason = 1006, str(exc)
                decision = self._proto.connect_failed()

    # --- requests ----------------------------------------------------------

    async def _wait_ready(self, deadline: float) -> None:
        loop = asyncio.get_running_loop()
        while not (self._state is ConnectionState.CONNECTED and self._proto.ready):
            if self._state is ConnectionState.CLOSED:
                raise ClientClosed("wse: client closed") from self._error
            if self._state is ConnectionState.IDLE:
                raise NotConnected("wse: call connect() first")
            left = deadline - loop.time()
            if left <= 0:
                raise RequestTimeout("wse: not connected within the request timeout")
            try:
                await asyncio.wait_for(self._ready.wait(), min(left, 0.5))
            except asyncio.TimeoutError:
                pass

    async def _call(self, make: Callable[[], int]) -> SubscribeResult:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._request_timeout
        while True:
            await self._wait_ready(deadline)
            ws = self._ws
            rid = make()
            fut: asyncio.Future[Any] = loop.create_future()
            self._waiters[rid] = fut
            if ws is not None:
                await self._flush(ws)
            left = max(0.0, deadline - loop.time())
            try:
                reply = await asyncio.wait_for(fut, left + 0.5)
            except asyncio.TimeoutError:
                self._waiters.pop(rid, None)
                raise RequestTimeout(f"wse: no reply to the subscription request within {self._request_timeout}s") from None
            if reply is _LOST:
                continue  # the connection ended first: ask again on the next one
            if reply is None:
                raise RequestTimeout(f"wse: no reply to the subscription request within {self._request_timeout}s")
            assert isinstance(reply, SubscribeResult)
            return reply

    async def subscribe(self, topics: Iterable[str] | str, recover: bool = True, *, presence: Any = None) -> SubscribeResult:
        """Subscribe to topics and return the server's reply (granted and
        refused topics, recovery positions). Granted topics are subscribed
        again, recovering what was missed, after every reconnect.
        ``presence`` (a dict) joins the topics' presence with that data.

        Waits for a connection if the client is reconnecting, up to the
        request timeout; raises RequestTimeout, ClientClosed."""
        lst = [topics] if isinstance(topics, str) else list(topics)
        return await self._call(lambda: self._proto.subscribe(lst, recover, presence))

    async def unsubscribe(self, topics: Iterable[str] | str) -> SubscribeResult:
        """Unsubscribe from topics and return the server's reply (``granted``
        lists the topics left)."""
        lst = [topics] if isinstance(topics, str) else list(topics)
        return await self._call(lambda: self._proto.unsubscribe(lst))

    async def send(self, type: str, payload: Any = None) -> None:
        """Send an application message ``{"t": type, "p": payload}`` (sealed
        when encrypted). Raises NotConnected between connections (nothing is
        queued) and TypeError for a payload JSON cannot encode."""
        ws = self._ws
        if ws is None or self._state is not ConnectionState.CONNECTED:
            raise NotConnected("wse: not connected")
        self._proto.send(type, payload)
        await self._flush(ws)

    async def ping(self, timeout: float = 10.0) -> float:
        """Ping the server now and return the round-trip time in seconds."""
        ws = self._ws
        if ws is None or self._state is not ConnectionState.CONNECTED:
            raise NotConnected("wse: not connected")
        before = self._proto.latency
        self._proto.latency = None
        self._proto.ping()
        await self._flush(ws)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._proto.latency is None:
            if loop.time() > deadline:
                self._proto.latency = before
                raise RequestTimeout("wse: no PONG in time")
            await asyncio.sleep(0.01)
        return self._proto.latency

    # --- receiving ---------------------------------------------------------

    async def recv(self, timeout: float | None = None) -> Event:
        """The next event. Raises asyncio.TimeoutError after timeout seconds,
        ClientClosed once the client has stopped normally and every queued
        event was read, or the error that stopped it."""
        if not self._queue_enabled:
            raise WSEError("wse: the event queue is off (queue_size=0)")
        return await self._inbox.get(timeout)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        ev = self._inbox.pop() if self._queue_enabled else None
        if ev is not None:
            return ev
        try:
            return await self.recv()
        except ClientClosed as exc:
            if exc is self._error:
                raise
            raise StopAsyncIteration from None


async def connect(url: str, token: str | None = None, **kwargs: Any) -> AsyncWSEClient:
    """Make an :class:`AsyncWSEClient` with these arguments and connect it
    (the original package's ``connect(url, **kw)``); close it when done."""
    client = AsyncWSEClient(url, token, **kwargs)
    await client.connect()
    return client
