"""The seed's FastAPI example (section 2), run as written under uvicorn in
its own process: a client fetches /token/{user_id}, connects to WSE, is
subscribed to "notifications" by the example's drain loop, receives what
POST /broadcast/{topic} sends, and /health returns the snapshot."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import websockets
from conftest import SEED_HEALTH_KEYS_NAMES, recv_json

APP = Path(__file__).parent / "apps" / "seed_fastapi_app.py"

# Debian 12's FastAPI (0.92) predates FastAPI(lifespan=...) (0.93) and
# silently keeps the argument in app.extra; its Starlette (0.26) does run a
# lifespan, so the launcher hands the app's own lifespan to the router. On a
# newer FastAPI it does nothing.
LAUNCHER = """\
from app import app

if "lifespan" in getattr(app, "extra", {}):
    app.router.lifespan_context = app.extra["lifespan"]
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _http(method: str, url: str) -> Any:
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_seed_fastapi_example(tmp_path: Path) -> None:
    wse_port, api_port = _free_port(), _free_port()
    source = APP.read_text()
    assert source.count('"0.0.0.0", 5007') == 1
    (tmp_path / "app.py").write_text(source.replace('"0.0.0.0", 5007', f'"127.0.0.1", {wse_port}'))
    (tmp_path / "launch.py").write_text(LAUNCHER)
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "launch:app", "--host", "127.0.0.1", "--port", str(api_port)],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    api = f"http://127.0.0.1:{api_port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = _http("GET", api + "/health")
                break
            except OSError:
                assert proc.poll() is None, proc.communicate()[0]
                assert time.monotonic() < deadline, "uvicorn did not come up"
                time.sleep(0.05)
        assert SEED_HEALTH_KEYS_NAMES <= set(health)
        assert health["connections"] == 0

        token = _http("GET", api + "/token/alice")["token"]

        async def client() -> None:
            ws = await websockets.connect(f"ws://127.0.0.1:{wse_port}/wse",
                                          extra_headers={"Authorization": "Bearer " + token})
            ready = await recv_json(ws, lambda m: m.get("t") == "server_ready")
            assert ready["p"]["details"]["user_id"] == "alice"
            message = '{"t":"notification","p":{"text":"hello"}}'
            query = urllib.parse.urlencode({"message": message})
            give_up = time.monotonic() + 15
            while True:  # until the drain loop has subscribed the connection
                await asyncio.to_thread(_http, "POST", f"{api}/broadcast/notifications?{query}")
                try:
                    got = await recv_json(ws, lambda m: m.get("t") == "notification", timeout=0.3)
                    break
                except (AssertionError, asyncio.TimeoutError):
                    assert time.monotonic() < give_up, "the broadcast never reached the client"
            assert got["p"] == {"text": "hello"}
            assert (await asyncio.to_thread(_http, "GET", api + "/health"))["connections"] == 1
            await ws.close()

        asyncio.run(client())
    finally:
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out
    assert "Application shutdown complete" in out
