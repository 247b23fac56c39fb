"""End-to-end encryption (PROTOCOL §5, docs/protocol.md).

ECDH over P-256 with the server's per-connection key, HKDF-SHA256 over the
shared secret (no salt, info ``wse-encryption/aes-gcm-key``, 32 bytes) and
AES-256-GCM. A sealed frame is ``E:`` + 12-byte random nonce + ciphertext +
16-byte tag. Needs the optional ``cryptography`` package.
"""

from __future__ import annotations

import base64
import binascii
import os

from .exceptions import EncryptionError, FeatureUnavailable

__all__ = ["PREFIX", "Offer", "Session", "is_sealed"]

#: The first bytes of a sealed frame.
PREFIX = b"E:"
_INFO = b"wse-encryption/aes-gcm-key"
_NONCE = 12
_TAG = 16

try:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    _HAVE_CRYPTOGRAPHY = True
except ImportError:  # pragma: no cover - depends on the machine
    _HAVE_CRYPTOGRAPHY = False


def available() -> bool:
    """Report whether the ``cryptography`` package is installed."""
    return _HAVE_CRYPTOGRAPHY


def is_sealed(frame: bytes) -> bool:
    """Report whether a binary frame is a sealed ``E:`` frame."""
    return frame[:2] == PREFIX


class Session:
    """An AES-256-GCM key shared with the server for one connection."""

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes) -> bytes:
        """Return the ``E:`` frame carrying plaintext, under a fresh nonce."""
        nonce = os.urandom(_NONCE)
        return PREFIX + nonce + self._aead.encrypt(nonce, plaintext, None)

    def open(self, frame: bytes) -> bytes | None:
        """Return the plaintext of an ``E:`` frame, or None when it is too
        short, not sealed or fails authentication."""
        if len(frame) < len(PREFIX) + _NONCE + _TAG or frame[:2] != PREFIX:
            return None
        try:
            return self._aead.decrypt(frame[2 : 2 + _NONCE], frame[2 + _NONCE :], None)
        except InvalidTag:
            return None


class Offer:
    """The client's half of the key exchange: a fresh P-256 key pair whose
    public key goes in ``client_hello``."""

    __slots__ = ("_private",)

    def __init__(self, private_value: int | None = None) -> None:
        """Make a new key pair (``private_value`` fixes it, for tests)."""
        if not _HAVE_CRYPTOGRAPHY:
            raise FeatureUnavailable("wse: encryption needs the cryptography package (apt-get install python3-cryptography)")
        if private_value is None:
            self._private = ec.generate_private_key(ec.SECP256R1())
        else:
            self._private = ec.derive_private_key(private_value, ec.SECP256R1())

    def public_key(self) -> str:
        """The public key as standard base64 of the 65-byte uncompressed point."""
        raw = self._private.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return base64.b64encode(raw).decode("ascii")

    def complete(self, server_key: str) -> Session:
        """Derive the session from the server's ``encryption_public_key``.

        Raises :class:`EncryptionError` when it is not base64 of a P-256
        point."""
        try:
            raw = base64.b64decode(server_key, validate=True)
            peer = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
        except (binascii.Error, ValueError, TypeError) as exc:
            raise EncryptionError(f"wse: server key is not a P-256 point: {exc}") from exc
        secret = self._private.exchange(ec.ECDH(), peer)
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(secret)
        return Session(key)
