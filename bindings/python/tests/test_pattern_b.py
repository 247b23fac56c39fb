"""The seed's Pattern B publisher (section 14): domain events mapped
through INTERNAL_TO_WS_EVENT_TYPE_MAP by rust_transform_event and
broadcast; events not in the table are filtered."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from datetime import datetime, timezone
from typing import Any

from conftest import ready, recv_json

from wse_server import RustWSEServer
from wse_server._wse_accel import rust_transform_event

INTERNAL_TO_WS_EVENT_TYPE_MAP: dict[str, str] = {
    'UserProfileUpdated': 'user_profile_update',
    'CounterpartyCreated': 'counterparty_update',
    'CustomsDeclarationSubmitted': 'customs_declaration_update',
    # ...
}


class WSEDomainPublisher:
    """The seed's publisher; __init__ and the topic line are what the
    snippet leaves to the application (topic naming of section 14)."""

    def __init__(self, server: RustWSEServer) -> None:
        self._server = server
        self._seq = itertools.count(1)

    async def _handle_event(self, event: dict):  # type: ignore[type-arg]
        ws_type = INTERNAL_TO_WS_EVENT_TYPE_MAP.get(event.get("event_type"))  # type: ignore[arg-type]
        if not ws_type:
            return  # filtered
        topic = f"user:{event['user_id']}:domain_events"
        ws_message = rust_transform_event(event, next(self._seq), INTERNAL_TO_WS_EVENT_TYPE_MAP)
        if ws_message:
            self._server.broadcast(topic, json.dumps(ws_message, default=str))


def test_pattern_b_publisher(jwt_server: Any) -> None:
    server = jwt_server()
    publisher = WSEDomainPublisher(server)

    async def client() -> None:
        ws, cid = await ready(server, "u1")
        server.subscribe_connection(cid, ["user:u1:domain_events"])
        stream: list[dict[str, Any]] = [
            {"event_type": "UserProfileUpdated", "user_id": "u1", "name": "Ann",
             "_metadata": {"event_id": str(uuid.uuid4()), "timestamp": datetime.now(timezone.utc).isoformat()}},
            {"event_type": "InternalAuditWritten", "user_id": "u1"},  # not in the table: filtered
            {"event_type": "CounterpartyCreated", "user_id": "u1", "payload": {"id": 7, "at": datetime.now(timezone.utc)}},
        ]
        for ev in stream:
            await publisher._handle_event(ev)
        published = lambda m: m.get("t") not in ("server_ready", "ping")  # noqa: E731
        first = await recv_json(ws, published)
        second = await recv_json(ws, published)
        assert first["t"] == "user_profile_update" and first["seq"] == 1
        assert first["id"] == stream[0]["_metadata"]["event_id"]
        assert first["p"]["name"] == "Ann" and "_metadata" not in first["p"]
        assert first["c"] == "U" and first["original_event_type"] == "UserProfileUpdated"
        assert second["t"] == "counterparty_update" and second["seq"] == 2 and second["p"]["id"] == 7
        # The filtered event consumed no sequence number and sent nothing.
        server.send(cid, "end")
        assert await ws.recv() == "end"
        await ws.close()

    asyncio.run(client())


def test_transform_event_filters_and_passes_envelopes() -> None:
    assert rust_transform_event({"event_type": "Unknown"}, 1, INTERNAL_TO_WS_EVENT_TYPE_MAP) is None
    mapped = rust_transform_event({"type": "UserProfileUpdated", "x": 1}, 3, INTERNAL_TO_WS_EVENT_TYPE_MAP)
    assert mapped is not None and mapped["t"] == "user_profile_update"
    env = {"t": "ready", "p": {}, "id": "i", "ts": "2026-01-01T00:00:00Z", "v": 1}
    out = rust_transform_event(env, 9, {})
    assert out is not None and out["t"] == "ready" and out["seq"] == 9
