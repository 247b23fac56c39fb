"""The sans-I/O core of the client: frames in, typed events and frames out.

:class:`ClientProtocol` knows the WSE protocol (PROTOCOL.md) and nothing of
sockets or event loops. An I/O layer feeds it what the transport received
(:meth:`~ClientProtocol.receive_text`, :meth:`~ClientProtocol.receive_binary`),
the passing of time (:meth:`~ClientProtocol.tick`) and the end of each
connection (:meth:`~ClientProtocol.connection_lost`), and takes out what to
write (:meth:`~ClientProtocol.data_to_send`), what to deliver
(:meth:`~ClientProtocol.events_received`) and the replies to requests
(:meth:`~ClientProtocol.replies_received`). One protocol object lives for the
whole client, across reconnects: it keeps the wanted topics and their
recovery positions. Not thread-safe; every call may be made at any time and
none blocks.
"""

from __future__ import annotations

import enum
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable

from . import codec, crypto
from .events import (
    Connected,
    EncryptionRefused,
    Event,
    Message,
    Position,
    PresenceJoin,
    PresenceLeave,
    PresenceUpdate,
    RateLimitWarning,
    RawFrame,
    RecoveryResult,
    ServerError,
    SubscribeResult,
    SubscriptionFailed,
)
from .exceptions import EncryptionError, FeatureUnavailable, NotConnected
from .recovery import Tracker

__all__ = [
    "ReconnectPolicy",
    "ProtocolConfig",
    "CloseAction",
    "CloseDecision",
    "ClientProtocol",
    "close_action",
    "parse_reply",
]

_KEY_EXCHANGE_FAILED = "KEY_EXCHANGE_FAILED"


@dataclass(frozen=True, slots=True)
class ReconnectPolicy:
    """How long to wait between reconnect attempts.

    Attempt n (from 0) waits ``min(max_delay, base * factor**n)``, shortened
    by up to ``jitter`` (a fraction) at random, so delays of many clients
    spread out. The count restarts after every successful connection.
    ``max_attempts`` (0 = unlimited) bounds consecutive failed attempts."""

    base: float = 1.0
    factor: float = 1.5
    max_delay: float = 30.0
    jitter: float = 0.2
    max_attempts: int = 0

    def delay(self, attempt: int, rand: float) -> float:
        """The wait before attempt number ``attempt`` (0-based); rand is a
        uniform number in [0, 1)."""
        d = min(self.max_delay, self.base * self.factor ** min(attempt, 64))
        return d * (1.0 - self.jitter * rand)


class CloseAction(str, enum.Enum):
    """What to do after a connection ended (PROTOCOL §8)."""

    #: Stop for good (1000, 1001, 4403).
    STOP = "stop"
    #: Refresh the token, then reconnect (4401).
    REFRESH = "refresh"
    #: Reconnect after the backoff delay (everything else).
    RECONNECT = "reconnect"


def close_action(code: int | None) -> CloseAction:
    """The action for a close code: final on 1000/1001/4403, refresh on
    4401, reconnect on every other code and on network errors (None)."""
    if code in (1000, 1001, 4403):
        return CloseAction.STOP
    if code == 4401:
        return CloseAction.REFRESH
    return CloseAction.RECONNECT


@dataclass(frozen=True, slots=True)
class CloseDecision:
    """The protocol's verdict on a lost connection: the action, and the
    delay before the next attempt (meaningful for RECONNECT and REFRESH);
    ``attempt`` is the 1-based number of the attempt to come."""

    action: CloseAction
    delay: float = 0.0
    attempt: int = 0
    gave_up: bool = False


@dataclass(slots=True)
class ProtocolConfig:
    """Settings of the protocol core; every field has a default."""

    #: Track positions and ask for replays when the server has recovery on.
    recovery: bool = True
    #: Ask for end-to-end encryption in ``client_hello``.
    encryption: bool = False
    #: Connection uses ``format=msgpack`` (the server's ``send_event`` comes as ``M:``).
    msgpack: bool = False
    #: Seconds between client pings (``{"t":"ping"}``; PONG measures latency).
    ping_interval: float = 15.0
    #: Seconds without any frame from the server after which the connection
    #: is taken as dead (the original client's 40 s watchdog).
    heartbeat_timeout: float = 40.0
    #: Seconds a subscription request may wait for its reply.
    request_timeout: float = 10.0
    #: Largest message accepted, also the bound of zlib inflation.
    max_message_size: int = 1 << 20
    #: Backoff between reconnect attempts.
    reconnect: ReconnectPolicy = field(default_factory=ReconnectPolicy)
    #: Token sent as the first message ``{"t":"auth"}`` (first-message auth),
    #: or None to send none.
    first_message_token: str | None = None


