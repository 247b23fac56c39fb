"""A FastAPI backend for every wse-server hook (docs/hooks.md).

Run it beside wse-server::

    WSE_HOOK_SECRET=change-me-0123456789 uvicorn app:app --port 8000
    wse-server --hook-secret change-me-0123456789 \
        --hook-connect-url http://127.0.0.1:8000/wse/connect \
        --hook-subscribe-url http://127.0.0.1:8000/wse/subscribe \
        --hook-publish-url http://127.0.0.1:8000/wse/publish --hook-publish-types chat_send \
        --hook-rpc-url http://127.0.0.1:8000/wse/rpc --hook-rpc-types add \
        --hook-disconnect-url http://127.0.0.1:8000/wse/disconnect \
        --hook-presence-leave-url http://127.0.0.1:8000/wse/presence_leave \
        --presence

Users log in with a session cookie (no JWT): the connect hook maps the
cookie to a user.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from typing import Any

from fastapi import Depends, FastAPI, HTTPException, Request

SECRET = os.environ.get("WSE_HOOK_SECRET", "change-me-0123456789").encode()
REPLAY_WINDOW_S = 300

# The application's own state: cookie sessions and team membership.
SESSIONS: dict[str, dict[str, str]] = {
    "session-ann": {"id": "ann", "name": "Ann"},
    "session-bob": {"id": "bob", "name": "Bob"},
    "session-cyd": {"id": "cyd", "name": "Cyd"},
}
TEAMS: dict[str, set[str]] = {"red": {"ann"}, "blue": {"bob"}}

# What the webhooks told us, for GET /seen.
SEEN: list[dict[str, Any]] = []

app = FastAPI()


async def verified(request: Request) -> dict[str, Any]:
    """Check X-WSE-Signature over the timestamp and the raw body; return the body."""
    body = await request.body()
    ts = request.headers.get("x-wse-timestamp", "")
    sig = request.headers.get("x-wse-signature", "")
    if not ts.isdigit() or abs(time.time() - int(ts)) > REPLAY_WINDOW_S:
        raise HTTPException(401, "stale or missing timestamp")
    mac = hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest("v1=" + mac, sig):
        raise HTTPException(401, "bad signature")
    payload: dict[str, Any] = json.loads(body)
    return payload


@app.post("/wse/connect")
async def connect(req: dict[str, Any] = Depends(verified)) -> dict[str, Any]:
    """Decide an upgrade from its session cookie."""
    user = SESSIONS.get(req["cookies"].get("session", ""))
    if user is None:
        return {"allow": False, "code": 4403, "reason": "log in first"}
    return {
        "allow": True,
        "user_id": user["id"],
        "topics": [f"user:{user['id']}", "lobby"],
        "presence": {"name": user["name"]},
        "acl": {"allow": ["room:*"], "deny": ["room:admin"]},
    }


@app.post("/wse/subscribe")
async def subscribe(req: dict[str, Any] = Depends(verified)) -> dict[str, Any]:
    """Grant team:<name> topics to the team's members; refuse the rest."""
    granted = [
        t for t in req["topics"]
        if t.startswith("team:") and req["user_id"] in TEAMS.get(t.removeprefix("team:"), set())
    ]
    return {"granted": granted}


@app.post("/wse/publish")
async def publish(req: dict[str, Any] = Depends(verified)) -> dict[str, Any]:
    """Check a chat message and publish it, stamped with its sender, to its room."""
    p = req["message"].get("p", {})
    text = str(p.get("text", "")).strip()
    if not text:
        return {"error": {"code": "EMPTY_MESSAGE", "message": "say something"}}
    return {
        "topic": f"room:{p.get('room', 'main')}",
        "data": {"t": "chat", "p": {"from": req["user_id"], "text": text}},
    }


@app.post("/wse/rpc")
async def rpc(req: dict[str, Any] = Depends(verified)) -> dict[str, Any]:
    """Answer an rpc message to its sender (here: add two numbers)."""
    p = req["message"].get("p", {})
    return {"reply": {"t": "add_result", "p": {"id": p.get("id"), "sum": p.get("a", 0) + p.get("b", 0)}}}


@app.post("/wse/disconnect")
async def disconnect(req: dict[str, Any] = Depends(verified)) -> dict[str, bool]:
    """The user's last connection closed and they did not come back in time."""
    SEEN.append(req)
    return {"ok": True}


@app.post("/wse/presence_leave")
async def presence_leave(req: dict[str, Any] = Depends(verified)) -> dict[str, bool]:
    """The user left a topic's presence and did not rejoin it in time."""
    SEEN.append(req)
    return {"ok": True}


@app.get("/seen")
async def seen() -> list[dict[str, Any]]:
    """The webhooks received so far (for the example's test)."""
    return SEEN
