"""Unit tests of the sans-I/O core: the shared wire vectors
(testdata/vectors), the E2E known answer, and scripted conversations."""

from __future__ import annotations

import base64
import json
import zlib
from pathlib import Path
from typing import Any

import pytest

from wse_client import codec
from wse_client.crypto import Offer
from wse_client.events import (
    Connected,
    Message,
    MissedData,
    Position,
    PresenceJoin,
    RawFrame,
    ServerError,
    SubscriptionFailed,
)
from wse_client.protocol import ClientProtocol, CloseAction, ProtocolConfig, ReconnectPolicy, close_action, parse_reply

ROOT = Path(__file__).resolve().parents[3]
VECTORS = ROOT / "testdata" / "vectors"


def vectors(name: str) -> Any:
    return json.loads((VECTORS / name).read_text())


class Clock:
    """A settable clock for the protocol."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def ready_protocol(recovery: bool = True, **kw: Any) -> tuple[ClientProtocol, Clock]:
    clock = Clock()
    p = ClientProtocol(ProtocolConfig(**kw), clock=clock, wall=lambda: 1_700_000_000.0, rand=lambda: 0.5)
    p.connection_opened()
    p.receive_text(server_ready(recovery=recovery))
    return p, clock


def server_ready(recovery: bool = True, encryption: bool = True, cid: str = "c1") -> str:
    return json.dumps(
        {
            "c": "WSE",
            "t": "server_ready",
            "p": {
                "message": "Connection established",
                "details": {
                    "version": 1,
                    "connection_id": cid,
                    "user_id": "u1",
                    "features": {"recovery": recovery, "encryption": encryption, "msgpack": True},
                },
            },
            "v": 1,
        }
    )


def stamped(topic: str, epoch: str, offset: int, i: int = 0) -> str:
    return f'{{"tp":"{topic}","e":"{epoch}","o":{offset},"c":"U","t":"tick","p":{{"i":{i}}}}}'


def reply(topics: list[str], recovery: dict[str, Any] | None = None, action: str = "subscribe") -> str:
    p: dict[str, Any] = {"action": action, "success": True, "success_topics": topics, "failed_topics": [], "failed_codes": {}}
    if recovery is not None:
        p["recovery"] = recovery
    return json.dumps({"c": "WSE", "t": "subscription_update", "p": p, "v": 1})


def sent(p: ClientProtocol) -> list[dict[str, Any]]:
    out = []
    for f in p.data_to_send():
        assert isinstance(f, str)
        out.append(json.loads(f))
    return out


def messages(p: ClientProtocol) -> list[Any]:
    return [e for e in p.events_received() if not isinstance(e, Connected)]


# --- vectors ------------------------------------------------------------------


@pytest.mark.parametrize("t,want", sorted(vectors("category.json")["cases"].items()))
def test_category_vectors(t: str, want: str) -> None:
    assert codec.category(t) == want


@pytest.mark.parametrize("case", vectors("stamp.json")["cases"], ids=lambda c: c["in"][:20])
def test_stamp_vectors_decode_to_positions(case: dict[str, Any]) -> None:
    p, _ = ready_protocol()
    p.events_received()
    p.receive_text(case["out"])
    (ev,) = p.events_received()
    if case["out"].startswith("{"):
        assert isinstance(ev, Message)
        assert (ev.topic, ev.epoch, ev.offset) == (case["topic"], case["epoch"], case["offset"])
    else:
        assert isinstance(ev, RawFrame) and ev.data == case["out"]


@pytest.mark.parametrize("case", vectors("inject.json")["cases"], ids=lambda c: c["in"][:20])
def test_inject_vectors_decode_with_category(case: dict[str, Any]) -> None:
    obj = codec.decode_text(case["out"].lstrip())
    parsed: Any
    try:
        parsed = json.loads(case["out"])
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        assert obj is None
        return
    assert obj == parsed
    if "t" in parsed and "c" in parsed:
        assert obj["c"] == parsed["c"]


def _inbound_cases() -> list[dict[str, Any]]:
    out = []
    for c in vectors("inbound.json")["cases"]:
        ev = c["expect"]["event"]
        if c["frame"] == "text" and ev in ("msg", "raw"):
            out.append(c)
        elif c["frame"] == "binary" and c["data_b64"].startswith("Qzp"):  # "C:" frames
            out.append(c)
    return out


@pytest.mark.parametrize("case", _inbound_cases(), ids=lambda c: c["name"])
def test_inbound_vectors_share_the_decoder(case: dict[str, Any]) -> None:
    """The client reads frames with the same prefix, JSON and zlib rules the
    engine applies to client frames (binary plain JSON differs on purpose:
    send_event sends it, so the client decodes it)."""
    want = case["expect"]
    if case["frame"] == "text":
        obj = codec.decode_text(case["data"])
    else:
        obj = codec.decode_binary(base64.b64decode(case["data_b64"]), 1 << 20)
    if want["event"] == "msg":
        assert obj is not None
        if "type" in obj and "t" not in obj:  # normalized by the protocol, not the decoder
            obj = {"t": obj.pop("type"), "p": obj.pop("payload"), **obj}
        assert obj == want["data"]
    else:
        assert obj is None


def test_webcrypto_known_answer() -> None:
    v = json.loads((ROOT / "internal" / "e2e" / "testdata" / "webcrypto.json").read_text())
    offer = Offer(int(v["client_private_d"], 16))
    assert offer.public_key() == v["client_public_key"]
    session = offer.complete(v["server_public_key"])
    frame = base64.b64decode(v["frame_b64"])
    assert session.open(frame) == v["plaintext"].encode()
    assert session.open(frame[:-1] + bytes([frame[-1] ^ 1])) is None
    assert session.open(session.seal(b"back")) == b"back"


# --- conversations --------------------------------------------------------------


def test_nothing_but_auth_before_server_ready_then_client_hello() -> None:
    p = ClientProtocol(ProtocolConfig(first_message_token="tok"))
    p.connection_opened()
    assert sent(p) == [{"t": "auth", "p": {"token": "tok"}}]
    p.want(["a"])
    p.receive_text(server_ready())
    hello, sub = sent(p)
    assert hello["t"] == "client_hello" and hello["c"] == "WSE"
    assert hello["p"]["protocol_version"] == 1 and hello["p"]["features"]["encryption"] is False
    assert sub["t"] == "subscription_update" and sub["p"] == {"action": "subscribe", "topics": ["a"], "recover": True}
    (ev,) = p.events_received()
    assert isinstance(ev, Connected) and ev.connection_id == "c1" and ev.user_id == "u1"
    assert not p.settled
    p.receive_text(reply(["a"], {"a": {"epoch": "", "offset": 0, "recovered": False}}))
    assert p.settled


def test_server_ping_answered_and_pong_measures_latency() -> None:
    p, _ = ready_protocol()
    sent(p)
    p.receive_text('{"c":"WSE","t":"ping","p":{"server_time":"2026-01-01T00:00:00.000Z"}}')
    (pong,) = sent(p)
    assert pong["t"] == "PONG" and pong["p"]["server_timestamp"] == "2026-01-01T00:00:00.000Z"
    p.receive_text('{"c":"WSE","t":"PONG","p":{"client_timestamp":1699999999950,"server_timestamp":1,"latency":0},"v":1}')
    assert p.latency == pytest.approx(0.05)
    assert messages(p) == []


def test_tick_pings_and_watchdog() -> None:
    p, clock = ready_protocol(ping_interval=15, heartbeat_timeout=40)
    sent(p)
    clock.t += 15
    p.tick()
    (ping,) = sent(p)
    assert ping["t"] == "ping" and ping["p"]["timestamp"] == 1_700_000_000_000
    clock.t += 20
    p.receive_text('{"c":"WSE","t":"ping","p":{}}')
    clock.t += 39
    p.tick()
    assert not p.dead
    clock.t += 2
    p.tick()
    assert p.dead


def test_duplicates_dropped_gap_recovered_in_order() -> None:
    p, _ = ready_protocol()
    sent(p)
    rid = p.subscribe(["t"])
    sent(p)
    p.receive_text(reply(["t"], {"t": {"epoch": "e1", "offset": 0, "recovered": False}}))
    assert p.replies_received()[0][0] == rid
    for o in (1, 2, 2, 1):
        p.receive_text(stamped("t", "e1", o))
    p.receive_text(stamped("t", "e1", 5))  # 3 and 4 missing: held, replay asked
    (req,) = sent(p)
    assert req["p"]["recover"] is True and req["p"]["recovery"] == {"t": {"epoch": "e1", "offset": 2}}
    p.receive_text(stamped("t", "e1", 6))
    for o in (3, 4, 5):  # the replay, then the reply
        p.receive_text(stamped("t", "e1", o))
    p.receive_text(reply(["t"], {"t": {"epoch": "e1", "offset": 5, "recovered": True, "count": 3}}))
    assert [m.offset for m in messages(p)] == [1, 2, 3, 4, 5, 6]
    assert p.positions() == {"t": Position("e1", 6)}


def test_not_recovered_is_missed_data() -> None:
    p, _ = ready_protocol()
    sent(p)
    p.subscribe(["t"])
    p.receive_text(reply(["t"], {"t": {"epoch": "e1", "offset": 0, "recovered": False}}))
    p.receive_text(stamped("t", "e1", 1))
    p.events_received()
    sent(p)
    # Reconnect: the new server lost the buffer.
    p.connection_lost(1006)
    p.connection_opened()
    p.receive_text(server_ready(cid="c2"))
    hello, sub = sent(p)
    assert sub["p"]["recovery"] == {"t": {"epoch": "e1", "offset": 1}}
    p.receive_text(reply(["t"], {"t": {"epoch": "e2", "offset": 7, "recovered": False}}))
    p.receive_text(stamped("t", "e2", 8))
    evs = messages(p)
    assert isinstance(evs[0], MissedData)
    assert evs[0].start == Position("e1", 1) and evs[0].end == Position("e2", 7)
    assert isinstance(evs[1], Message) and evs[1].offset == 8


def test_refused_resubscribe_is_reported_and_forgotten() -> None:
    p, _ = ready_protocol()
    sent(p)
    p.subscribe(["t"])
    p.receive_text(reply(["t"]))
    p.connection_lost(4300)
    p.connection_opened()
    p.receive_text(server_ready())
    p.receive_text(
        '{"c":"WSE","t":"subscription_update","p":{"action":"subscribe","success":true,"success_topics":[],'
        '"failed_topics":["t"],"failed_codes":{"t":"FORBIDDEN"}},"v":1}'
    )
    evs = messages(p)
    assert evs == [SubscriptionFailed("t", "FORBIDDEN")]
    assert p.wanted_topics == ()


def test_unstamped_messages_deduplicated_by_id_and_batches_expanded() -> None:
    p, _ = ready_protocol()
    p.receive_text('{"c":"U","t":"n","id":"x","p":1}')
    p.receive_text('{"c":"U","t":"n","id":"x","p":1}')
    p.receive_text('{"c":"WSE","t":"batch","p":{"messages":[{"t":"a","p":1},{"t":"b","p":2}]}}')
    p.receive_text('{"c":"WSE","t":"presence_join","p":{"topic":"r","user_id":"u","data":{"k":1}},"v":1}')
    p.receive_text('{"c":"WSE","t":"error","p":{"code":"RATE_LIMITED","message":"slow","retry_after":1.0},"v":1}')
    evs = messages(p)
    assert [getattr(e, "type") for e in evs] == ["n", "a", "b", "presence_join", "error"]
    assert evs[3] == PresenceJoin("r", "u", {"k": 1})
    assert evs[4] == ServerError("RATE_LIMITED", "slow", 1.0)


def test_binary_frames() -> None:
    p, _ = ready_protocol()
    body = json.dumps({"c": "U", "t": "big", "p": {"s": "x" * 3000}}).encode()
    p.receive_binary(b"C:" + zlib.compress(body))
    p.receive_binary(body)
    p.receive_binary(b"\x00\x01raw")
    p.receive_binary(b"C:" + zlib.compress(b"{" + b" " * (2 << 20) + b"}"))  # inflates past the limit
    evs = messages(p)
    assert [type(e).__name__ for e in evs] == ["Message", "Message", "RawFrame", "RawFrame"]


def test_reply_shapes() -> None:
    r = parse_reply({"action": "subscribe", "success_topics": ["a"], "failed_topics": [{"topic": "b", "code": "LIMIT"}]})
    assert r.granted == ("a",) and r.failed == {"b": "LIMIT"}
    r = parse_reply({"action": "unsubscribe", "success_topics": [], "unsubscribed_topics": ["a"]})
    assert r.granted == ("a",)
    r = parse_reply({"recovery": {"a": {"epoch": "e", "offset": 3}, "bad": {"offset": "x"}}})
    assert r.recovery["a"].recovered is True and "bad" not in r.recovery


@pytest.mark.parametrize(
    "code,action",
    [
        (1000, CloseAction.STOP),
        (1001, CloseAction.STOP),
        (4403, CloseAction.STOP),
        (4401, CloseAction.REFRESH),
        (4300, CloseAction.RECONNECT),
        (4408, CloseAction.RECONNECT),
        (4429, CloseAction.RECONNECT),
        (1006, CloseAction.RECONNECT),
        (None, CloseAction.RECONNECT),
    ],
)
def test_close_actions(code: int | None, action: CloseAction) -> None:
    assert close_action(code) is action


def test_backoff_is_jittered_exponential_and_bounded() -> None:
    pol = ReconnectPolicy(base=1, factor=2, max_delay=10, jitter=0.2, max_attempts=3)
    assert pol.delay(0, 0.0) == 1 and pol.delay(0, 0.999) == pytest.approx(0.8, abs=1e-3)
    assert pol.delay(3, 0.0) == 8 and pol.delay(10, 0.0) == 10
    p = ClientProtocol(ProtocolConfig(reconnect=pol), rand=lambda: 0.0)
    delays = [p.connect_failed() for _ in range(4)]
    assert [d.delay for d in delays[:3]] == [1, 2, 4]
    assert delays[3].gave_up and delays[3].action is CloseAction.STOP
    first_refresh, _ = ClientProtocol(ProtocolConfig(reconnect=pol)).connection_lost(4401)
    assert first_refresh.action is CloseAction.REFRESH and first_refresh.delay == 0


def test_requests_need_a_ready_connection() -> None:
    p = ClientProtocol()
    from wse_client import NotConnected

    with pytest.raises(NotConnected):
        p.subscribe(["a"])
    with pytest.raises(NotConnected):
        p.send("x", {})


def test_garbage_never_raises() -> None:
    """Malformed frames become RawFrame events or are ignored, never an
    exception out of the core (a fixed-seed sweep of hostile shapes)."""
    import random

    rng = random.Random(12)
    shapes = [
        '{"t":"subscription_update","p":"x"}',
        '{"t":"subscription_update","p":{"success_topics":5,"failed_topics":[1,{"topic":2}],"recovery":[]}}',
        '{"t":"server_hello","p":{"encryption_public_key":"@@@"}}',
        '{"t":"presence_join","p":[]}',
        '{"t":"error","p":{"code":5,"retry_after":"soon"}}',
        '{"t":"batch","p":{"messages":[1,"x",{"t":7}]}}',
        '{"tp":1,"e":2,"o":"3","t":"x"}',
        '{"tp":"a","e":"e","o":-5}',
        '{"t":"PONG","p":{"client_timestamp":"x"}}',
        '{"t":"ping","p":null}',
        '{"t":"server_ready","p":{"details":[]}}',
        "WSE{broken",
        "",
    ]
    p, _ = ready_protocol(encryption=False)
    for s in shapes:
        p.receive_text(s)
    p.receive_binary(b"M:" + b"\x91" * 5000)  # deeply nested MessagePack
    p.receive_binary(b"M:\xc1")
    p.receive_binary(b"E:short")
    for _ in range(2000):
        n = rng.randrange(0, 40)
        blob = bytes(rng.randrange(256) for _ in range(n))
        p.receive_binary(rng.choice([b"", b"C:", b"M:", b"{", b"E:"]) + blob)
        p.receive_text(rng.choice(["{", "WSE{", "S{", "[", '{"t":"'] ) + blob.decode("latin-1"))
    p.events_received()
    p.tick()


def test_encryption_handshake_waits_for_server_hello() -> None:
    p = ClientProtocol(ProtocolConfig(encryption=True))
    p.connection_opened()
    p.want(["a"])
    p.receive_text(server_ready())
    (hello,) = sent(p)  # no subscription before the key exists
    assert hello["p"]["features"]["encryption"] is True
    assert len(base64.b64decode(hello["p"]["encryption_public_key"])) == 65
    assert not p.ready
    p.receive_text('{"c":"WSE","t":"server_hello","p":{"encryption_public_key":"@@@"}}')
    (err,) = p.events_received()
    assert isinstance(err, ServerError) and err.code == "KEY_EXCHANGE_FAILED" and p.dead
