"""End-to-end test of app.py: a real wse-server calling the real FastAPI backend.

The wse-server binary comes from $WSE_SERVER_BIN, else ``go build`` of the
repository's cmd/wse-server.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import pytest
import websockets

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
SECRET = "example-hook-secret-0123456789"
TIMEOUT = 15.0


def free_port() -> int:
    """Return a loopback port that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_http(url: str) -> None:
    """Poll url until it answers, within TIMEOUT."""
    deadline = time.monotonic() + TIMEOUT
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def get_json(url: str) -> Any:
    """GET url and decode its JSON body."""
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.load(resp)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Start the backend and wse-server wired to it; yield their URLs."""
    binary = os.environ.get("WSE_SERVER_BIN")
    if not binary:
        binary = str(tmp_path_factory.mktemp("bin") / "wse-server")
        subprocess.run(["go", "build", "-o", binary, "./cmd/wse-server"], cwd=REPO, check=True)
    app_port, ws_port, api_port = free_port(), free_port(), free_port()
    backend = f"http://127.0.0.1:{app_port}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app:app", "--host", "127.0.0.1", "--port", str(app_port), "--log-level", "warning"],
            cwd=HERE, env={**os.environ, "WSE_HOOK_SECRET": SECRET},
        )
    ]
    try:
        wait_http(backend + "/seen")
        procs.append(subprocess.Popen([
            binary, "--port", str(ws_port), "--api-addr", f"127.0.0.1:{api_port}", "--demo=false",
            "--presence", "--hook-secret", SECRET, "--hook-grace", "3s",
            "--hook-connect-url", backend + "/wse/connect",
            "--hook-subscribe-url", backend + "/wse/subscribe",
            "--hook-publish-url", backend + "/wse/publish", "--hook-publish-types", "chat_send",
            "--hook-rpc-url", backend + "/wse/rpc", "--hook-rpc-types", "add",
            "--hook-disconnect-url", backend + "/wse/disconnect",
            "--hook-presence-leave-url", backend + "/wse/presence_leave",
        ], env={k: v for k, v in os.environ.items() if not k.startswith("WSE_")}))  # WSE_* are settings to wse-server
        wait_http(f"http://127.0.0.1:{api_port}/health")
        yield {"ws": f"ws://127.0.0.1:{ws_port}/wse", "api": f"http://127.0.0.1:{api_port}", "backend": backend}
    finally:
        for p in reversed(procs):
            p.terminate()
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()


async def next_of(ws: Any, t: str) -> dict[str, Any]:
    """Read messages until one of type t, within TIMEOUT."""
    async def loop() -> dict[str, Any]:
        while True:
            raw = await ws.recv()
            msg: dict[str, Any] = json.loads(raw)
            if msg.get("t") == t:
                return msg
    return await asyncio.wait_for(loop(), TIMEOUT)


def test_cookie_session_connect_subscribe_publish_rpc(stack: dict[str, str]) -> None:
    """The connect hook names the user; the other hooks act for them."""
    async def scenario() -> None:
        async with websockets.connect(stack["ws"], extra_headers={"Cookie": "session=session-ann"}) as ann, \
                websockets.connect(stack["ws"], extra_headers={"Cookie": "session=session-bob"}) as bob:
            ready = await next_of(ann, "server_ready")
            assert ready["p"]["details"]["user_id"] == "ann"
            await next_of(bob, "server_ready")
            # ACL from the connect hook, then the subscribe hook for team topics.
            sub = {"t": "subscription_update", "p": {"action": "subscribe", "topics": ["room:main", "room:admin", "team:red", "team:blue"]}}
            await ann.send(json.dumps(sub))
            reply = (await next_of(ann, "subscription_update"))["p"]
            assert sorted(reply["success_topics"]) == ["room:main", "team:red"]
            await bob.send(json.dumps({"t": "subscription_update", "p": {"action": "subscribe", "topics": ["room:main"]}}))
            await next_of(bob, "subscription_update")
            # The publish hook stamps the sender and publishes to the room.
            await bob.send(json.dumps({"t": "chat_send", "p": {"room": "main", "text": "hi ann"}}))
            chat = await next_of(ann, "chat")
            assert chat["p"] == {"from": "bob", "text": "hi ann"}
            await bob.send(json.dumps({"t": "chat_send", "p": {"room": "main", "text": "  "}}))
            assert (await next_of(bob, "error"))["p"]["code"] == "EMPTY_MESSAGE"
            # The rpc hook answers the sender only.
            await ann.send(json.dumps({"t": "add", "p": {"id": 7, "a": 2, "b": 40}}))
            assert (await next_of(ann, "add_result"))["p"] == {"id": 7, "sum": 42}
    asyncio.run(scenario())


def test_unknown_session_is_refused_with_4403(stack: dict[str, str]) -> None:
    """No session cookie: the connect hook refuses with the code it chose."""
    async def scenario() -> None:
        async with websockets.connect(stack["ws"], extra_headers={"Cookie": "session=forged"}) as ws:
            err = await next_of(ws, "error")
            assert err["p"]["message"] == "log in first"
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), TIMEOUT)
            assert closed.value.code == 4403
    asyncio.run(scenario())


def test_reload_sends_no_webhook_but_leaving_does(stack: dict[str, str]) -> None:
    """A reconnect within the grace period is silent; a real leave is told once."""
    async def visit() -> None:
        async with websockets.connect(stack["ws"], extra_headers={"Cookie": "session=session-cyd"}) as ws:
            await next_of(ws, "server_ready")

    async def scenario() -> None:
        await visit()
        await visit()  # the "reload", well within the 3 s grace
    asyncio.run(scenario())
    deadline = time.monotonic() + TIMEOUT
    while True:
        seen = [e for e in get_json(stack["backend"] + "/seen") if e.get("user_id") == "cyd"]
        if any(e["event"] == "disconnect" for e in seen):
            break
        assert time.monotonic() < deadline, "no disconnect webhook"
        time.sleep(0.05)
    assert [e["event"] for e in seen].count("disconnect") == 1
