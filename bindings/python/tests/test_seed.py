"""The snippets of the seed's sections 2-11 (the original's integration
guide), each run against the binding with real WebSocket clients."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import websockets
from conftest import (AUDIENCE, ISSUER, SECRET, Events, async_wait_for, connect, ready, recv_json, token,
                      url)

from wse_server import RustWSEServer, rust_jwt_encode


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# -- section 2: basic server setup ---------------------------------------------------------

def test_s2_basic_setup(servers: list[RustWSEServer]) -> None:
    server = RustWSEServer(
        "127.0.0.1", 0,
        max_connections=10_000,
        jwt_secret=b"replace-with-a-strong-secret-key!",
        jwt_issuer="my-app",
        jwt_audience="my-api",
        jwt_cookie_name="access_token",  # optional, default: "access_token"
    )
    servers.append(server)
    server.enable_drain_mode()
    server.start()
    assert server.is_running()
    assert server.port > 0

    async def client() -> None:
        ws, conn_id = await ready(server, "user-1")
        ev = await Events(server).first("auth_connect")
        assert ev == ("auth_connect", conn_id, "user-1")
        await ws.close()

    run(client())


# -- section 3: JWT authentication ---------------------------------------------------------

def test_s3_tokens_by_header_and_cookie(jwt_server: Any) -> None:
    server = jwt_server()
    tok = rust_jwt_encode(
        {"sub": "user-1", "iss": "my-app", "aud": "my-api",
         "exp": int(time.time()) + 3600, "iat": int(time.time())},
        b"replace-with-a-strong-secret-key!",
    )
    assert tok.count(".") == 2

    async def client() -> None:
        events = Events(server)
        # Authorization: Bearer
        ws, cid = await ready(server, "user-1")
        assert await events.first("auth_connect", cid) == ("auth_connect", cid, "user-1")
        # the access_token cookie
        ws2 = await connect(server, cookie=f"theme=dark; access_token={tok}")
        ready_msg = await recv_json(ws2, lambda m: m.get("t") == "server_ready")
        cid2 = ready_msg["p"]["details"]["connection_id"]
        assert await events.first("auth_connect", cid2) == ("auth_connect", cid2, "user-1")
        await ws.close()
        await ws2.close()

    run(client())


def test_s3_custom_cookie_name(jwt_server: Any) -> None:
    server = jwt_server(jwt_cookie_name="session")

    async def client() -> None:
        ws = await connect(server, cookie="session=" + token("carol"))
        await recv_json(ws, lambda m: m.get("t") == "server_ready")
        assert (await Events(server).first("auth_connect"))[2] == "carol"
        await ws.close()

    run(client())


def test_s3_missing_or_bad_token_gets_4401(jwt_server: Any) -> None:
    server = jwt_server()

    async def client() -> None:
        ws = await connect(server)
        err = await recv_json(ws, lambda m: m.get("t") == "error")
        assert err["p"]["code"] == "AUTH_REQUIRED"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.code == 4401

        bad = rust_jwt_encode({"sub": "eve", "iss": "other", "aud": AUDIENCE, "exp": int(time.time()) + 60,
                               "iat": int(time.time())}, SECRET)
        ws = await websockets.connect(url(server), extra_headers={"Authorization": "Bearer " + bad})
        err = await recv_json(ws, lambda m: m.get("t") == "error")
        assert err["p"]["code"] == "AUTH_FAILED"
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.code == 4401

    run(client())
    assert server.get_connection_count() == 0
    assert server.drain_inbound(256, 0) == []


def test_s3_without_jwt_connect_event_has_cookies(servers: list[RustWSEServer]) -> None:
    server = RustWSEServer("127.0.0.1", 0)
    servers.append(server)
    server.enable_drain_mode()
    server.start()

    async def client() -> None:
        ws = await connect(server, cookie="a=1; b=2")
        ev = await Events(server).first("connect")
        assert ev[2] == "a=1; b=2"
        assert ev[1] in server.get_connections()
        await ws.close()

    run(client())


# -- section 4: event handling ---------------------------------------------------------------

def test_s4_drain_mode_event_types(jwt_server: Any) -> None:
    server = jwt_server(presence_enabled=True)

    async def client() -> None:
        events = Events(server)
        ws, cid = await ready(server, "alice")
        await events.first("auth_connect", cid)
        await ws.send(json.dumps({"t": "chat", "p": {"text": "hi", "n": 3, "x": 1.5, "ok": True, "l": [1, None]}}))
        await ws.send('WSE{"t":"legacy","p":{}}')
        await ws.send("not json at all")
        await ws.send(b"\x00\x01\x02")
        await events.until(lambda evs: sum(e[1] == cid and e[0] in ("msg", "raw", "bin") for e in evs) >= 4)
        mine = [e for e in events.seen if e[1] == cid]
        assert mine[1] == ("msg", cid, {"t": "chat", "p": {"text": "hi", "n": 3, "x": 1.5, "ok": True, "l": [1, None]}})
        assert isinstance(mine[1][2]["p"]["n"], int)
        assert mine[2] == ("msg", cid, {"t": "legacy", "p": {}})
        assert mine[3] == ("raw", cid, "not json at all")
        assert mine[4] == ("bin", cid, b"\x00\x01\x02")

        server.subscribe_connection(cid, ["room"], {"status": "online"})
        join = await events.first("presence_join")
        assert join == ("presence_join", None, {"topic": "room", "user_id": "alice", "data": {"status": "online"}})
        await ws.close()
        await events.first("disconnect", cid)
        leave = await events.first("presence_leave")
        assert leave == ("presence_leave", None, {"topic": "room", "user_id": "alice", "data": {"status": "online"}})
        kinds = [e[0] for e in events.seen if e[1] == cid]
        assert kinds[0] == "auth_connect" and kinds[-1] == "disconnect"

    run(client())


def test_s4_callback_mode(servers: list[RustWSEServer]) -> None:
    server = RustWSEServer("127.0.0.1", 0, jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    servers.append(server)
    calls: list[tuple[Any, ...]] = []
    threads: set[str] = set()
    lock = threading.Lock()

    def on_connect(conn_id: str, user_id: str) -> None:
        with lock:
            calls.append(("connect", conn_id, user_id))
            threads.add(threading.current_thread().name)

    def on_message(conn_id: str, data: Any) -> None:
        with lock:
            calls.append(("message", conn_id, data))
        if data == "boom":
            raise ValueError("a failing callback must not stop delivery")

    def on_disconnect(conn_id: str) -> None:
        with lock:
            calls.append(("disconnect", conn_id))

    server.set_callbacks(on_connect, on_message, on_disconnect)
    server.start()

    async def client() -> None:
        ws, cid = await ready(server, "bob")
        await ws.send("boom")
        for i in range(50):
            await ws.send(json.dumps({"t": "n", "p": {"i": i}}))
        await ws.close()
        await async_wait_for(lambda: ("disconnect", cid) in calls, what="on_disconnect")
        with lock:
            mine = [c for c in calls if c[1] == cid]
        assert mine[0] == ("connect", cid, "bob")
        assert mine[1] == ("message", cid, "boom")
        assert [c[2]["p"]["i"] for c in mine[2:-1]] == list(range(50))
        assert mine[-1] == ("disconnect", cid)

    run(client())
    assert threads == {"wse_server-callbacks"}
    with pytest.raises(RuntimeError):
        server.drain_inbound(1, 0)


def test_s4_callback_snippet_as_written(servers: list[RustWSEServer], capfd: Any) -> None:
    server = RustWSEServer("127.0.0.1", 0, jwt_secret=SECRET, jwt_issuer=ISSUER, jwt_audience=AUDIENCE)
    servers.append(server)

    def on_connect(conn_id, user_id):  # type: ignore[no-untyped-def]
        print(f"Connected: {user_id}")

    def on_message(conn_id, data):  # type: ignore[no-untyped-def]
        print(f"Message: {data}")

    def on_disconnect(conn_id):  # type: ignore[no-untyped-def]
        print(f"Disconnected: {conn_id}")

    server.set_callbacks(on_connect, on_message, on_disconnect)
    server.start()

    async def client() -> None:
        ws, cid = await ready(server, "dora")
        await ws.send('{"t":"hi","p":{}}')
        await ws.close()
        out = ""
        while f"Disconnected: {cid}" not in out:
            await asyncio.sleep(0.02)
            out += capfd.readouterr().out
        assert "Connected: dora" in out and "Message: {'p': {}, 't': 'hi'}" in out

    asyncio.run(asyncio.wait_for(client(), 15))


# -- section 5: sending messages -------------------------------------------------------------

def test_s5_send_variants(jwt_server: Any) -> None:
    server = jwt_server()

    async def client() -> None:
        ws, conn_id = await ready(server, "u")
        other, other_id = await ready(server, "v")
        server.subscribe_connection(conn_id, ["prices"])

        server.send(conn_id, 'WSE{"t":"hello","p":{"msg":"hi"},"v":1}')
        assert await ws.recv() == 'WSE{"t":"hello","p":{"msg":"hi"},"v":1}'

        server.send_bytes(conn_id, b"\x00\x01\x02")
        assert await ws.recv() == b"\x00\x01\x02"

        bytes_sent = server.send_event(conn_id, {"t": "update", "p": {"value": 42}})
        assert bytes_sent > 0
        ev = await recv_json(ws)
        assert ev["t"] == "update" and ev["p"] == {"value": 42} and ev["v"] == 1 and "id" in ev

        big = {"t": "blob", "p": {"s": "x" * 3000}}
        assert server.send_event(conn_id, big) > 0
        frame = await ws.recv()
        assert isinstance(frame, bytes) and frame.startswith(b"C:")
        assert server.send_event(conn_id, big, compression_threshold=0) > 3000
        assert (await ws.recv()).startswith(b"{")

        server.broadcast_all('WSE{"t":"notification","p":{},"v":1}')
        for c in (ws, other):
            assert "notification" in await c.recv()
        server.broadcast_all_bytes(b"\xff\xfe")
        for c in (ws, other):
            assert await c.recv() == b"\xff\xfe"

        server.broadcast_local("prices", '{"t":"price","p":{"symbol":"AAPL","price":187.42}}')
        msg = await recv_json(ws, lambda m: m.get("t") == "price")
        assert msg["p"] == {"symbol": "AAPL", "price": 187.42} and msg["c"] == "U"
        server.broadcast("prices", '{"t":"price","p":{"symbol":"AAPL","price":187.43}}')
        assert (await recv_json(ws, lambda m: m.get("t") == "price"))["p"]["price"] == 187.43
        # The unsubscribed client got neither topic message.
        server.send(other_id, "marker")
        assert await other.recv() == "marker"

        # Unknown connections and topics nobody reads do not raise.
        server.send("no-such-conn", "x")
        server.send_bytes("no-such-conn", b"x")
        assert server.send_event("no-such-conn", {"t": "x"}) == 0
        server.broadcast_local("nobody", "{}")
        with pytest.raises(ValueError):
            server.broadcast("", "{}")
        await ws.close()
        await other.close()

    run(client())


# -- section 6: topic subscriptions ----------------------------------------------------------

def test_s6_subscriptions(jwt_server: Any) -> None:
    server = jwt_server()

    async def client() -> None:
        ws, conn_id = await ready(server, "u")
        server.subscribe_connection(conn_id, ["prices", "news"])
        assert server.get_topic_subscriber_count("prices") == 1
        assert server.get_topic_subscriber_count("news") == 1
        server.unsubscribe_connection(conn_id, ["news"])
        assert server.get_topic_subscriber_count("news") == 0
        server.unsubscribe_connection(conn_id, None)
        count = server.get_topic_subscriber_count("prices")
        assert count == 0
        server.subscribe_connection(conn_id, ["prices"])
        await ws.close()
        await async_wait_for(lambda: server.get_topic_subscriber_count("prices") == 0, what="cleanup on disconnect")
        server.subscribe_connection("no-such-conn", ["prices"])  # ignored, as with the original

        # A topic ACL filters subscriptions silently, as with the original.
        ws2, c2 = await ready(server, "w")
        server.set_topic_acl(c2, allow=["chat:*"], deny=["chat:secret"])
        server.subscribe_connection(c2, ["chat:1", "chat:secret", "admin"])
        assert [server.get_topic_subscriber_count(t) for t in ("chat:1", "chat:secret", "admin")] == [1, 0, 0]
        await ws2.close()

    run(client())


# -- section 7: presence -------------------------------------------------------------------

def test_s7_presence(jwt_server: Any) -> None:
    server = jwt_server(presence_enabled=True, presence_max_data_size=4096, presence_max_members=0)

    async def client() -> None:
        events = Events(server)
        alice1, a1 = await ready(server, "alice")
        alice2, a2 = await ready(server, "alice")
        bob, b = await ready(server, "bob")
        server.subscribe_connection(a1, ["chat-1"], {"status": "online", "name": "Alice"})
        join = await recv_json(alice1, lambda m: m.get("t") == "presence_join")
        assert join["p"]["user_id"] == "alice" and join["p"]["data"] == {"status": "online", "name": "Alice"}
        server.subscribe_connection(a2, ["chat-1"], {"status": "online", "name": "Alice"})
        server.subscribe_connection(b, ["chat-1"], {"status": "away"})
        await recv_json(alice1, lambda m: m.get("t") == "presence_join" and m["p"]["user_id"] == "bob")

        members = server.presence("chat-1")
        assert members == {
            "alice": {"data": {"status": "online", "name": "Alice"}, "connections": 2},
            "bob": {"data": {"status": "away"}, "connections": 1},
        }
        assert server.presence_stats("chat-1") == {"num_users": 2, "num_connections": 3}

        server.update_presence(b, {"status": "busy"})
        upd = await recv_json(alice1, lambda m: m.get("t") == "presence_update")
        assert upd["p"]["user_id"] == "bob" and upd["p"]["data"] == {"status": "busy"}

        # One join per user, however many connections.
        await events.until(lambda evs: sum(e[0] == "presence_join" for e in evs) >= 2)
        assert sorted(e[2]["user_id"] for e in events.seen if e[0] == "presence_join") == ["alice", "bob"]

        await alice1.close()
        await async_wait_for(lambda: server.presence_stats("chat-1")["num_connections"] == 2, what="alice1 gone")
        assert not any(e[0] == "presence_leave" for e in events.seen)
        await alice2.close()
        leave = await events.first("presence_leave")
        assert leave[2]["user_id"] == "alice"
        await recv_json(bob, lambda m: m.get("t") == "presence_leave" and m["p"]["user_id"] == "alice")

        # Data over presence_max_data_size: subscribed, but no presence.
        carol, c = await ready(server, "carol")
        server.subscribe_connection(c, ["big"], {"blob": "x" * 5000})
        assert server.get_topic_subscriber_count("big") == 1
        assert server.presence("big") == {}
        with pytest.raises(RuntimeError):
            server.update_presence(c, {"s": 1})
        health = server.health_snapshot()
        assert health["presence_enabled"] is True and health["presence_topics"] >= 1
        for w in (bob, carol):
            await w.close()

    run(client())


# -- section 8: message recovery -------------------------------------------------------------

def test_s8_recovery(jwt_server: Any) -> None:
    server = jwt_server(
        recovery_enabled=True,
        recovery_buffer_size=256,    # slots per topic (power-of-2)
        recovery_ttl=300,            # 5 minutes
        recovery_max_messages=500,
        recovery_memory_budget=268435456,  # 256 MB
    )

    async def client() -> None:
        ws, cid = await ready(server, "u")
        first = server.subscribe_with_recovery(cid, ["prices"])
        assert set(first) == {"recovered", "topics"} and first["recovered"] is False
        server.broadcast("prices", '{"t":"price","p":{"n":0}}')
        m0 = await recv_json(ws, lambda m: m.get("t") == "price")
        client_epoch, client_offset = m0["e"], m0["o"]
        await ws.close()
        for n in range(1, 4):
            server.broadcast("prices", json.dumps({"t": "price", "p": {"n": n}}))

        ws2, cid2 = await ready(server, "u")
        result = server.subscribe_with_recovery(
            cid2, ["prices"],
            recover=True,
            epoch=client_epoch,    # from previous session
            offset=client_offset,  # from previous session
        )
        assert result["recovered"] is True
        t = result["topics"]["prices"]
        assert t["recovered"] is True and t["count"] == 3 and t["epoch"] == client_epoch
        assert t["offset"] == client_offset + 3
        got = [(await recv_json(ws2, lambda m: m.get("t") == "price"))["p"]["n"] for _ in range(3)]
        assert got == [1, 2, 3]
        health = server.health_snapshot()
        assert health["recovery_enabled"] is True and health["recovery_topic_count"] == 1
        await ws2.close()

    run(client())


# -- section 9: cluster setup ----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_s9_cluster(jwt_server: Any) -> None:
    a, b = jwt_server(), jwt_server()
    pa, pb = _free_port(), _free_port()
    a.connect_cluster(peers=[f"127.0.0.1:{pb}"], cluster_port=pa)
    b.connect_cluster(peers=[f"127.0.0.1:{pa}"], cluster_port=pb)
    with pytest.raises(RuntimeError):
        a.connect_cluster(peers=[f"127.0.0.1:{pb}"])

    async def client() -> None:
        await async_wait_for(lambda: a.cluster_connected() and b.cluster_connected(), what="mesh up")
        assert a.cluster_peers_count() == 1
        info = a.cluster_info()
        assert set(info[0]) == {"address", "instance_id", "capabilities", "connected_at"}
        ws, cid = await ready(b, "u")
        b.subscribe_connection(cid, ["prices"])
        deadline = time.monotonic() + 15
        while True:  # until the subscription's interest has reached a
            a.broadcast("prices", '{"t":"price","p":{"from":"a"}}')
            try:
                msg = await recv_json(ws, lambda m: m.get("t") == "price", timeout=0.3)
                break
            except (AssertionError, asyncio.TimeoutError):
                assert time.monotonic() < deadline, "broadcast never crossed the mesh"
        assert msg["p"] == {"from": "a"}
        await async_wait_for(lambda: a.health_snapshot()["cluster_messages_sent"] >= 1, what="sent counted")
        await async_wait_for(lambda: b.health_snapshot()["cluster_messages_delivered"] >= 1, what="delivery counted")
        assert isinstance(a.get_cluster_dlq_entries(), list)
        await ws.close()

    run(client())

    # Gossip discovery: a third node knows only a seed and learns the rest.
    c = jwt_server()
    pc = _free_port()
    c.connect_cluster(
        peers=[],
        seeds=[f"127.0.0.1:{pa}"],
        cluster_addr=f"127.0.0.1:{pc}",
        cluster_port=pc,
    )
    deadline = time.monotonic() + 15
    while c.cluster_peers_count() < 2:
        assert time.monotonic() < deadline, f"c sees {c.cluster_peers_count()} peers, want 2"
        time.sleep(0.05)
    assert c.cluster_connected()
    with pytest.raises(ValueError):
        jwt_server().connect_cluster(peers=[], seeds=["127.0.0.1:1"])


# -- section 10: health monitoring -----------------------------------------------------------

SEED_HEALTH_KEYS = {
    "connections": int, "inbound_queue_depth": int, "inbound_dropped": int, "uptime_secs": float,
    "recovery_enabled": bool, "recovery_topic_count": int, "recovery_total_bytes": int,
    "cluster_connected": bool, "cluster_peer_count": int, "cluster_messages_sent": int,
    "cluster_messages_delivered": int, "cluster_messages_dropped": int, "cluster_bytes_sent": int,
    "cluster_bytes_received": int, "cluster_reconnect_count": int, "cluster_unknown_message_types": int,
    "cluster_dlq_size": int, "presence_enabled": bool, "presence_topics": int, "presence_total_users": int,
}


def test_s10_health_snapshot(jwt_server: Any) -> None:
    server = jwt_server(presence_enabled=True, recovery_enabled=True)

    async def client() -> None:
        ws, _ = await ready(server, "u")
        health = server.health_snapshot()
        for key, typ in SEED_HEALTH_KEYS.items():
            assert isinstance(health[key], typ), (key, health[key])
        assert health["connections"] == 1
        text = server.prometheus_metrics()
        assert "# TYPE wse_connections gauge" in text and "\nwse_connections 1\n" in text
        await ws.close()

    run(client())


# -- section 11: connection management -------------------------------------------------------

def test_s11_connection_management(jwt_server: Any) -> None:
    server = jwt_server()

    async def client() -> None:
        ws1, c1 = await ready(server, "u1")
        ws2, c2 = await ready(server, "u2")
        conn_ids = server.get_connections()
        assert sorted(conn_ids) == sorted([c1, c2])
        count = server.get_connection_count()
        assert count == 2
        server.disconnect(c1)
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws1.recv(), 10)
        assert closed.value.code == 4300  # a code after which clients reconnect
        await async_wait_for(lambda: server.get_connection_count() == 1, what="count 1")
        server.disconnect("no-such-conn")
        depth = server.inbound_queue_depth()
        dropped = server.inbound_dropped_count()
        assert depth >= 0 and dropped == 0
        dlq = server.get_cluster_dlq_entries()
        assert dlq == []
        await ws2.close()

    run(client())


def test_any_path_and_origin_upgrade(jwt_server: Any) -> None:
    """As with the original: any path, and no Origin check (a page served
    by FastAPI on another port connects)."""
    server = jwt_server()

    async def client() -> None:
        ws = await websockets.connect(url(server, "/"), extra_headers={"Authorization": "Bearer " + token("p")})
        await recv_json(ws, lambda m: m.get("t") == "server_ready")
        await ws.close()
        ws = await websockets.connect(url(server, "/ws"), origin="http://app.example:8000",  # type: ignore[arg-type]
                                      extra_headers={"Authorization": "Bearer " + token("p")})
        await recv_json(ws, lambda m: m.get("t") == "server_ready")
        await ws.close()

    run(client())


def test_inbound_queue_bound(jwt_server: Any) -> None:
    server = jwt_server(max_inbound_queue_size=8)

    async def client() -> None:
        ws, _ = await ready(server, "u")
        for i in range(40):
            await ws.send(json.dumps({"t": "n", "p": {"i": i}}))
        await async_wait_for(lambda: server.inbound_dropped_count() > 0, what="drops counted")
        # The 40 messages and the auth_connect event are all either queued
        # or dropped before the two counts are compared: while messages still
        # arrive, two reads see different counts.
        await async_wait_for(lambda: server.inbound_dropped_count() + server.inbound_queue_depth() == 41,
                             what="every event queued or dropped")
        assert server.inbound_queue_depth() <= 8
        assert server.health_snapshot()["inbound_dropped"] == server.inbound_dropped_count()
        await ws.close()

    run(client())


def _cluster_pki(tmp: Path) -> tuple[str, str, str]:
    """A throwaway cluster CA and one node certificate signed by it (PEM
    files): ca, cert, key."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wse test cluster CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(hours=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    node_key = ec.generate_private_key(ec.SECP256R1())
    node = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "wse node")]))
            .issuer_name(ca_name).public_key(node_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
            .sign(ca_key, hashes.SHA256()))
    paths = (tmp / "ca.pem", tmp / "node.pem", tmp / "node.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(node.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(node_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                serialization.NoEncryption()))
    return str(paths[0]), str(paths[1]), str(paths[2])


def test_s9_cluster_mtls(jwt_server: Any, tmp_path: Path) -> None:
    ca, cert, key = _cluster_pki(tmp_path)
    a, b = jwt_server(), jwt_server()
    pa, pb = _free_port(), _free_port()
    for server, port, peer in ((a, pa, pb), (b, pb, pa)):
        server.connect_cluster(
            peers=[f"127.0.0.1:{peer}"],
            tls_ca=ca,
            tls_cert=cert,
            tls_key=key,
            cluster_port=port,
        )
    deadline = time.monotonic() + 15
    while not (a.cluster_connected() and b.cluster_connected()):
        assert time.monotonic() < deadline, "mTLS mesh did not come up"
        time.sleep(0.05)
    assert a.cluster_peers_count() == 1 and b.cluster_peers_count() == 1
    with pytest.raises(ValueError):
        jwt_server().connect_cluster(peers=[], tls_ca=ca, tls_cert=cert)
    # Rotation: reloading (here the same files) keeps the link; a missing
    # file is refused and the old material stays in use.
    a.reload_cluster_tls(cert, key, ca)
    assert a.cluster_connected() and a.cluster_peers_count() == 1
    with pytest.raises(RuntimeError):
        a.reload_cluster_tls(str(tmp_path / "missing.pem"), key, ca)
    assert a.cluster_connected()
    with pytest.raises(RuntimeError):
        jwt_server().reload_cluster_tls(cert, key, ca)  # no cluster


def test_drain_lame_duck(jwt_server: Any) -> None:
    server = jwt_server()

    async def client() -> None:
        ws, _ = await ready(server, "u")
        left = await asyncio.to_thread(server.drain, 4300, "moving", 10)
        assert left == 0
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                await asyncio.wait_for(ws.recv(), 10)
        assert closed.value.code == 4300 and closed.value.reason == "moving"
        with pytest.raises((OSError, websockets.InvalidHandshake)):
            await connect(server, "late")
        assert server.is_running()  # stop() is still needed, as with the original

    run(client())
    server.stop()
    assert not server.is_running()
    with pytest.raises(ValueError):
        server.drain(close_code=99)


def test_max_connections(jwt_server: Any) -> None:
    server = jwt_server(max_connections=1)

    async def client() -> None:
        ws, _ = await ready(server, "first")
        with pytest.raises(websockets.InvalidStatusCode) as refused:
            await connect(server, "second")
        assert refused.value.status_code == 503
        await ws.close()
        await async_wait_for(lambda: server.get_connection_count() == 0, what="slot freed")
        ws, _ = await ready(server, "third")
        await ws.close()

    run(client())


def test_queue_group_members_share_a_topic(jwt_server: Any) -> None:
    server = jwt_server()

    async def client() -> None:
        a, ca = await ready(server, "worker-a")
        b, cb = await ready(server, "worker-b")
        for conn_id in (ca, cb):
            server.subscribe_connection(conn_id, ["jobs"], queue_group="workers")
        assert server.get_queue_group_info("jobs") == {"workers": 2}
        assert server.get_topic_subscriber_count("jobs") == 0  # members are not subscribers
        for n in range(10):
            server.broadcast("jobs", json.dumps({"t": "job", "p": {"n": n}}))
        got: dict[str, list[int]] = {"a": [], "b": []}
        for name, ws in (("a", a), ("b", b)):
            for _ in range(5):
                msg = await recv_json(ws, lambda m: m.get("t") == "job")
                got[name].append(msg["p"]["n"])
        assert sorted(got["a"] + got["b"]) == list(range(10)), got  # each job once, in turns
        server.unsubscribe_connection(ca, ["jobs"])  # leaves the group too
        assert server.get_queue_group_info("jobs") == {"workers": 1}
        await a.close()
        await b.close()
        await async_wait_for(lambda: server.get_queue_group_info("jobs") == {}, what="members gone")

    run(client())
