"""The asyncio client against a real wse-server over real sockets."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from typing import Any

import pytest
from conftest import JWT_SECRET, eventually, in_thread

from wse_client import (
    AsyncWSEClient,
    AuthenticationFailed,
    Connected,
    ConnectionFailed,
    ConnectionState,
    Disconnected,
    Forbidden,
    GaveUp,
    InvalidURL,
    Message,
    MissedData,
    PresenceJoin,
    PresenceLeave,
    PresenceUpdate,
    ReconnectPolicy,
    SyncWSEClient,
    UpgradeRefused,
    connect,
)

FAST = ReconnectPolicy(base=0.1, factor=1.5, max_delay=0.5, jitter=0.2)


async def next_message(client: AsyncWSEClient, timeout: float = 10.0) -> Message:
    """The next Message event, skipping the others."""
    deadline = time.monotonic() + timeout
    while True:
        ev = await client.recv(max(0.01, deadline - time.monotonic()))
        if isinstance(ev, Message):
            return ev


async def test_seed_example_subscribe_publish_async_for(wse_server: Any) -> None:
    srv = wse_server("--recovery", "--client-subscriptions", "any")
    got: list[Message] = []
    async with AsyncWSEClient(srv.url, token=None) as client:
        assert client.state is ConnectionState.CONNECTED
        assert client.connection_id
        res = await client.subscribe(["prices"])
        assert res.granted == ("prices",) and res.failed == {}
        for i in range(3):
            await in_thread(srv.publish, "prices", {"t": "price", "p": {"i": i}})
        async for event in client:
            if isinstance(event, Message):
                got.append(event)
                if len(got) == 3:
                    break
    assert [m.payload["i"] for m in got] == [0, 1, 2]
    assert [m.offset for m in got] == [1, 2, 3]
    assert all(m.topic == "prices" and m.type == "price" and len(m.epoch) == 8 for m in got)
    assert client.state is ConnectionState.CLOSED


async def test_subscribe_reports_refused_topics_and_unsubscribe(wse_server: Any) -> None:
    srv = wse_server("--client-topics", "public.*")
    async with AsyncWSEClient(srv.url) as client:
        res = await client.subscribe(["public.news", "secret"])
        assert res.granted == ("public.news",)
        assert res.failed == {"secret": "FORBIDDEN"}
        assert client.subscribed_topics == ("public.news",)
        res = await client.unsubscribe(["public.news"])
        assert res.granted == ("public.news",)
        assert client.subscribed_topics == ()
        topic = await in_thread(srv.call, "GET", "/api/topics/public.news")
        assert topic["subscribers"] == 0


async def test_on_handlers_and_send(wse_server: Any) -> None:
    srv = wse_server("--client-subscriptions", "any")
    seen: list[Any] = []
    async with AsyncWSEClient(srv.url, topics=["room"]) as client:
        client.on("chat", lambda ev: seen.append(("sync", ev.payload)))

        @client.on("chat")
        async def later(ev: Message) -> None:
            seen.append(("async", ev.payload))

        await in_thread(srv.publish, "room", {"t": "chat", "p": {"text": "hi"}})
        await eventually(lambda: len(seen) == 2, what="both handlers")
        assert seen == [("sync", {"text": "hi"}), ("async", {"text": "hi"})]
        await client.send("hello", {"n": 1})
        evs = await eventually(lambda: [e for e in srv.events() if e["type"] == "msg"], what="msg event")
        assert evs[0]["data"]["t"] == "hello" and evs[0]["data"]["p"] == {"n": 1}
        assert await client.ping() >= 0 and client.latency is not None


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["drain-4300", "killed"])
async def test_reconnect_after_server_restart(wse_server: Any, sig: int) -> None:
    srv = wse_server("--recovery", "--client-subscriptions", "any")
    async with AsyncWSEClient(srv.url, topics=["feed"], reconnect=FAST) as client:
        first = client.connection_id
        await in_thread(srv.publish, "feed", {"t": "tick", "p": {"i": 1}})
        assert (await next_message(client)).payload == {"i": 1}
        await in_thread(srv.stop, sig)  # SIGTERM drains with 4300, SIGKILL drops the socket: reconnect either way
        await eventually(lambda: client.state is ConnectionState.RECONNECTING, what="reconnecting")
        await in_thread(srv.start)
        await eventually(lambda: client.is_connected and client.connection_id != first, 20, "reconnected")
        await eventually(lambda: srv.call("GET", "/api/topics/feed")["subscribers"] == 1, what="resubscribed")
        await in_thread(srv.publish, "feed", {"t": "tick", "p": {"i": 2}})
        events = []
        while True:
            ev = await client.recv(10)
            events.append(ev)
            if isinstance(ev, Message):
                break
        assert ev.payload == {"i": 2} and ev.offset == 1
        kinds = [type(e).__name__ for e in events]
        assert "Disconnected" in kinds and "Connected" in kinds
        missed = [e for e in events if isinstance(e, MissedData)]
        assert missed and missed[0].topic == "feed" and missed[0].start.offset == 1  # the restart lost the buffer


async def test_recovery_across_three_forced_disconnects(wse_server: Any) -> None:
    srv = wse_server(
        "--recovery", "--recovery-buffer-size", "8192", "--recovery-max-messages", "8192", "--client-subscriptions", "any"
    )
    disconnects_done = threading.Event()

    def publisher() -> int:
        """Publish until 100 messages after the third reconnect (bounded)."""
        i = after = 0
        while i < 20_000 and after < 100:
            i += 1
            srv.publish("orders", {"t": "order", "p": {"i": i}})
            if disconnects_done.is_set():
                after += 1
            if i % 4 == 0:
                time.sleep(0.004)
        return i

    got: list[Message] = []
    missed: list[MissedData] = []
    async with AsyncWSEClient(srv.url, topics=["orders"], reconnect=FAST) as client:
        pub = asyncio.get_running_loop().run_in_executor(None, publisher)
        ids = {client.connection_id}

        async def reader() -> None:
            async for ev in client:
                if isinstance(ev, Message):
                    got.append(ev)
                elif isinstance(ev, MissedData):
                    missed.append(ev)

        read = asyncio.create_task(reader())
        try:
            for code in (4300, 4408, 4429):
                before = len(got)
                await eventually(lambda: len(got) > before + 50, 30, "messages between disconnects")
                cid = client.connection_id
                assert cid is not None
                await in_thread(srv.disconnect, cid, code)
                await eventually(lambda: client.is_connected and client.connection_id not in ids, 20, "reconnected")
                ids.add(client.connection_id)
            disconnects_done.set()
            total = await asyncio.wait_for(pub, 120)
            await eventually(lambda: len(got) >= total, 60, "every message")
        finally:
            disconnects_done.set()
            read.cancel()
            await asyncio.gather(read, return_exceptions=True)
    assert not missed
    assert [m.offset for m in got] == list(range(1, total + 1))
    assert [m.payload["i"] for m in got] == list(range(1, total + 1))
    assert len(ids) == 4


async def test_slow_consumer_is_dropped_and_nothing_is_lost_silently(testapp: Any) -> None:
    """A client that stops reading fills its queue, the socket and the
    engine's outbound queue (256 KiB) until the engine drops it with 4429;
    it reconnects, and what the recovery buffer (1024) no longer holds is a
    MissedData event: delivered and missed offsets cover 1..N exactly once."""
    total = 60_000
    app = testapp("feed", "-n", str(total), "-queue-bytes", "262144", "-buffer", "1024", "-ping", "1s")
    got: list[int] = []
    missed: list[MissedData] = []
    codes: list[int | None] = []
    async with AsyncWSEClient(app.url, topics=["bench"], queue_size=20, reconnect=FAST) as client:
        # Read nothing until the engine has closed the connection.
        await eventually(lambda: app.logged("disconnect 4429"), 30, "the engine closing the slow consumer")
        async for ev in client:
            if isinstance(ev, Message):
                got.append(ev.offset)
            elif isinstance(ev, MissedData):
                missed.append(ev)
            elif isinstance(ev, Disconnected):
                codes.append(ev.code)
            pos = client.positions.get("bench")
            if pos is not None and pos.offset == total:
                break
        await eventually(lambda: client.is_connected and client.connections == 2, what="reconnected once")
    # The close frame sits behind the unread data; when the engine's socket
    # close resets the connection first, the client sees 1006 instead.
    assert len(codes) == 1 and codes[0] in (4429, 1006)
    assert got == sorted(set(got))  # in order, no duplicates
    lost = {o for m in missed for o in range(m.start.offset + 1, m.end.offset + 1)}
    assert not lost & set(got)
    assert sorted(lost | set(got)) == list(range(1, total + 1))


async def test_token_refresh_on_4401(wse_server: Any) -> None:
    srv = wse_server("--jwt-secret", JWT_SECRET, "--client-subscriptions", "any")
    calls: list[int] = []

    async def refresh() -> str:
        calls.append(1)
        return str(await in_thread(srv.token, "alice"))

    async with AsyncWSEClient(srv.url, token="not-a-jwt", token_refresh=refresh, reconnect=FAST) as client:
        assert calls == [1]  # the first attempt got 4401, the refreshed token worked
        assert client.user_id == "alice"
        first = client.connection_id
        assert first is not None
        await in_thread(srv.disconnect, first, 4401, "token expired")
        await eventually(lambda: client.is_connected and client.connection_id != first, 20, "reconnected")
        assert len(calls) == 2 and client.user_id == "alice"


async def test_4401_without_refresh_raises(wse_server: Any) -> None:
    srv = wse_server("--jwt-secret", JWT_SECRET)
    with pytest.raises(AuthenticationFailed) as err:
        async with AsyncWSEClient(srv.url, token="not-a-jwt"):
            pass
    assert err.value.code == 4401


async def test_refresh_that_keeps_failing_gives_up(wse_server: Any) -> None:
    srv = wse_server("--jwt-secret", JWT_SECRET)
    calls: list[int] = []

    def refresh() -> str:
        calls.append(1)
        return "still-not-a-jwt"

    with pytest.raises(AuthenticationFailed):
        async with AsyncWSEClient(srv.url, token="not-a-jwt", token_refresh=refresh, reconnect=FAST):
            pass
    assert len(calls) == 3


async def test_gives_up_after_max_attempts(wse_server: Any) -> None:
    srv = wse_server()
    policy = ReconnectPolicy(base=0.05, max_delay=0.1, max_attempts=2)
    async with AsyncWSEClient(srv.url, reconnect=policy) as client:
        await in_thread(srv.stop, signal.SIGKILL)
        await asyncio.wait_for(client.wait_closed(), 20)
        assert isinstance(client.error, GaveUp)
        with pytest.raises(GaveUp):
            async for _ in client:
                pass


async def test_first_message_auth(wse_server: Any) -> None:
    srv = wse_server("--jwt-secret", JWT_SECRET, "--auth-first-message")
    tok = await in_thread(srv.token, "bob")
    async with AsyncWSEClient(srv.url, token=tok, auth_first_message=True) as client:
        assert client.user_id == "bob"


@pytest.mark.parametrize("code", [1000, 4403])
async def test_final_close_codes_stop_the_client(wse_server: Any, code: int) -> None:
    srv = wse_server()
    client = await connect(srv.url, reconnect=FAST)
    assert client.connection_id is not None
    await in_thread(srv.disconnect, client.connection_id, code, "bye")
    await asyncio.wait_for(client.wait_closed(), 10)
    assert client.state is ConnectionState.CLOSED
    events = []
    if code == 1000:
        assert client.error is None
        async for ev in client:  # ends without an error
            events.append(ev)
    else:
        assert isinstance(client.error, Forbidden) and client.error.code == 4403
        with pytest.raises(Forbidden):
            async for ev in client:
                events.append(ev)
    last = events[-1]
    assert isinstance(last, Disconnected) and last.code == code and not last.reconnecting
    assert client.connections == 1
    await client.close()


async def test_encryption(wse_server: Any) -> None:
    srv = wse_server("--recovery", "--client-subscriptions", "any")
    async with AsyncWSEClient(srv.url, encryption=True, topics=["secret"]) as client:
        assert client.encrypted
        await in_thread(srv.publish, "secret", {"t": "note", "p": {"x": "y"}})
        m = await next_message(client)
        assert m.payload == {"x": "y"} and m.offset == 1
        await client.send("sealed", {"ok": True})
        evs = await eventually(lambda: [e for e in srv.events() if e["type"] == "msg"], what="decrypted msg")
        assert evs[0]["data"]["p"] == {"ok": True}
        metrics = await in_thread(srv.call, "GET", "/health")
        assert metrics["connections"] == 1


async def test_encryption_refused_goes_on_in_plaintext(wse_server: Any) -> None:
    srv = wse_server("--encryption=false")
    async with AsyncWSEClient(srv.url, encryption=True) as client:
        assert not client.encrypted
        kinds = []
        while client.queue_size:
            kinds.append((await client.recv(1)).type)
        assert "encryption_refused" in kinds


@pytest.mark.parametrize("msgpack", [False, True])
async def test_compressed_and_msgpack_events(testapp: Any, msgpack: bool) -> None:
    app = testapp("echo")
    async with AsyncWSEClient(app.url, msgpack=msgpack) as client:
        big = {"text": "z" * 5000}
        await client.send("echo_event", big)  # over the 1024-byte threshold: C: (or M:)
        m = await next_message(client)
        assert m.type == "event" and m.payload == big
        await client.send("echo_event", {"small": 1})  # plain binary JSON (or M:)
        m = await next_message(client)
        assert m.payload == {"small": 1}


async def test_presence(wse_server: Any) -> None:
    srv = wse_server("--jwt-secret", JWT_SECRET, "--presence", "--client-subscriptions", "any")
    ta, tb = await in_thread(srv.token, "ann"), await in_thread(srv.token, "ben")
    async with AsyncWSEClient(srv.url, token=ta) as a:
        await a.subscribe(["room"], presence={"name": "Ann"})
        b = AsyncWSEClient(srv.url, token=tb)
        await b.connect()
        await b.subscribe(["room"], presence={"name": "Ben"})
        seen: list[Any] = []
        while len(seen) < 2:
            ev = await a.recv(10)
            if isinstance(ev, (PresenceJoin, PresenceLeave, PresenceUpdate)):
                seen.append(ev)
        assert [(type(e), e.user_id, e.data) for e in seen] == [
            (PresenceJoin, "ann", {"name": "Ann"}),
            (PresenceJoin, "ben", {"name": "Ben"}),
        ]
        await in_thread(srv.call, "POST", "/api/presence/update", {"conn_id": b.connection_id, "data": {"name": "B"}})
        await b.close()
        rest: list[Any] = []
        while len(rest) < 2:
            ev = await a.recv(10)
            if isinstance(ev, (PresenceLeave, PresenceUpdate)):
                rest.append(ev)
        assert [(type(e), e.user_id) for e in rest] == [(PresenceUpdate, "ben"), (PresenceLeave, "ben")]
        assert rest[0].topic == "room"


async def test_idle_longer_than_watchdog_without_reconnecting(wse_server: Any) -> None:
    srv = wse_server("--ping-interval", "1s", "--idle-timeout", "3s")
    events: list[Any] = []
    async with AsyncWSEClient(srv.url, ping_interval=1.0, heartbeat_timeout=2.5) as client:
        client.on("*", events.append)
        first = client.connection_id
        await asyncio.sleep(7)  # longer than both the server's idle timeout and the client's watchdog
        assert client.is_connected and client.connection_id == first
        assert not [e for e in events if isinstance(e, (Disconnected, Connected))]
        assert client.connections == 1


async def test_bad_url_and_refused_upgrade(wse_server: Any) -> None:
    with pytest.raises(InvalidURL):
        AsyncWSEClient("http://127.0.0.1:1/wse")
    with pytest.raises(InvalidURL):
        AsyncWSEClient("ws:///nohost")
    srv = wse_server()
    with pytest.raises(UpgradeRefused) as err:
        async with AsyncWSEClient(srv.url.replace("/wse", "/nope")):
            pass
    assert err.value.status == 404
    assert "404" in str(err.value)
    with pytest.raises(ConnectionFailed) as refused:
        async with AsyncWSEClient("ws://127.0.0.1:1/wse"):
            pass
    assert "cannot connect to ws://127.0.0.1:1/wse" in str(refused.value)


def test_sync_client(wse_server: Any) -> None:
    srv = wse_server("--recovery", "--client-subscriptions", "any")
    seen: list[str] = []
    client = SyncWSEClient(srv.url)
    client.on("connected", lambda ev: seen.append(threading.current_thread().name))
    with client:
        assert seen == ["wse-client"]  # the handler ran on the client's thread
        res = client.subscribe(["jobs"])
        assert res.granted == ("jobs",)
        for i in range(3):
            srv.publish("jobs", {"t": "job", "p": {"i": i}})
        got = []
        for ev in client:
            if isinstance(ev, Message):
                got.append(ev.payload["i"])
                if len(got) == 3:
                    break
        assert got == [0, 1, 2]
        client.send("done", {"n": 3})
        assert client.ping() >= 0
    assert client.state is ConnectionState.CLOSED