@dataclass(slots=True)
class _Request:
    """A subscription request waiting for its reply; ``rid`` 0 marks the
    protocol's own (resubscribe, gap recovery)."""

    rid: int
    action: str
    topics: tuple[str, ...]
    sent: float
    expired: bool = False
    #: Sent by the protocol when a connection became ready.
    initial: bool = False


def _recovery_entry(v: Any) -> RecoveryResult | None:
    if type(v) is not dict:
        return None
    off = v.get("offset")
    if type(off) is not int:
        return None
    epoch = v.get("epoch")
    rec = v.get("recovered")
    cnt = v.get("count")
    return RecoveryResult(
        epoch=epoch if isinstance(epoch, str) else "",
        offset=off,
        recovered=rec is None or rec is True,
        count=cnt if type(cnt) is int else 0,
    )


def parse_reply(p: Any) -> SubscribeResult:
    """Parse the payload of a ``subscription_update`` reply.

    Failed topics may be names (codes in ``failed_codes``) or ``{topic,
    code}`` objects; an unsubscribe lists its topics in
    ``unsubscribed_topics``, or in ``success_topics`` without that key."""
    if type(p) is not dict:
        p = {}
    action = p.get("action") if isinstance(p.get("action"), str) else "subscribe"
    granted_raw = p.get("success_topics")
    if action == "unsubscribe" and isinstance(p.get("unsubscribed_topics"), list):
        granted_raw = p["unsubscribed_topics"]
    granted = tuple(t for t in granted_raw if isinstance(t, str) and t) if isinstance(granted_raw, list) else ()
    codes = p.get("failed_codes") if isinstance(p.get("failed_codes"), dict) else {}
    failed: dict[str, str] = {}
    for f in p.get("failed_topics") or ():
        if isinstance(f, str) and f:
            c = codes.get(f)
            failed[f] = c if isinstance(c, str) else ""
        elif isinstance(f, dict) and isinstance(f.get("topic"), str) and f["topic"]:
            c = f.get("code")
            failed[f["topic"]] = c if isinstance(c, str) else ""
    recovery: dict[str, RecoveryResult] = {}
    rec = p.get("recovery")
    if isinstance(rec, dict):
        for topic, v in rec.items():
            entry = _recovery_entry(v)
            if entry is not None:
                recovery[topic] = entry
    return SubscribeResult(action=action, granted=granted, failed=failed, recovery=recovery)


