"""Every exception the client raises, in one place.

All of them derive from :class:`WSEError`. Failures to connect derive from
:class:`ConnectionFailed`; the end of a connection the client will not retry
is a :class:`ConnectionClosed` carrying the close code.
"""

from __future__ import annotations

__all__ = [
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
]


class WSEError(Exception):
    """Base class of every error of this package."""


class InvalidURL(WSEError, ValueError):
    """The URL is not a ``ws://`` or ``wss://`` URL with a host."""


class ConnectionFailed(WSEError):
    """A connection could not be opened: network error, refused upgrade, or
    no ``server_ready`` in time. ``__cause__`` holds the underlying error."""


class UpgradeRefused(ConnectionFailed):
    """The server answered the WebSocket upgrade with an HTTP status other
    than 101 (404 wrong path, 403 origin, 503 full or draining)."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"wse: {url}: upgrade refused with HTTP {status}")
        #: The HTTP status the server answered with.
        self.status = status


class HandshakeTimeout(ConnectionFailed):
    """The socket opened but the server sent no ``server_ready`` (or no
    ``server_hello`` when encryption was asked for) in time."""


class ConnectionClosed(WSEError):
    """The connection ended and the client stops: close code 1000 or 1001,
    4403, or any code when reconnecting is off."""

    def __init__(self, code: int | None, reason: str = "") -> None:
        text = f"wse: connection closed with code {code}"
        if reason:
            text += f" ({reason})"
        super().__init__(text)
        #: The WebSocket close code (1006 when the socket dropped without one).
        self.code = code
        #: The close reason the server gave.
        self.reason = reason


class AuthenticationFailed(ConnectionClosed):
    """The server closed with 4401 and there is no ``token_refresh``
    callback, or the callback failed."""


class Forbidden(ConnectionClosed):
    """The server closed with 4403: the application refused this client."""


class GaveUp(WSEError):
    """Reconnecting stopped after ``ReconnectPolicy.max_attempts`` attempts."""


class NotConnected(WSEError):
    """The call needs an open connection and there is none right now."""


class ClientClosed(WSEError):
    """The client was closed (or stopped for good) and cannot be used."""


class RequestTimeout(WSEError, TimeoutError):
    """The server did not answer a subscription request in time."""


class EncryptionError(WSEError):
    """The key exchange failed (the server's key is not a P-256 point)."""


class FeatureUnavailable(WSEError, ImportError):
    """An optional feature was asked for without its package installed
    (``cryptography`` for encryption, ``msgpack`` for MessagePack)."""
