"""Typed events: what ``async for event in client`` yields.

Every event has a ``type`` string, which is also the key ``on(type,
handler)`` registers under: a :class:`Message` has the ``t`` of the server's
message (``"price"``, ``"chat_message"``…), the other events have fixed
names (``"connected"``, ``"missed_data"``, ``"presence_join"``…).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any, ClassVar

__all__ = [
    "ConnectionState",
    "Position",
    "RecoveryResult",
    "SubscribeResult",
    "Event",
    "Message",
    "RawFrame",
    "Connected",
    "Disconnected",
    "Reconnecting",
    "MissedData",
    "SubscriptionFailed",
    "PresenceEvent",
    "PresenceJoin",
    "PresenceLeave",
    "PresenceUpdate",
    "ServerError",
    "RateLimitWarning",
    "EncryptionRefused",
]


class ConnectionState(str, enum.Enum):
    """Where the client is in its life."""

    #: Not connected yet (before ``connect()``).
    IDLE = "idle"
    #: Opening a connection, waiting for ``server_ready``.
    CONNECTING = "connecting"
    #: Ready: ``server_ready`` (and ``server_hello`` with encryption) arrived.
    CONNECTED = "connected"
    #: Lost the connection, waiting to try again.
    RECONNECTING = "reconnecting"
    #: Stopped for good (``close()``, a final close code, or gave up).
    CLOSED = "closed"


@dataclass(frozen=True, slots=True)
class Position:
    """A point in a topic's stream: the buffer's ``epoch`` (8 hex characters,
    ``""`` when the topic has none) and the last ``offset`` (0 = nothing)."""

    epoch: str = ""
    offset: int = 0


@dataclass(frozen=True, slots=True)
class RecoveryResult:
    """The server's answer for one topic of a subscription with recovery:
    its current position and whether what was missed was replayed."""

    epoch: str
    offset: int
    recovered: bool
    count: int = 0


@dataclass(frozen=True, slots=True)
class SubscribeResult:
    """The server's reply to ``subscribe`` or ``unsubscribe``.

    ``granted`` lists the topics subscribed (or, for ``unsubscribe``, left);
    ``failed`` maps each refused topic to its code (``FORBIDDEN``,
    ``INVALID_TOPIC``, ``LIMIT``); ``recovery`` has one entry per topic the
    server reported a position for."""

    action: str
    granted: tuple[str, ...] = ()
    failed: dict[str, str] = field(default_factory=dict)
    recovery: dict[str, RecoveryResult] = field(default_factory=dict)


class Event:
    """Base class of every event. ``type`` names it for ``on()``."""

    __slots__ = ()
    type: str


@dataclass(slots=True)
class Message(Event):
    """An application message from the server.

    ``payload`` is its ``p``; ``topic``/``epoch``/``offset`` its recovery
    stamp (``None``/``""``/``0`` when unstamped); ``raw`` the whole decoded
    object."""

    type: str
    payload: Any
    topic: str | None = None
    epoch: str = ""
    offset: int = 0
    id: str | None = None
    ts: str | None = None
    category: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)


@dataclass(slots=True)
class RawFrame(Event):
    """A frame that is not a WSE message: ``send_bytes`` data, plain text, or
    an ``E:`` frame that could not be decrypted."""

    type: ClassVar[str] = "raw"
    data: str | bytes


@dataclass(slots=True)
class Connected(Event):
    """The client is ready on a new connection. ``reconnected`` is true for
    every connection after the first."""

    type: ClassVar[str] = "connected"
    connection_id: str
    user_id: str | None
    features: dict[str, Any]
    encrypted: bool = False
    reconnected: bool = False


@dataclass(slots=True)
class Disconnected(Event):
    """The connection ended. ``reconnecting`` says whether the client will
    try again; ``error`` is the exception that ends the client when not."""

    type: ClassVar[str] = "disconnected"
    code: int | None
    reason: str
    reconnecting: bool
    error: BaseException | None = None


@dataclass(slots=True)
class Reconnecting(Event):
    """The client waits ``delay`` seconds before attempt number ``attempt``."""

    type: ClassVar[str] = "reconnecting"
    attempt: int
    delay: float


@dataclass(slots=True)
class MissedData(Event):
    """Messages of ``topic`` after ``start`` up to and including ``end`` will
    never arrive (the server could not replay them: buffer evicted, too many
    missed, or a restart with a new epoch). Reload a snapshot."""

    type: ClassVar[str] = "missed_data"
    topic: str
    start: Position
    end: Position


@dataclass(slots=True)
class SubscriptionFailed(Event):
    """The server refused ``topic`` when the client subscribed again after a
    reconnect; the client forgets it."""

    type: ClassVar[str] = "subscription_failed"
    topic: str
    code: str


@dataclass(slots=True)
class PresenceEvent(Event):
    """A presence change in ``topic`` for ``user_id`` with its ``data``."""

    type: ClassVar[str] = "presence"
    topic: str
    user_id: str
    data: Any


@dataclass(slots=True)
class PresenceJoin(PresenceEvent):
    """The user's first connection joined the topic."""

    type: ClassVar[str] = "presence_join"


@dataclass(slots=True)
class PresenceLeave(PresenceEvent):
    """The user's last connection left the topic."""

    type: ClassVar[str] = "presence_leave"


@dataclass(slots=True)
class PresenceUpdate(PresenceEvent):
    """The user's presence data changed."""

    type: ClassVar[str] = "presence_update"


@dataclass(slots=True)
class ServerError(Event):
    """An ``error`` message from the server (``code`` as in PROTOCOL §9)."""

    type: ClassVar[str] = "error"
    code: str
    message: str
    retry_after: float | None = None


@dataclass(slots=True)
class RateLimitWarning(Event):
    """The server's rate limiter for this connection is nearly empty."""

    type: ClassVar[str] = "rate_limit_warning"
    payload: dict[str, Any]


@dataclass(slots=True)
class EncryptionRefused(Event):
    """Encryption was asked for but the connection goes on in plaintext
    (server without encryption, or it refused the key). Close the client on
    this event if plaintext is not acceptable."""

    type: ClassVar[str] = "encryption_refused"
    reason: str
