"""Encoding and decoding of WSE messages (PROTOCOL §5, §6), without I/O.

Inbound frames become dicts: text JSON with or without the legacy ``WSE``,
``S``, ``U`` prefix; binary plain JSON, ``C:`` + zlib, ``M:`` + MessagePack.
Anything else is not a WSE message and decodes to None. ``E:`` frames are
opened by the protocol (it holds the key) before they get here.
"""

from __future__ import annotations

import json
import time
import uuid
import zlib
from typing import Any

__all__ = [
    "CLIENT_VERSION",
    "PROTOCOL_VERSION",
    "category",
    "decode_text",
    "decode_binary",
    "encode",
    "timestamp",
]

#: The version this client reports in ``client_hello``.
CLIENT_VERSION = "wse-python-client/1.0.0"
#: The WSE protocol version this client speaks.
PROTOCOL_VERSION = 1

try:
    import msgpack as _msgpack  # type: ignore[import]
except ImportError:  # pragma: no cover - depends on the machine
    _msgpack = None

_loads = json.JSONDecoder().decode
_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode

# Protocol message types (PROTOCOL §5, testdata/vectors/category.json) and
# the client's own protocol messages.
_WSE_TYPES = frozenset(
    {
        "server_ready",
        "server_hello",
        "subscription_update",
        "error",
        "ping",
        "PONG",
        "presence_join",
        "presence_leave",
        "presence_update",
        "rate_limit_warning",
        "client_hello",
        "batch",
        "auth",
    }
)


def msgpack_available() -> bool:
    """Report whether the ``msgpack`` package is installed."""
    return _msgpack is not None


def category(t: str) -> str:
    """The ``c`` category of a message of type t: ``S`` for snapshots and
    sync requests (this wins), ``WSE`` for protocol types, else ``U``."""
    if "_snapshot" in t or t.startswith("snapshot_") or t == "sync_request":
        return "S"
    if t in _WSE_TYPES:
        return "WSE"
    return "U"


def timestamp(now: float | None = None) -> str:
    """ISO-8601 UTC with milliseconds, the protocol's ``ts``."""
    if now is None:
        now = time.time()
    ms = int(now * 1000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}Z"


def encode(t: str, payload: Any, now: float | None = None) -> str:
    """The JSON text of a client message ``{"c","t","p","id","ts","v"}``.

    Raises TypeError when payload is not JSON-serializable."""
    return _dumps(
        {
            "c": category(t),
            "t": t,
            "p": {} if payload is None else payload,
            "id": str(uuid.uuid4()),
            "ts": timestamp(now),
            "v": PROTOCOL_VERSION,
        }
    )


def dumps(obj: Any) -> str:
    """Compact JSON text of obj."""
    return _dumps(obj)


def decode_text(text: str) -> dict[str, Any] | None:
    """The object a text frame carries, or None when it is not a JSON object
    (optionally after a legacy ``WSE``/``S``/``U`` prefix)."""
    if not text:
        return None
    first = text[0]
    if first != "{":
        if text.startswith("WSE{"):
            text = text[3:]
        elif (first == "S" or first == "U") and text[1:2] == "{":
            text = text[1:]
        else:
            return None
    try:
        obj = _loads(text)
    except ValueError:
        return None
    return obj if type(obj) is dict else None


def decode_binary(data: bytes, max_size: int) -> dict[str, Any] | None:
    """The object a binary frame carries: ``C:`` + zlib (inflated to at most
    max_size bytes), ``M:`` + MessagePack, or plain JSON. None when it is
    none of these (raw ``send_bytes`` data, or over max_size)."""
    head = data[:2]
    if head == b"C:":
        inflater = zlib.decompressobj()
        try:
            text = inflater.decompress(data[2:], max_size)
        except zlib.error:
            return None
        if inflater.unconsumed_tail:
            return None  # larger than max_size: refuse, never inflate unbounded
        try:
            return decode_text(text.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    if head == b"M:":
        if _msgpack is None:
            return None
        try:
            obj = _msgpack.unpackb(data[2:], raw=False, strict_map_key=False)
        except Exception:  # msgpack raises several types for bad input
            return None
        return obj if type(obj) is dict else None
    if data[:1] in (b"{", b"W", b"S", b"U"):
        try:
            return decode_text(data.decode("utf-8"))
        except UnicodeDecodeError:
            return None
    return None
