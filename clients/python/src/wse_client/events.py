"""Typed events: what ``async for event in client`` yields.

Every event has a ``type`` string, which is also the key ``on(type,
handler)`` registers under: a :class:`Message` has the ``t`` of the server's
message (``"price"``, ``"chat_message"``…), the other events have fixed
names (``"connected"``, ``"missed_data"``, ``"presence_join"``…).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

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
    #: The event's name: the message type for a Message, else fixed per class.
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

    data: str | bytes
    type: str = field(default="raw", init=False, repr=False)


@dataclass(slots=True)
class Connected(Event):
    """The client is ready on a new connection. ``reconnected`` is true for
    every connection after the first."""

    connection_id: str
    user_id: str | None
    features: dict[str, Any]
    encrypted: bool = False
    reconnected: bool = False
    type: str = field(default="connected", init=False, repr=False)


@dataclass(slots=True)
class Disconnected(Event):
    """The connection ended. ``reconnecting`` says whether the client will
    try again; ``error`` is the exception that ends the client when not."""

    code: int | None
    reason: str
    reconnecting: bool
    error: BaseException | None = None
    type: str = field(default="disconnected", init=False, repr=False)


@dataclass(slots=True)
class Reconnecting(Event):
    """The client waits ``delay`` seconds before attempt number ``attempt``."""

    attempt: int
    delay: float
    type: str = field(default="reconnecting", init=False, repr=False)


@dataclass(slots=True)
class MissedData(Event):
    """Messages of ``topic`` after ``start`` up to and including ``end`` will
    never arrive (the server could not replay them: buffer evicted, too many
    missed, or a restart with a new epoch). Reload a snapshot."""

    topic: str
    start: Position
    end: Position
    type: str = field(default="missed_data", init=False, repr=False)


@dataclass(slots=True)
class SubscriptionFailed(Event):
    """The server refused ``topic`` when the client subscribed again after a
    reconnect; the client forgets it."""

    topic: str
    code: str
    type: str = field(default="subscription_failed", init=False, repr=False)


@dataclass(slots=True)
class PresenceEvent(Event):
    """A presence change in ``topic`` for ``user_id`` with its ``data``."""

    topic: str
    user_id: str
    data: Any
    type: str = field(default="presence", init=False, repr=False)


@dataclass(slots=True)
class PresenceJoin(PresenceEvent):
    """The user's first connection joined the topic."""
    type: str = field(default="presence_join", init=False, repr=False)


@dataclass(slots=True)
class PresenceLeave(PresenceEvent):
    """The user's last connection left the topic."""
    type: str = field(default="presence_leave", init=False, repr=False)


@dataclass(slots=True)
class PresenceUpdate(PresenceEvent):
    """The user's presence data changed."""
    type: str = field(default="presence_update", init=False, repr=False)


@dataclass(slots=True)
class ServerError(Event):
    """An ``error`` message from the server (``code`` as in PROTOCOL §9)."""

    code: str
    message: str
    retry_after: float | None = None
    type: str = field(default="error", init=False, repr=False)


@dataclass(slots=True)
class RateLimitWarning(Event):
    """The server's rate limiter for this connection is nearly empty."""

    payload: dict[str, Any]
    type: str = field(default="rate_limit_warning", init=False, repr=False)


@dataclass(slots=True)
class EncryptionRefused(Event):
    """Encryption was asked for but the connection goes on in plaintext
    (server without encryption, or it refused the key). Close the client on
    this event if plaintext is not acceptable."""

    reason: str
    type: str = field(default="encryption_refused", init=False, repr=False)