class ClientProtocol:
    """The WSE client state machine (see the module doc).

    ``clock`` is a monotonic clock in seconds, ``wall`` the wall clock in
    seconds (for ``ts`` and ping timestamps), ``rand`` a uniform [0, 1)
    source for backoff jitter; tests pass their own."""

    def __init__(
        self,
        config: ProtocolConfig | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.config = config if config is not None else ProtocolConfig()
        if self.config.encryption and not crypto.available():
            raise FeatureUnavailable("wse: encryption needs the cryptography package (apt-get install python3-cryptography)")
        if self.config.msgpack and not codec.msgpack_available():
            raise FeatureUnavailable("wse: msgpack needs the msgpack package (apt-get install python3-msgpack)")
        self._clock = clock
        self._wall = wall
        self._rand = rand
        self._tracker = Tracker(self.config.request_timeout)
        #: Topics the application wants, with the presence data to join with.
        self._wanted: dict[str, Any] = {}
        self._out: list[str | bytes] = []
        #: Topics the tracker asked a replay for while handling one frame.
        self._recover: dict[str, Position] = {}
        self._events: list[Event] = []
        self._replies: list[tuple[int, SubscribeResult | None]] = []
        self._pending: deque[_Request] = deque()
        self._next_rid = 0
        self._attempt = 0
        self._connections = 0
        self._open = False
        self._ready = False
        self._offer: crypto.Offer | None = None
        self._key_refusal = ""
        self._session: crypto.Session | None = None
        self._last_recv = 0.0
        self._next_ping = 0.0
        self._dead = False
        #: The current connection's id, user id and features (server_ready).
        self.connection_id: str | None = None
        self.user_id: str | None = None
        self.features: dict[str, Any] = {}
        #: Round-trip time of the last client ping, in seconds, or None.
        self.latency: float | None = None
        #: E: frames that could not be opened.
        self.decrypt_failures = 0

    # --- state -------------------------------------------------------------

    @property
    def ready(self) -> bool:
        """Whether the current connection is ready (requests may be sent)."""
        return self._ready

    @property
    def settled(self) -> bool:
        """Whether the connection is ready and the server answered the
        subscriptions made again when it became ready."""
        return self._ready and not any(r.initial and not r.expired for r in self._pending)

    @property
    def encrypted(self) -> bool:
        """Whether the current connection is encrypted."""
        return self._session is not None

    @property
    def dead(self) -> bool:
        """Whether the heartbeat watchdog fired: the I/O layer should drop
        the connection (it then calls :meth:`connection_lost`)."""
        return self._dead

    @property
    def wanted_topics(self) -> tuple[str, ...]:
        """The topics subscribed (or to subscribe again after a reconnect)."""
        return tuple(self._wanted)

    def positions(self) -> dict[str, Position]:
        """The last delivered position of every tracked topic."""
        return self._tracker.positions()

    # --- output ------------------------------------------------------------

    def data_to_send(self) -> list[str | bytes]:
        """Frames to write, in order: ``str`` as text, ``bytes`` as binary."""
        out = self._out
        if out:
            self._out = []
        return out

    def events_received(self) -> list[Event]:
        """Events for the application, in order."""
        ev = self._events
        if ev:
            self._events = []
        return ev

    @property
    def has_replies(self) -> bool:
        """Whether :meth:`replies_received` has something."""
        return bool(self._replies)

    def replies_received(self) -> list[tuple[int, SubscribeResult | None]]:
        """``(request id, reply)`` of requests made with :meth:`subscribe` or
        :meth:`unsubscribe`; None when the request timed out."""
        r = self._replies
        if r:
            self._replies = []
        return r

    # --- connection lifecycle ----------------------------------------------

    def connection_opened(self) -> None:
        """A new connection's socket is open. The protocol sends nothing but
        the first-message auth token until ``server_ready`` arrives."""
        now = self._clock()
        self._open = True
        self._ready = False
        self._dead = False
        self._session = None
        self._offer = None
        self._key_refusal = ""
        self._last_recv = now
        self._next_ping = now + self.config.ping_interval
        self.connection_id = None
        self.user_id = None
        self.features = {}
        tok = self.config.first_message_token
        if tok is not None:
            self._out.append(codec.dumps({"t": "auth", "p": {"token": tok}}))

    def connection_lost(self, code: int | None) -> tuple[CloseDecision, list[int]]:
        """The connection ended with close code (None: no close frame or a
        network error). Returns the decision and the ids of requests that
        were still waiting (the I/O layer repeats them on the next
        connection)."""
        was_ready = self._ready
        self._open = False
        self._ready = False
        self._session = None
        self._offer = None
        lost = [r.rid for r in self._pending if r.rid and not r.expired]
        self._pending.clear()
        if was_ready:
            self._attempt = 0
        return self._decide(close_action(code)), lost

    def connect_failed(self) -> CloseDecision:
        """An attempt to open a connection failed (network error, refused
        upgrade, no ``server_ready`` in time)."""
        self._open = False
        self._ready = False
        return self._decide(CloseAction.RECONNECT)

    def _decide(self, action: CloseAction) -> CloseDecision:
        if action is CloseAction.STOP:
            return CloseDecision(action)
        pol = self.config.reconnect
        n = self._attempt
        self._attempt += 1
        if pol.max_attempts and n >= pol.max_attempts:
            return CloseDecision(CloseAction.STOP, attempt=n, gave_up=True)
        delay = 0.0 if (action is CloseAction.REFRESH and n == 0) else pol.delay(n, self._rand())
        return CloseDecision(action, delay=delay, attempt=n + 1)

    # --- input -------------------------------------------------------------

    def receive_text(self, text: str) -> None:
        """A text frame arrived."""
        self._last_recv = self._clock()
        obj = codec.decode_text(text)
        if obj is None:
            self._events.append(RawFrame(text))
            return
        tp = obj.get("tp")
        if type(tp) is str:  # the hot path: a topic publication
            e = obj.get("e")
            o = obj.get("o")
            if type(e) is str and type(o) is int:
                t = obj.get("t")
                if t is None:
                    t = obj.get("type")
                p = obj.get("p")
                if p is None:
                    p = obj.get("payload")
                self._stamped(Message(t if type(t) is str else "", p, tp, e, o, obj.get("id"), obj.get("ts"), obj.get("c"), obj))
                return
        self._handle(obj)

    def receive_binary(self, data: bytes) -> None:
        """A binary frame arrived."""
        self._last_recv = self._clock()
        if data[:2] == b"E:" and self.config.encryption:
            sess = self._session
            plain = sess.open(data) if sess is not None else None
            if plain is None:
                self.decrypt_failures += 1
                self._events.append(RawFrame(data))
                return
            obj = (
                codec.decode_binary(plain, self.config.max_message_size)
                if plain[:2] in (b"C:", b"M:")
                else codec.decode_text(plain.decode("utf-8", "replace"))
            )
        else:
            obj = codec.decode_binary(data, self.config.max_message_size)
        if obj is None:
            self._events.append(RawFrame(data))
            return
        self._handle(obj)

    def _handle(self, obj: dict[str, Any]) -> None:
        """Dispatch one decoded message by its type."""
        t = obj.get("t")
        if t is None:
            t = obj.get("type")
        p = obj.get("p")
        if p is None:
            p = obj.get("payload")
        if "tp" in obj:  # a topic publication, whatever its type: it has an offset
            self._message(obj, t if type(t) is str else "", p)
            return
        if type(t) is not str:
            self._events.append(RawFrame(codec.dumps(obj)))
            return
        if t not in _CONTROL:
            self._message(obj, t, p)
            return
        _CONTROL[t](self, obj, p)

    def _stamped(self, m: Message) -> None:
        """Run a stamped message through the tracker."""
        recover = self._recover
        self._tracker.accept(m, self._clock(), self._events, recover)
        if recover:
            self._recover = {}
            self._ask_recovery(recover)

    def _message(self, obj: dict[str, Any], t: str, p: Any) -> None:
        tp = obj.get("tp")
        if tp is not None:
            e = obj.get("e")
            o = obj.get("o")
            if type(tp) is str and type(e) is str and type(o) is int:
                self._stamped(Message(t, p, tp, e, o, obj.get("id"), obj.get("ts"), obj.get("c"), obj))
                return
        mid = obj.get("id")
        m = Message(t, p, None, "", 0, mid if type(mid) is str else None, obj.get("ts"), obj.get("c"), obj)
        self._tracker.accept(m, self._clock(), self._events, self._recover)

    def _on_server_ready(self, obj: dict[str, Any], p: Any) -> None:
        details = p.get("details") if type(p) is dict else None
        if type(details) is not dict:
            details = {}
        features = details.get("features")
        self.features = features if type(features) is dict else {}
        cid = details.get("connection_id")
        uid = details.get("user_id")
        self.connection_id = cid if isinstance(cid, str) else None
        self.user_id = uid if isinstance(uid, str) and uid else None
        key = ""
        refused = ""
        if self.config.encryption:
            if self.features.get("encryption") is False:
                refused = "the server has encryption disabled"
            else:
                self._offer = crypto.Offer()
                key = self._offer.public_key()
        hello: dict[str, Any] = {
            "client_version": codec.CLIENT_VERSION,
            "protocol_version": codec.PROTOCOL_VERSION,
            "features": {
                "compression": True,
                "recovery": self.config.recovery,
                "msgpack": self.config.msgpack,
                "encryption": bool(key),
            },
        }
        if key:
            hello["encryption_public_key"] = key
        self._out.append(codec.encode("client_hello", hello, self._wall()))
        if self._offer is None:
            self._start(refused)

    def _on_server_hello(self, obj: dict[str, Any], p: Any) -> None:
        offer = self._offer
        if offer is None:
            return  # not waited for; the server keys a connection once
        self._offer = None
        key = p.get("encryption_public_key") if type(p) is dict else None
        if not isinstance(key, str) or not key:
            self._start(self._key_refusal or "server_hello carries no key")
            return
        try:
            self._session = offer.complete(key)
        except EncryptionError as exc:
            self._events.append(ServerError(_KEY_EXCHANGE_FAILED, str(exc)))
            self._dead = True  # unusable key: drop the connection and retry
            return
        self._start("")

    def _start(self, refused: str) -> None:
        """The connection is ready: resubscribe and announce it."""
        self._ready = True
        self._connections += 1
        self._tracker.reset(bool(self.config.recovery and self.features.get("recovery")))
        self._events.append(
            Connected(
                self.connection_id or "",
                self.user_id,
                self.features,
                encrypted=self._session is not None,
                reconnected=self._connections > 1,
            )
        )
        if refused:
            self._events.append(EncryptionRefused(refused))
        if self._wanted:
            with_presence = [t for t, d in self._wanted.items() if d is not None]
            plain = [t for t, d in self._wanted.items() if d is None]
            if plain:
                self._request(0, "subscribe", plain, True, None, initial=True)
            for t in with_presence:
                self._request(0, "subscribe", [t], True, self._wanted[t], initial=True)

    def _on_ping(self, obj: dict[str, Any], p: Any) -> None:
        st = p.get("server_time") if type(p) is dict else None
        self._out.append(
            codec.dumps(
                {"c": "WSE", "t": "PONG", "p": {"server_timestamp": st, "client_timestamp": int(self._wall() * 1000)}, "v": 1}
            )
        )

    def _on_pong(self, obj: dict[str, Any], p: Any) -> None:
        ts = p.get("client_timestamp") if type(p) is dict else None
        if isinstance(ts, (int, float)) and ts > 0:
            self.latency = max(0.0, self._wall() - ts / 1000.0)

    def _on_subscription(self, obj: dict[str, Any], p: Any) -> None:
        r = parse_reply(p)
        req = self._pending.popleft() if self._pending else None
        now = self._clock()
        recover: dict[str, Position] = {}
        if r.action == "subscribe":
            for topic, code in r.failed.items():
                if topic in self._wanted and (req is None or req.rid == 0 or req.expired):
                    self._events.append(SubscriptionFailed(topic, code))
                self._wanted.pop(topic, None)
        self._tracker.reply(r, now, self._events, recover)
        if recover:
            self._ask_recovery(recover)
        if req is not None and req.rid and not req.expired:
            self._replies.append((req.rid, r))

    def _on_error(self, obj: dict[str, Any], p: Any) -> None:
        if type(p) is not dict:
            p = {}
        code = p.get("code") if isinstance(p.get("code"), str) else ""
        msg = p.get("message") if isinstance(p.get("message"), str) else ""
        ra = p.get("retry_after")
        if code == _KEY_EXCHANGE_FAILED and self._offer is not None:
            self._key_refusal = f"{code}: {msg}"
        self._events.append(ServerError(code, msg, float(ra) if isinstance(ra, (int, float)) else None))

    def _on_presence(self, obj: dict[str, Any], p: Any) -> None:
        if type(p) is not dict:
            p = {}
        cls = _PRESENCE[obj["t"]]
        topic = p.get("topic")
        uid = p.get("user_id")
        self._events.append(cls(topic if isinstance(topic, str) else "", uid if isinstance(uid, str) else "", p.get("data")))

    def _on_rate_limit(self, obj: dict[str, Any], p: Any) -> None:
        self._events.append(RateLimitWarning(p if type(p) is dict else {}))

    def _on_batch(self, obj: dict[str, Any], p: Any) -> None:
        msgs = p.get("messages") if type(p) is dict else None
        if not isinstance(msgs, list):
            self._message(obj, "batch", p)
            return
        for m in msgs:
            if type(m) is dict:
                self._handle(m)

    # --- requests ----------------------------------------------------------

    def _send_text(self, text: str) -> None:
        sess = self._session
        self._out.append(sess.seal(text.encode("utf-8")) if sess is not None else text)

    def _request(
        self, rid: int, action: str, topics: list[str], recover: bool, presence: Any, initial: bool = False
    ) -> None:
        now = self._clock()
        p: dict[str, Any] = {"action": action, "topics": topics}
        if presence is not None:
            p["presence"] = presence
        if action == "subscribe" and recover and self.config.recovery:
            from_ = self._tracker.prepare(topics, now)
            if self._tracker.recoverable:
                p["recover"] = True
                if from_:
                    p["recovery"] = {t: {"epoch": pos.epoch, "offset": pos.offset} for t, pos in from_.items()}
        self._pending.append(_Request(rid, action, tuple(topics), now, initial=initial))
        self._send_text(codec.encode("subscription_update", p, self._wall()))

    def _ask_recovery(self, recover: dict[str, Position]) -> None:
        """Send a recovery request for the topics the tracker asked for."""
        if not self._ready:
            return
        p = {
            "action": "subscribe",
            "topics": list(recover),
            "recover": True,
            "recovery": {t: {"epoch": pos.epoch, "offset": pos.offset} for t, pos in recover.items()},
        }
        self._pending.append(_Request(0, "subscribe", tuple(recover), self._clock()))
        self._send_text(codec.encode("subscription_update", p, self._wall()))

    def subscribe(self, topics: list[str] | tuple[str, ...], recover: bool = True, presence: Any = None) -> int:
        """Send a subscription request; returns its id, which
        :meth:`replies_received` reports with the reply. The topics are
        remembered and subscribed again (with recovery) after reconnects.

        Raises :class:`NotConnected` when the connection is not ready."""
        if not self._ready:
            raise NotConnected("wse: not connected")
        topics = list(dict.fromkeys(topics))
        for t in topics:
            self._wanted[t] = presence
        self._next_rid += 1
        self._request(self._next_rid, "subscribe", topics, recover, presence)
        return self._next_rid

    def unsubscribe(self, topics: list[str] | tuple[str, ...]) -> int:
        """Send an unsubscribe request and forget the topics; returns its id.

        Raises :class:`NotConnected` when the connection is not ready."""
        if not self._ready:
            raise NotConnected("wse: not connected")
        topics = list(dict.fromkeys(topics))
        for t in topics:
            self._wanted.pop(t, None)
        self._tracker.forget(topics)
        self._next_rid += 1
        self._request(self._next_rid, "unsubscribe", topics, False, None)
        return self._next_rid

    def want(self, topics: list[str] | tuple[str, ...], presence: Any = None) -> None:
        """Remember topics to subscribe to when the next connection is ready
        (the constructor's ``topics``)."""
        for t in topics:
            self._wanted[t] = presence

    def send(self, t: str, payload: Any = None) -> None:
        """Queue an application message ``{"c","t","p","id","ts","v"}``.

        Raises :class:`NotConnected` when not ready, TypeError when payload
        is not JSON-serializable."""
        if not self._ready:
            raise NotConnected("wse: not connected")
        self._send_text(codec.encode(t, payload, self._wall()))

    def ping(self) -> None:
        """Queue a client ping now (its PONG updates :attr:`latency`)."""
        if self._open:
            self._out.append(codec.dumps({"c": "WSE", "t": "ping", "p": {"timestamp": int(self._wall() * 1000)}, "v": 1}))
            self._next_ping = self._clock() + self.config.ping_interval

    # --- time --------------------------------------------------------------

    def tick(self) -> float:
        """Advance timers: send the client ping when due, expire requests
        without reply, fire the heartbeat watchdog. Returns the seconds until
        the next timer (call again by then)."""
        now = self._clock()
        if not self._open:
            return self.config.ping_interval
        if now - self._last_recv > self.config.heartbeat_timeout:
            self._dead = True
        if now >= self._next_ping:
            self.ping()
        timeout = self.config.request_timeout
        for req in self._pending:
            if not req.expired and now - req.sent > timeout:
                req.expired = True
                if req.rid:
                    self._replies.append((req.rid, None))
        nxt = min(self._next_ping, self._last_recv + self.config.heartbeat_timeout) - now
        return max(0.05, min(nxt, 1.0))


_CONTROL: dict[str, Callable[[ClientProtocol, dict[str, Any], Any], None]] = {
    "server_ready": ClientProtocol._on_server_ready,
    "server_hello": ClientProtocol._on_server_hello,
    "ping": ClientProtocol._on_ping,
    "PING": ClientProtocol._on_ping,
    "PONG": ClientProtocol._on_pong,
    "pong": ClientProtocol._on_pong,
    "subscription_update": ClientProtocol._on_subscription,
    "error": ClientProtocol._on_error,
    "presence_join": ClientProtocol._on_presence,
    "presence_leave": ClientProtocol._on_presence,
    "presence_update": ClientProtocol._on_presence,
    "rate_limit_warning": ClientProtocol._on_rate_limit,
    "batch": ClientProtocol._on_batch,
}

_PRESENCE: dict[str, type[PresenceJoin] | type[PresenceLeave] | type[PresenceUpdate]] = {
    "presence_join": PresenceJoin,
    "presence_leave": PresenceLeave,
    "presence_update": PresenceUpdate,
}
