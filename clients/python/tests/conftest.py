"""Fixtures: a real wse-server (and the Go test application) on random
loopback ports, built once per session from this checkout."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

ROOT = Path(__file__).resolve().parents[3]
JWT_SECRET = "python-client-tests-secret-0123456789abcdef"



def server_env() -> dict[str, str]:
    """The environment for wse-server: this one without WSE_* variables,
    which the server takes as settings and refuses when unknown (such as
    the WSE_SERVER_BIN that names the binary for these tests)."""
    return {k: v for k, v in os.environ.items() if not k.startswith("WSE_")}

def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _go_build(out: Path, pkg: str) -> Path:
    subprocess.run(["go", "build", "-o", str(out), pkg], cwd=ROOT, check=True)
    return out


@pytest.fixture(scope="session")
def bin_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("bin")


@pytest.fixture(scope="session")
def server_bin(bin_dir: Path) -> Path:
    """The wse-server binary: $WSE_SERVER_BIN, or built from this checkout."""
    env = os.environ.get("WSE_SERVER_BIN")
    if env:
        return Path(env)
    return _go_build(bin_dir / "wse-server", "./cmd/wse-server")


@pytest.fixture(scope="session")
def testapp_bin(bin_dir: Path) -> Path:
    """The Go test application (clients/python/testapp)."""
    env = os.environ.get("WSE_TESTAPP_BIN")
    if env:
        return Path(env)
    return _go_build(bin_dir / "testapp", "./clients/python/testapp")


def wait_until(cond: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll cond until it returns a truthy value or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


async def eventually(cond: Callable[[], Any], timeout: float = 15.0, what: str = "condition") -> Any:
    """Poll cond on the event loop until it is truthy or timeout passes."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


class Server:
    """A wse-server process on fixed random ports; restartable."""

    def __init__(self, binary: Path, args: list[str]) -> None:
        self.binary = binary
        self.args = args
        self.port = free_port()
        self.api_port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/wse"

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                str(self.binary),
                "--port", str(self.port),
                "--api-addr", f"127.0.0.1:{self.api_port}",
                "--demo=false",
                "--log-level", "warn",
                "--drain-timeout", "5s",
                # Tests read /api/events about connections made before the
                # first poll.
                "--events-buffer-before-poll",
                *self.args,
            ],
            stdout=subprocess.DEVNULL,
            env=server_env(),
        )
        wait_until(self._healthy, 20, "wse-server /health")

    def _healthy(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"wse-server exited with {self.proc.returncode}")
        try:
            with urllib.request.urlopen(self.api + "/health", timeout=1):
                return True
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        """Call the control API; returns the decoded JSON answer."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.api + path, data=data, method=method)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as exc:
            return json.load(exc)

    def publish(self, topic: str, data: Any) -> Any:
        return self.call("POST", "/api/publish", {"topic": topic, "data": data})

    def disconnect(self, conn_id: str, code: int, reason: str = "test") -> Any:
        return self.call("POST", "/api/disconnect", {"conn_id": conn_id, "code": code, "reason": reason})

    def token(self, sub: str, ttl_s: int = 3600, claims: dict[str, Any] | None = None) -> str:
        body: dict[str, Any] = {"sub": sub, "ttl_s": ttl_s}
        if claims:
            body["claims"] = claims
        return str(self.call("POST", "/api/token", body)["token"])

    def events(self, timeout_ms: int = 0) -> list[dict[str, Any]]:
        return list(self.call("GET", f"/api/events?max=1000&timeout_ms={timeout_ms}")["events"])


@pytest.fixture
def wse_server(server_bin: Path) -> Iterator[Callable[..., Server]]:
    """A factory: wse_server("--recovery", …) starts a server with those flags."""
    servers: list[Server] = []

    def make(*args: str) -> Server:
        s = Server(server_bin, list(args))
        s.start()
        servers.append(s)
        return s

    yield make
    for s in servers:
        s.stop(signal.SIGKILL)


class App:
    """The Go test application (clients/python/testapp) in one mode."""

    def __init__(self, binary: Path, mode: str, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            [str(binary), mode, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stderr is not None
        self.url = self.proc.stdout.readline().strip()
        if not self.url.startswith("ws://"):
            raise AssertionError(f"testapp printed {self.url!r}")
        #: Lines the application logged on stderr so far.
        self.log: list[str] = []
        threading.Thread(target=self._read_log, args=(self.proc.stderr,), daemon=True).start()

    def _read_log(self, stream: Any) -> None:
        for line in stream:
            self.log.append(line.rstrip("\n"))

    def logged(self, text: str) -> bool:
        """Whether a logged line contains text."""
        return any(text in line for line in self.log)

    def stop(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def testapp(testapp_bin: Path) -> Iterator[Callable[..., App]]:
    apps: list[App] = []

    def make(mode: str, *args: str) -> App:
        a = App(testapp_bin, mode, list(args))
        apps.append(a)
        return a

    yield make
    for a in apps:
        a.stop()


async def in_thread(fn: Callable[..., Any], *args: Any) -> Any:
    """Run a blocking call (a control API request) off the event loop."""
    return await asyncio.to_thread(fn, *args)


