"""Lifecycle and bad input: start/stop cycles without leaks, errors that
name the keyword, RuntimeError for a second start, panics that become
exceptions, and event order per connection."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from typing import Any

import pytest
from conftest import SECRET, Events, ready, recv_json, token, wait_for

import wse_server
from wse_server import RustWSEServer, WSEServer, _server


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _cycle(with_client: bool) -> None:
    s = RustWSEServer("127.0.0.1", 0, jwt_secret=SECRET)
    s.enable_drain_mode()
    s.start()
    if with_client:
        async def client() -> None:
            import websockets
            ws = await websockets.connect(f"ws://127.0.0.1:{s.port}/wse",
                                          extra_headers={"Authorization": "Bearer " + token("c")})
            await ws.recv()
            s.broadcast_all('{"t":"x"}')
            await ws.recv()
            await ws.close()
        asyncio.run(client())
    s.stop()
    assert not s.is_running()
    s.drain_inbound(256, 0)


def test_100_start_stop_cycles_leak_nothing() -> None:
    for i in range(10):  # warm up: the Go runtime's threads, asyncio's selectors
        _cycle(with_client=i % 2 == 0)
    base_fds, base_threads = _fds(), _os_threads()
    base_py_threads = threading.active_count()
    base_goroutines = _server._runtime_stats()["goroutines"]
    base_handles = _server._runtime_stats()["handles"]
    for i in range(100):
        _cycle(with_client=i % 10 == 0)
    import gc
    gc.collect()
    wait_for(lambda: _server._runtime_stats()["goroutines"] <= base_goroutines + 2,
             what=f"goroutines back to {base_goroutines} (+2)")
    assert _fds() <= base_fds, "file descriptors grew"
    assert threading.active_count() <= base_py_threads, "Python threads grew"
    # The Go runtime keeps the OS threads it made and may need a few more on
    # a busy machine; a leak would be one or more per cycle (100).
    assert _os_threads() <= base_threads + 8, "OS threads grew"
    assert _server._runtime_stats()["handles"] <= base_handles, "server handles were not released"


def test_callback_thread_ends_with_stop() -> None:
    for _ in range(5):
        s = RustWSEServer("127.0.0.1", 0)
        s.set_callbacks(lambda c, u: None, lambda c, d: None, lambda c: None)
        s.start()
        s.stop()
    assert not any(t.name == "wse_server-callbacks" for t in threading.enumerate())


def test_start_twice_and_restart() -> None:
    s = RustWSEServer("127.0.0.1", 0)
    s.start()
    with pytest.raises(RuntimeError, match="already running"):
        s.start()
    s.stop()
    s.stop()  # idempotent
    with pytest.raises(RuntimeError):
        s.start()
    again = RustWSEServer("127.0.0.1", 0)
    again.start()
    assert again.is_running()
    again.stop()


@pytest.mark.parametrize("kwargs, keyword", [
    ({"jwt_secret": b"0123456789abcdef"}, "jwt_secret"),
    ({"jwt_secret": SECRET, "jwt_previous_secret": b"short"}, "jwt_previous_secret"),
    ({"jwt_algorithm": "none"}, "jwt_algorithm"),
    ({"jwt_algorithm": "RS256", "jwt_secret": b"not a pem key at all, but long enough"}, "jwt_secret"),
    ({"jwt_private_key": b"garbage"}, "jwt_private_key"),
    ({"recovery_buffer_size": 100}, "recovery_buffer_size"),
    ({"recovery_buffer_size": 0}, "recovery_buffer_size"),
    ({"ping_interval": 60, "idle_timeout": 60}, "ping_interval"),
    ({"ping_interval": 30, "idle_timeout": 20}, "ping_interval"),
    ({"ping_interval": 0}, "ping_interval"),
    ({"max_connections": 0}, "max_connections"),
    ({"max_inbound_queue_size": -1}, "max_inbound_queue_size"),
    ({"presence_max_data_size": 0}, "presence_max_data_size"),
    ({"rate_limit_capacity": -1.0}, "rate_limit_capacity"),
    ({"max_message_size": 0}, "max_message_size"),
    ({"max_subscriptions_per_connection": -2}, "max_subscriptions_per_connection"),
    ({"recovery_ttl": 0}, "recovery_ttl"),
])
def test_bad_config_names_the_keyword(kwargs: dict[str, Any], keyword: str) -> None:
    with pytest.raises(ValueError, match=f"^{keyword}:"):
        RustWSEServer("127.0.0.1", 0, **kwargs)


def test_bad_types_and_ports() -> None:
    with pytest.raises(TypeError, match="max_connections"):
        RustWSEServer("127.0.0.1", 0, max_connections="many")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="^port:"):
        RustWSEServer("127.0.0.1", 70000)
    with pytest.raises(TypeError):
        RustWSEServer("127.0.0.1", 0, no_such_option=1)  # type: ignore[call-arg]
    busy = RustWSEServer("127.0.0.1", 0)
    busy.start()
    try:
        clash = RustWSEServer("127.0.0.1", busy.port)
        with pytest.raises(RuntimeError, match="listen"):
            clash.start()
    finally:
        busy.stop()


def test_go_panic_becomes_exception() -> None:
    with pytest.raises(RuntimeError, match="internal error"):
        _server.call(0, "self_test_panic")
    # The library still works afterwards.
    assert wse_server.jwt_encode({"sub": "x"}, SECRET).count(".") == 2


def test_unknown_connection_ids_are_ignored() -> None:
    s = RustWSEServer("127.0.0.1", 0, presence_enabled=True)
    s.start()
    try:
        s.send("nope", "x")
        s.send_bytes("nope", b"x")
        assert s.send_event("nope", {"t": "x"}) == 0
        s.disconnect("nope")
        s.subscribe_connection("nope", ["t"])
        s.unsubscribe_connection("nope")
        s.set_topic_acl("nope", allow=["*"])
        assert s.subscribe_with_recovery("nope", ["t"])["recovered"] is False
        with pytest.raises(RuntimeError):
            s.update_presence("nope", {"a": 1})
        s.subscribe_connection("nope", ["t"], queue_group="workers")  # unknown id: ignored
        assert s.get_queue_group_info("t") == {}
        with pytest.raises(ValueError, match="queue_group"):
            s.subscribe_connection("nope", ["t"], queue_group="")
    finally:
        s.stop()
    # After stop, sends and broadcasts do nothing.
    s.broadcast("t", "{}")
    s.broadcast_all("{}")
    s.send("nope", "x")


def test_alias_and_accel_module() -> None:
    from wse_server._wse_accel import RustWSEServer as Accel
    from wse_server._wse_accel import rust_jwt_encode, rust_transform_event
    assert Accel is WSEServer is RustWSEServer
    assert rust_jwt_encode is wse_server.jwt_encode
    assert rust_transform_event is wse_server.transform_event


def test_jwt_encode_options() -> None:
    tok = wse_server.jwt_encode({"sub": "u"}, SECRET, algorithm="HS256", key_id="k1")
    import base64
    header = json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "=="))
    assert header == {"alg": "HS256", "kid": "k1", "typ": "JWT"}
    with pytest.raises(ValueError):
        wse_server.jwt_encode({"sub": "u"}, b"short")


def test_event_order_per_connection() -> None:
    s = RustWSEServer("127.0.0.1", 0, jwt_secret=SECRET)
    s.enable_drain_mode()
    s.start()

    async def client() -> None:
        clients = [await ready(s, f"user-{i}") for i in range(5)]
        for i in range(100):
            for ws, _ in clients:
                await ws.send(json.dumps({"t": "n", "p": {"i": i}}))
        for ws, _ in clients:
            await ws.close()
        events = Events(s)
        await events.until(lambda evs: sum(e[0] == "disconnect" for e in evs) == 5)
        for ws, cid in clients:
            mine = [e for e in events.seen if e[1] == cid]
            assert mine[0] == ("auth_connect", cid, mine[0][2])
            assert [e[2]["p"]["i"] for e in mine[1:-1]] == list(range(100))
            assert mine[-1] == ("disconnect", cid, None)

    try:
        asyncio.run(client())
    finally:
        s.stop()


def test_drain_inbound_releases_the_gil() -> None:
    s = RustWSEServer("127.0.0.1", 0)
    s.start()
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    t = threading.Thread(target=count)
    t.start()
    try:
        before = ticks
        assert s.drain_inbound(256, 300) == []  # no client: waits the whole 300 ms
        during = ticks - before
    finally:
        stop.set()
        t.join()
        s.stop()
    # With the GIL held for 300 ms the counter could not have moved by more
    # than one switch interval's worth (5 ms); released, it runs freely.
    assert during > 10_000, during


def test_rs256_with_a_pem_key_pair(servers: list[RustWSEServer]) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    s = RustWSEServer("127.0.0.1", 0, jwt_secret=public_pem, jwt_algorithm="RS256", jwt_private_key=private_pem,
                      jwt_key_id="k1")
    servers.append(s)
    s.enable_drain_mode()
    s.start()
    import time
    now = int(time.time())
    tok = wse_server.jwt_encode({"sub": "rsa-user", "exp": now + 60, "iat": now}, private_pem, algorithm="RS256")
    # The key id is enforced: a token without "kid" is refused.
    import base64
    assert "kid" not in json.loads(base64.urlsafe_b64decode(tok.split(".")[0] + "=="))

    async def client() -> None:
        import websockets
        ws = await websockets.connect(f"ws://127.0.0.1:{s.port}/wse", extra_headers={"Authorization": "Bearer " + tok})
        frame = json.loads(await ws.recv())
        assert frame["t"] == "error" and frame["p"]["code"] == "AUTH_FAILED"
        await ws.close()
        good = wse_server.jwt_encode({"sub": "rsa-user", "exp": now + 60, "iat": now}, private_pem,
                                     algorithm="RS256", key_id="k1")
        ws = await websockets.connect(f"ws://127.0.0.1:{s.port}/wse", extra_headers={"Authorization": "Bearer " + good})
        assert json.loads(await ws.recv())["t"] == "server_ready"
        assert (await Events(s).first("auth_connect"))[2] == "rsa-user"
        await ws.close()

    asyncio.run(client())


def test_concurrent_threads_lose_nothing() -> None:
    """Four Python threads publish while another drains (the FastAPI
    pattern: endpoints on a thread pool, the drain loop on its own): every
    subscriber gets every message, each thread's in order."""
    s = RustWSEServer("127.0.0.1", 0, jwt_secret=SECRET)
    s.enable_drain_mode()
    s.start()
    threads_n, per_thread = 4, 500

    async def client() -> None:
        clients = [await ready(s, f"sub-{i}") for i in range(3)]
        for _, cid in clients:
            s.subscribe_connection(cid, ["feed"])
        stop = threading.Event()
        drained: list[Any] = []

        def drain_loop() -> None:
            while not stop.is_set():
                drained.extend(s.drain_inbound(256, 20))

        def publish(k: int) -> None:
            for i in range(per_thread):
                s.broadcast("feed", json.dumps({"t": "n", "p": {"k": k, "i": i}}))

        workers = [threading.Thread(target=drain_loop)] + [threading.Thread(target=publish, args=(k,))
                                                             for k in range(threads_n)]
        for w in workers:
            w.start()

        async def read_all(ws: Any) -> dict[int, list[int]]:
            seen: dict[int, list[int]] = {k: [] for k in range(threads_n)}
            for _ in range(threads_n * per_thread):
                m = await recv_json(ws, lambda m: m.get("t") == "n")
                seen[m["p"]["k"]].append(m["p"]["i"])
            return seen

        results = await asyncio.gather(*(read_all(ws) for ws, _ in clients))
        stop.set()
        for w in workers:
            w.join()
        for seen in results:
            for k in range(threads_n):
                assert seen[k] == list(range(per_thread)), f"thread {k}: lost or reordered"
        assert s.health_snapshot()["inbound_dropped"] == 0
        for ws, _ in clients:
            await ws.close()

    try:
        asyncio.run(client())
    finally:
        s.stop()


def test_oversized_client_message_closes_only_that_client() -> None:
    s = RustWSEServer("127.0.0.1", 0, jwt_secret=SECRET, max_message_size=1024)
    s.enable_drain_mode()
    s.start()

    async def client() -> None:
        import websockets
        bad, _ = await ready(s, "bad")
        good, good_id = await ready(s, "good")
        await bad.send("x" * 2000)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(bad.recv(), 10)
        assert closed.value.code == 1009
        s.send(good_id, "still here")
        assert await good.recv() == "still here"
        await good.close()

    try:
        asyncio.run(client())
    finally:
        s.stop()
