"""Loading of the Go library (libwse.so) and the calling conventions of its C ABI.

The library is loaded with :class:`ctypes.CDLL`, which releases the GIL for
the duration of every foreign call: a ``drain_inbound`` waiting for events,
or ``stop`` closing connections, never holds up other Python threads.

Every function of the library returns a signed 64-bit integer. A negative
value ``-T`` is an error; its kind and message are taken once with
``wse_take_error(T)`` and raised here as ``RuntimeError``, ``ValueError`` or
``TypeError``. Buffers the library returns are released with ``wse_free``.
"""

from __future__ import annotations

import ctypes
import json
import os
from typing import Any, NoReturn

_LIB_NAME = "libwse.so"

_KIND_VALUE = 2
_KIND_TYPE = 3


def _load() -> ctypes.CDLL:
    path = os.environ.get("WSE_SERVER_LIBRARY") or os.path.join(os.path.dirname(os.path.abspath(__file__)), _LIB_NAME)
    try:
        lib = ctypes.CDLL(path)
    except OSError as exc:  # pragma: no cover - only for a broken install
        raise ImportError(f"wse_server: cannot load the Go library {path}: {exc}") from exc
    i64, size, cp = ctypes.c_int64, ctypes.c_size_t, ctypes.c_char_p
    outp, outn = ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_size_t)
    protos: dict[str, tuple[Any, list[Any]]] = {
        "wse_take_error": (ctypes.c_int, [i64, outp, outn]),
        "wse_free": (None, [ctypes.c_void_p]),
        "wse_new": (i64, [cp, size]),
        "wse_release": (i64, [i64]),
        "wse_call": (i64, [i64, cp, size, cp, size, outp, outn]),
        "wse_drain": (i64, [i64, ctypes.c_int, ctypes.c_int, outp, outn]),
        "wse_broadcast": (i64, [i64, cp, size, cp, size, ctypes.c_int]),
        "wse_broadcast_all": (i64, [i64, cp, size, ctypes.c_int]),
        "wse_send": (i64, [i64, cp, size, cp, size, ctypes.c_int]),
        "wse_connection_count": (i64, [i64]),
        "wse_is_running": (i64, [i64]),
        "wse_inbound_queue_depth": (i64, [i64]),
    }
    for name, (restype, argtypes) in protos.items():
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes
    return lib


lib = _load()


def take_bytes(ptr: ctypes.c_void_p, n: ctypes.c_size_t) -> bytes:
    """Copy a buffer returned by the library and free it."""
    if not ptr.value:
        return b""
    try:
        return ctypes.string_at(ptr.value, n.value)
    finally:
        lib.wse_free(ptr.value)


def raise_error(rc: int) -> NoReturn:
    """Raise the error whose token is ``-rc``."""
    ptr, n = ctypes.c_void_p(), ctypes.c_size_t()
    kind = lib.wse_take_error(-rc, ctypes.byref(ptr), ctypes.byref(n))
    msg = take_bytes(ptr, n).decode("utf-8", "replace")
    if kind == _KIND_VALUE:
        raise ValueError(msg)
    if kind == _KIND_TYPE:
        raise TypeError(msg)
    raise RuntimeError(msg)


def check(rc: int) -> int:
    """Return ``rc``, or raise the error it stands for."""
    if rc < 0:
        raise_error(rc)
    return rc


def call(handle: int, method: str, args: dict[str, Any] | None = None) -> Any:
    """Call a method (``handle`` > 0) or module function (``handle`` 0) with
    JSON arguments, returning its decoded JSON result."""
    m = method.encode()
    a = json.dumps(args or {}, separators=(",", ":"), default=str).encode()
    ptr, n = ctypes.c_void_p(), ctypes.c_size_t()
    rc = lib.wse_call(handle, m, len(m), a, len(a), ctypes.byref(ptr), ctypes.byref(n))
    if rc < 0:
        raise_error(rc)
    return json.loads(take_bytes(ptr, n))


def runtime_stats() -> dict[str, int]:
    """Goroutines and live handles of the library (for leak checks)."""
    stats: dict[str, int] = call(0, "runtime_stats")
    return stats
