"""wse_client: a Python client for WSE for Go (and the original WSE server).

::

    from wse_client import AsyncWSEClient

    async with AsyncWSEClient("ws://localhost:5007/wse", token="...") as client:
        await client.subscribe(["prices"])
        async for event in client:
            print(event)

Layout (after python-websockets): :mod:`wse_client.protocol` is the sans-I/O
core (frames in, events out), :mod:`wse_client.asyncio` the asyncio client
over ``websockets``, :mod:`wse_client.sync` the thread-backed client for
scripts; :mod:`wse_client.events` holds the event dataclasses and
:mod:`wse_client.exceptions` every exception.
"""

from .asyncio.client import AsyncWSEClient, connect
from .events import (
    Connected,
    ConnectionState,
    Disconnected,
    EncryptionRefused,
    Event,
    Message,
    MissedData,
    Position,
    PresenceEvent,
    PresenceJoin,
    PresenceLeave,
    PresenceUpdate,
    RateLimitWarning,
    RawFrame,
    Reconnecting,
    RecoveryResult,
    ServerError,
    SubscribeResult,
    SubscriptionFailed,
)
from .exceptions import (
    AuthenticationFailed,
    ClientClosed,
    ConnectionClosed,
    ConnectionFailed,
    EncryptionError,
    FeatureUnavailable,
    Forbidden,
    GaveUp,
    HandshakeTimeout,
    InvalidURL,
    NotConnected,
    RequestTimeout,
    UpgradeRefused,
    WSEError,
)
from .protocol import ClientProtocol, ProtocolConfig, ReconnectPolicy
from .sync.client import SyncWSEClient

__version__ = "1.0.0"

__all__ = [
    "AsyncWSEClient",
    "SyncWSEClient",
    "connect",
    "ClientProtocol",
    "ProtocolConfig",
    "ReconnectPolicy",
    "ConnectionState",
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
    "Position",
    "RecoveryResult",
    "SubscribeResult",
    "WSEError",
    "InvalidURL",
    "ConnectionFailed",
    "UpgradeRefused",
    "HandshakeTimeout",
    "ConnectionClosed",
    "AuthenticationFailed",
    "Forbidden",
    "GaveUp",
    "NotConnected",
    "ClientClosed",
    "RequestTimeout",
    "EncryptionError",
    "FeatureUnavailable",
    "__version__",
]
