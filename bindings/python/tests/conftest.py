"""Shared helpers of the wse_server tests: servers on free loopback ports,
tokens, real WebSocket clients (Debian's python3-websockets) and polling
waits with deadlines (no blind sleeps)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import websockets

from wse_server import RustWSEServer, rust_jwt_encode

SECRET = b"replace-with-a-strong-secret-key!"
ISSUER, AUDIENCE = "my-app", "my-api"
DEADLINE = 15.0

#: The keys of health_snapshot() listed in the seed's section 10.
SEED_HEALTH_KEYS_NAMES = {
    "connections", "inbound_queue_depth", "inbound_dropped", "uptime_secs", "recovery_enabled",
    "recovery_topic_count", "recovery_total_bytes", "cluster_connected", "cluster_peer_count",
    "cluster_messages_sent", "cluster_messages_delivered", "cluster_messages_dropped", "cluster_bytes_sent",
    "cluster_bytes_received", "cluster_reconnect_count", "cluster_unknown_message_types", "cluster_dlq_size",
    "presence_enabled", "presence_topics", "presence_total_users",
}


def token(sub: str, **extra: Any) -> str:
    """An HS256 token for ``sub`` accepted by :func:`jwt_server`."""
    now = int(time.time())
    claims = {"sub": sub, "iss": ISSUER, "aud": AUDIENCE, "exp": now + 3600, "iat": now, **extra}
    return rust_jwt_encode(claims, SECRET)


@pytest.fixture
def servers() -> Iterator[list[RustWSEServer]]:
    """Servers the test creates; every one is stopped at the end."""
    made: list[RustWSEServer] = []
    yield made
    for s in made:
        s.stop()


@pytest.fixture
def jwt_server(servers: list[RustWSEServer]) -> Callable[..., RustWSEServer]:
    """Factory of started drain-mode servers with the seed's JWT settings."""

    def make(**options: Any) -> RustWSEServer:
        kw: dict[str, Any] = {"jwt_secret": SECRET, "jwt_issuer": ISSUER, "jwt_audience": AUDIENCE}
        kw.update(options)
        s = RustWSEServer("127.0.0.1", 0, **kw)
        servers.append(s)
        s.enable_drain_mode()
        s.start()
        return s

    return make


def url(server: RustWSEServer, path: str = "/wse") -> str:
    return f"ws://127.0.0.1:{server.port}{path}"


async def connect(server: RustWSEServer, user: str | None = None, *, cookie: str | None = None,
                  path: str = "/wse") -> Any:
    """Open a client; with ``user`` it sends a Bearer token for that user."""
    headers: dict[str, str] = {}
    if user is not None:
        headers["Authorization"] = "Bearer " + token(user)
    if cookie is not None:
        headers["Cookie"] = cookie
    return await websockets.connect(url(server, path), extra_headers=headers, open_timeout=DEADLINE)


async def recv_json(ws: Any, want: Callable[[dict[str, Any]], bool] = lambda m: True,
                    timeout: float = DEADLINE) -> dict[str, Any]:
    """The next JSON object the client receives that satisfies ``want``
    (server pings and other frames before it are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no matching message before the deadline")
        frame = await asyncio.wait_for(ws.recv(), left)
        if isinstance(frame, bytes):
            if not frame.startswith(b"{"):
                continue
            frame = frame.decode()
        try:
            msg = json.loads(frame)
        except ValueError:
            continue
        if isinstance(msg, dict) and want(msg):
            return msg


async def ready(server: RustWSEServer, user: str) -> tuple[Any, str]:
    """A client of ``user`` past server_ready, and its connection id."""
    ws = await connect(server, user)
    msg = await recv_json(ws, lambda m: m.get("t") == "server_ready")
    return ws, msg["p"]["details"]["connection_id"]


class Events:
    """Everything a drain-mode server delivered so far, read with
    drain_inbound(256, 50) on a worker thread so the event loop runs."""

    def __init__(self, server: RustWSEServer) -> None:
        self.server = server
        self.seen: list[tuple[str, str | None, Any]] = []

    async def until(self, pred: Callable[[list[tuple[str, str | None, Any]]], bool],
                    timeout: float = DEADLINE) -> list[tuple[str, str | None, Any]]:
        deadline = time.monotonic() + timeout
        while not pred(self.seen):
            if time.monotonic() > deadline:
                raise AssertionError(f"condition not met; events: {self.seen!r}")
            self.seen += await asyncio.to_thread(self.server.drain_inbound, 256, 50)
        return self.seen

    async def first(self, kind: str, conn_id: str | None = None, timeout: float = DEADLINE) -> tuple[str, str | None, Any]:
        def match(e: tuple[str, str | None, Any]) -> bool:
            return e[0] == kind and (conn_id is None or e[1] == conn_id)

        await self.until(lambda evs: any(match(e) for e in evs), timeout)
        return next(e for e in self.seen if match(e))


def wait_for(cond: Callable[[], bool], timeout: float = DEADLINE, what: str = "condition") -> None:
    """Poll ``cond`` until true or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        time.sleep(0.01)


async def async_wait_for(cond: Callable[[], bool], timeout: float = DEADLINE, what: str = "condition") -> None:
    """:func:`wait_for` for coroutines."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s")
        await asyncio.sleep(0.01)
