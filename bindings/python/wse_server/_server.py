"""The ``WSEServer`` class: the original WSE server API over the Go engine."""

from __future__ import annotations

import base64
import ctypes
import json
import logging
import struct
import threading
import warnings
import weakref
from collections.abc import Callable, Iterable
from typing import Any, Union

from . import _native
from ._native import call, check, lib, raise_error, take_bytes

__all__ = ["WSEServer", "RustWSEServer", "Event", "jwt_encode", "transform_event"]

log = logging.getLogger("wse_server")

#: One drained event: (event_type, conn_id or None, data).
Event = tuple[str, Union[str, None], Any]

_HEADER = struct.Struct("<III")  # JSON length, events, "bin" events

_drain = lib.wse_drain
_broadcast = lib.wse_broadcast
_broadcast_all = lib.wse_broadcast_all
_send = lib.wse_send
_connection_count = lib.wse_connection_count
_is_running = lib.wse_is_running
_queue_depth = lib.wse_inbound_queue_depth

_Secret = Union[bytes, str, None]


def _b64(value: _Secret, keyword: str) -> str | None:
    """A secret or key as base64 for the library (str is UTF-8 encoded)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode()
    if not isinstance(value, (bytes, bytearray)):
        raise TypeError(f"{keyword}: expected bytes or str, got {type(value).__name__}")
    if not value:
        return None
    return base64.b64encode(bytes(value)).decode("ascii")


def _int(value: Any, keyword: str) -> int:
    """``value`` if it is an int (not a bool), else TypeError naming the keyword."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{keyword}: expected int, got {type(value).__name__}")
    return value


def _number(value: Any, keyword: str) -> float:
    """``value`` as float if it is a number (not a bool), else TypeError."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{keyword}: expected a number, got {type(value).__name__}")
    return float(value)


def _str(value: Any, keyword: str) -> str:
    """``value`` if it is a str, "" for None, else TypeError."""
    if value is None:
        return ""
    if not isinstance(value, str):
        raise TypeError(f"{keyword}: expected str or None, got {type(value).__name__}")
    return value


def _text(value: str | bytes) -> bytes:
    """A message as bytes (str is UTF-8 encoded)."""
    return value.encode() if isinstance(value, str) else bytes(value)


def _topics(topics: Iterable[str] | str) -> list[str]:
    """A topic list; a lone str is one topic, not its characters."""
    if isinstance(topics, str):
        return [topics]
    return list(topics)


class WSEServer:
    """A WSE WebSocket server running in this process.

    The engine runs on Go threads: connections, JWT checks, pings, fan-out
    and recovery never take the GIL. Python receives connection events in
    batches with :meth:`drain_inbound` (drain mode) or through callbacks
    run on a thread this package owns (:meth:`set_callbacks`).

    Arguments and defaults are those of the original ``RustWSEServer``.
    Durations are in seconds. ``port=0`` picks a free port (see
    :attr:`port`). A bad value raises ``ValueError`` naming the keyword.
    """

    def __init__(
        self,
        host: str,
        port: int,
        max_connections: int = 1000,
        jwt_secret: _Secret = None,
        jwt_issuer: str | None = None,
        jwt_audience: str | None = None,
        jwt_cookie_name: str | None = None,
        jwt_previous_secret: _Secret = None,
        jwt_key_id: str | None = None,
        jwt_algorithm: str | None = None,
        jwt_private_key: _Secret = None,
        max_inbound_queue_size: int = 131072,
        recovery_enabled: bool = False,
        recovery_buffer_size: int = 128,
        recovery_ttl: float = 300,
        recovery_max_messages: int = 500,
        recovery_memory_budget: int = 268435456,
        presence_enabled: bool = False,
        presence_max_data_size: int = 4096,
        presence_max_members: int = 0,
        rate_limit_capacity: float = 100000.0,
        rate_limit_refill: float = 10000.0,
        max_message_size: int = 1048576,
        ping_interval: float = 25,
        idle_timeout: float = 60,
        max_outbound_queue_bytes: int = 16777216,
        max_subscriptions_per_connection: int = 0,
    ) -> None:
        if not isinstance(host, str):
            raise TypeError(f"host: expected str, got {type(host).__name__}")
        if _int(max_outbound_queue_bytes, "max_outbound_queue_bytes") == 0:
            warnings.warn(
                "max_outbound_queue_bytes=0 does not disable the outbound bound here: "
                "every connection keeps the 16 MiB default",
                stacklevel=2,
            )
        options = {
            "host": host,
            "port": _int(port, "port"),
            "max_connections": _int(max_connections, "max_connections"),
            "jwt_secret": _b64(jwt_secret, "jwt_secret"),
            "jwt_issuer": _str(jwt_issuer, "jwt_issuer"),
            "jwt_audience": _str(jwt_audience, "jwt_audience"),
            "jwt_cookie_name": _str(jwt_cookie_name, "jwt_cookie_name"),
            "jwt_previous_secret": _b64(jwt_previous_secret, "jwt_previous_secret"),
            "jwt_key_id": _str(jwt_key_id, "jwt_key_id"),
            "jwt_algorithm": _str(jwt_algorithm, "jwt_algorithm"),
            "jwt_private_key": _b64(jwt_private_key, "jwt_private_key"),
            "max_inbound_queue_size": _int(max_inbound_queue_size, "max_inbound_queue_size"),
            "recovery_enabled": bool(recovery_enabled),
            "recovery_buffer_size": _int(recovery_buffer_size, "recovery_buffer_size"),
            "recovery_ttl": _number(recovery_ttl, "recovery_ttl"),
            "recovery_max_messages": _int(recovery_max_messages, "recovery_max_messages"),
            "recovery_memory_budget": _int(recovery_memory_budget, "recovery_memory_budget"),
            "presence_enabled": bool(presence_enabled),
            "presence_max_data_size": _int(presence_max_data_size, "presence_max_data_size"),
            "presence_max_members": _int(presence_max_members, "presence_max_members"),
            "rate_limit_capacity": _number(rate_limit_capacity, "rate_limit_capacity"),
            "rate_limit_refill": _number(rate_limit_refill, "rate_limit_refill"),
            "max_message_size": _int(max_message_size, "max_message_size"),
            "ping_interval": _number(ping_interval, "ping_interval"),
            "idle_timeout": _number(idle_timeout, "idle_timeout"),
            "max_outbound_queue_bytes": max_outbound_queue_bytes,
            "max_subscriptions_per_connection": _int(max_subscriptions_per_connection, "max_subscriptions_per_connection"),
        }
        raw = json.dumps(options).encode()
        self._h: int = check(lib.wse_new(raw, len(raw)))
        self._finalizer = weakref.finalize(self, lib.wse_release, self._h)
        self.host = host
        self._port = port
        self._lock = threading.Lock()
        self._callbacks: tuple[Callable[..., Any] | None, Callable[..., Any] | None, Callable[..., Any] | None] | None = None
        self._dispatcher: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    @property
    def port(self) -> int:
        """The port the server listens on (the bound one once started)."""
        addr: str = call(self._h, "address")
        if addr:
            return int(addr.rsplit(":", 1)[1])
        return self._port

    def start(self) -> None:
        """Bind host:port and start serving. RuntimeError if already running
        or already stopped (create a new server to serve again)."""
        with self._lock:
            call(self._h, "start")
            if self._callbacks is not None:
                self._start_dispatcher()

    def stop(self) -> None:
        """Close every connection (1001 "server shutting down"), stop the
        engine and the callback thread. Idempotent."""
        call(self._h, "stop")
        t = self._dispatcher
        if t is not None and t is not threading.current_thread():
            t.join()

    def drain(self, close_code: int = 4300, close_reason: str = "", timeout: float = 30) -> int:
        """Lame-duck shutdown: refuse new connections, close every client
        with ``close_code`` so that it reconnects elsewhere, and wait up to
        ``timeout`` seconds for them to go. Returns the connections still
        open; :meth:`stop` is still needed afterwards."""
        left: int = call(
            self._h,
            "drain",
            {"close_code": _int(close_code, "close_code"), "close_reason": _str(close_reason, "close_reason"),
             "timeout": _number(timeout, "timeout")},
        )
        return left

    def is_running(self) -> bool:
        """Whether the server has started and not stopped."""
        return check(_is_running(self._h)) == 1

    # -- inbound -----------------------------------------------------------

    def enable_drain_mode(self) -> None:
        """Select drain mode: events are read with :meth:`drain_inbound`."""
        if self._callbacks is not None:
            raise RuntimeError("callbacks are set: events go to them, not to drain_inbound")

    def drain_inbound(self, max_count: int = 256, timeout_ms: int = 50) -> list[Event]:
        """Wait up to ``timeout_ms`` for the first event, then return it with
        up to ``max_count - 1`` more that are already queued, as
        ``(event_type, conn_id, data)`` tuples. The GIL is released while
        waiting, and the batch crosses from Go in one buffer."""
        if self._dispatcher is not None and threading.current_thread() is not self._dispatcher:
            raise RuntimeError("callbacks are set: events go to them, not to drain_inbound")
        return self._drain(max_count, timeout_ms)

    def _drain(self, max_count: int, timeout_ms: int) -> list[Event]:
        """One wse_drain call: the batch buffer decoded into event tuples."""
        ptr, n = ctypes.c_void_p(), ctypes.c_size_t()
        rc = _drain(self._h, max_count, max(0, timeout_ms), ctypes.byref(ptr), ctypes.byref(n))
        if rc <= 0:
            if rc < 0:
                raise_error(rc)
            return []
        buf = take_bytes(ptr, n)
        size, _, nbin = _HEADER.unpack_from(buf)
        start = _HEADER.size
        it = iter(json.loads(buf[start:start + size]))
        events: list[Event] = list(zip(it, it, it))
        if nbin:
            base = start + size
            for i, ev in enumerate(events):
                if ev[0] == "bin":
                    off, length = ev[2]
                    events[i] = ("bin", ev[1], buf[base + off:base + off + length])
        return events

    def set_callbacks(
        self,
        on_connect: Callable[[str, str], Any] | None,
        on_message: Callable[[str, Any], Any] | None,
        on_disconnect: Callable[[str], Any] | None,
    ) -> None:
        """Deliver events to callbacks instead of :meth:`drain_inbound`:
        ``on_connect(conn_id, user_id)`` (the Cookie header when no JWT is
        configured), ``on_message(conn_id, dict | str | bytes)`` and
        ``on_disconnect(conn_id)``. They run on one thread owned by this
        package, in order per connection; an exception is logged to the
        ``wse_server`` logger and the next event is delivered."""
        with self._lock:
            self._callbacks = (on_connect, on_message, on_disconnect)
            if self.is_running():
                self._start_dispatcher()

    def _start_dispatcher(self) -> None:
        """Start the callback thread once (the lock is held)."""
        if self._dispatcher is not None:
            return
        self._dispatcher = threading.Thread(target=self._dispatch, name="wse_server-callbacks", daemon=True)
        self._dispatcher.start()

    def _dispatch(self) -> None:
        """The callback thread: drain and call, until the engine has stopped
        and every queued event was delivered."""
        while True:
            # Only once the engine has stopped (every disconnect queued) and
            # the queue is empty is there nothing left to deliver.
            stopping = not self.is_running()
            events = self._drain(256, 0 if stopping else 50)
            if not events and stopping:
                return
            callbacks = self._callbacks
            if callbacks is None:
                continue
            on_connect, on_message, on_disconnect = callbacks
            for kind, conn_id, data in events:
                try:
                    if kind in ("auth_connect", "connect"):
                        if on_connect is not None:
                            on_connect(conn_id, data)
                    elif kind in ("msg", "raw", "bin"):
                        if on_message is not None:
                            on_message(conn_id, data)
                    elif kind == "disconnect":
                        if on_disconnect is not None:
                            on_disconnect(conn_id)
                except Exception:
                    log.exception("wse_server: %s callback failed for %s", kind, conn_id)

    def inbound_queue_depth(self) -> int:
        """Events waiting to be drained."""
        return check(_queue_depth(self._h))

    def inbound_dropped_count(self) -> int:
        """Events dropped because the inbound queue was full."""
        n: int = call(self._h, "inbound_dropped_count")
        return n

    # -- send --------------------------------------------------------------

    def send(self, conn_id: str, text: str) -> None:
        """Send text to one connection as is (a text frame)."""
        c, b = conn_id.encode(), _text(text)
        rc = _send(self._h, c, len(c), b, len(b), 0)
        if rc < 0:
            raise_error(rc)

    def send_bytes(self, conn_id: str, data: bytes) -> None:
        """Send bytes to one connection as is (a binary frame)."""
        c, b = conn_id.encode(), bytes(data)
        rc = _send(self._h, c, len(c), b, len(b), 1)
        if rc < 0:
            raise_error(rc)

    def send_event(self, conn_id: str, event: dict[str, Any], compression_threshold: int = 1024) -> int:
        """Wrap ``event`` in the WSE envelope (c, id, ts, seq, v) and send it;
        JSON longer than ``compression_threshold`` bytes goes compressed
        (``C:``), 0 never. Returns the bytes sent, 0 for an unknown
        connection."""
        if not isinstance(event, dict):
            raise TypeError(f"event: expected dict, got {type(event).__name__}")
        n: int = call(self._h, "send_event", {"conn_id": conn_id, "event": event,
                                              "compression_threshold": _int(compression_threshold, "compression_threshold")})
        return n

    # -- broadcast ---------------------------------------------------------

    def broadcast_all(self, text: str) -> None:
        """Send text to every connection (category injected)."""
        b = _text(text)
        check(_broadcast_all(self._h, b, len(b), 0))

    def broadcast_all_bytes(self, data: bytes) -> None:
        """Send bytes to every connection as a binary frame."""
        b = bytes(data)
        check(_broadcast_all(self._h, b, len(b), 1))

    def broadcast_local(self, topic: str, text: str) -> None:
        """Publish text to the topic's subscribers on this node."""
        t, b = topic.encode(), _text(text)
        rc = _broadcast(self._h, t, len(t), b, len(b), 1)
        if rc < 0:
            raise_error(rc)

    def broadcast(self, topic: str, text: str) -> None:
        """Publish text to the topic's subscribers on this node and on
        cluster peers."""
        t, b = topic.encode(), _text(text)
        rc = _broadcast(self._h, t, len(t), b, len(b), 0)
        if rc < 0:
            raise_error(rc)

    # -- connections -------------------------------------------------------

    def get_connections(self) -> list[str]:
        """Ids of the open connections."""
        ids: list[str] = call(self._h, "get_connections")
        return ids

    def get_connection_count(self) -> int:
        """Number of open connections (an atomic read)."""
        return check(_connection_count(self._h))

    def disconnect(self, conn_id: str) -> None:
        """Close a connection; its client reconnects (close code 4300).
        An unknown id is ignored."""
        call(self._h, "disconnect", {"conn_id": conn_id})

    # -- topics ------------------------------------------------------------

    def subscribe_connection(self, conn_id: str, topics: Iterable[str], presence_data: dict[str, Any] | None = None,
                             queue_group: str | None = None) -> None:
        """Subscribe a connection to topics; with ``presence_data`` (and
        presence enabled) track its user in each topic with that data. With
        ``queue_group`` the connection joins that queue group of each topic
        instead: each publication then goes to one member of the group,
        across the cluster (no presence, no recovery)."""
        if queue_group is not None:
            if not queue_group:
                raise ValueError("queue_group: must be a non-empty string")
            call(self._h, "subscribe_connection", {"conn_id": conn_id, "topics": _topics(topics), "queue_group": queue_group})
            return
        call(self._h, "subscribe_connection", {"conn_id": conn_id, "topics": _topics(topics), "data": presence_data})

    def get_queue_group_info(self, topic: str) -> dict[str, int]:
        """Queue groups of a topic with their number of members on this node."""
        info: dict[str, int] = call(self._h, "get_queue_group_info", {"topic": topic})
        return info

    def unsubscribe_connection(self, conn_id: str, topics: Iterable[str] | None = None) -> None:
        """Unsubscribe a connection from topics, or from all when None."""
        call(self._h, "unsubscribe_connection", {"conn_id": conn_id, "topics": None if topics is None else _topics(topics)})

    def subscribe_with_recovery(
        self,
        conn_id: str,
        topics: Iterable[str],
        recover: bool = False,
        epoch: str | int | None = None,
        offset: int | None = None,
    ) -> dict[str, Any]:
        """Subscribe and, with ``recover`` and the client's last ``epoch`` and
        ``offset``, replay what it missed. Returns ``{"recovered": bool,
        "topics": {topic: {"epoch", "offset", "recovered", "count"}}}``."""
        if isinstance(epoch, int) and not isinstance(epoch, bool):
            epoch = f"{epoch:08x}"
        res: dict[str, Any] = call(self._h, "subscribe_with_recovery", {
            "conn_id": conn_id, "topics": _topics(topics), "recover": bool(recover),
            "epoch": epoch, "offset": None if offset is None else _int(offset, "offset"),
        })
        return res

    def get_topic_subscriber_count(self, topic: str) -> int:
        """Local subscribers of a topic."""
        n: int = call(self._h, "get_topic_subscriber_count", {"topic": topic})
        return n

    def set_topic_acl(self, conn_id: str, allow: list[str] | None = None, deny: list[str] | None = None) -> None:
        """Set a connection's topic rules (globs): deny wins, then allow."""
        call(self._h, "set_topic_acl", {"conn_id": conn_id, "allow": allow, "deny": deny})

    # -- presence ----------------------------------------------------------

    def presence(self, topic: str) -> dict[str, dict[str, Any]]:
        """Users present in a topic: ``{user_id: {"data", "connections"}}``."""
        members: dict[str, dict[str, Any]] = call(self._h, "presence", {"topic": topic})
        return members

    def presence_stats(self, topic: str) -> dict[str, int]:
        """``{"num_users", "num_connections"}`` of a topic."""
        stats: dict[str, int] = call(self._h, "presence_stats", {"topic": topic})
        return stats

    def update_presence(self, conn_id: str, data: dict[str, Any]) -> None:
        """Replace the presence data of a connection's user everywhere it is
        present. RuntimeError if the data is too large or the connection has
        no presence."""
        call(self._h, "update_presence", {"conn_id": conn_id, "data": data})

    # -- cluster -----------------------------------------------------------

    def connect_cluster(
        self,
        peers: list[str],
        tls_cert: str | None = None,
        tls_key: str | None = None,
        tls_ca: str | None = None,
        cluster_port: int | None = None,
        seeds: list[str] | None = None,
        cluster_addr: str | None = None,
    ) -> None:
        """Join a mesh of WSE nodes (mutual TLS with all three TLS files, or
        WSE_CLUSTER_TLS_CERT/KEY/CA). RuntimeError if already connected."""
        call(self._h, "connect_cluster", {
            "peers": list(peers), "tls_cert": tls_cert or "", "tls_key": tls_key or "", "tls_ca": tls_ca or "",
            "cluster_port": cluster_port or 0, "seeds": list(seeds or []), "cluster_addr": cluster_addr or "",
        })

    def reload_cluster_tls(self, cert: str, key: str, ca: str) -> None:
        """Read the cluster's TLS certificate, key and CA bundle again (paths
        to PEM files): links that are up stay up, new links use the new
        files. RuntimeError when the server has no cluster TLS or a file
        does not load (the old material stays in use)."""
        call(self._h, "reload_cluster_tls", {"tls_cert": cert, "tls_key": key, "tls_ca": ca})

    def cluster_connected(self) -> bool:
        """True when connected to at least one peer."""
        ok: bool = call(self._h, "cluster_connected")
        return ok

    def cluster_peers_count(self) -> int:
        """Connected peers."""
        n: int = call(self._h, "cluster_peers_count")
        return n

    def cluster_info(self) -> list[dict[str, Any]]:
        """``[{address, instance_id, capabilities, connected_at (epoch ms)}]``."""
        peers: list[dict[str, Any]] = call(self._h, "cluster_info")
        return peers

    def get_cluster_dlq_entries(self) -> list[dict[str, Any]]:
        """Take the cluster messages that could not be sent:
        ``[{topic, payload, peer_addr, error}]``."""
        entries: list[dict[str, Any]] = call(self._h, "get_cluster_dlq_entries")
        return entries

    # -- monitoring --------------------------------------------------------

    def health_snapshot(self) -> dict[str, Any]:
        """The health snapshot (the keys of the original's, seed section 10)."""
        snap: dict[str, Any] = call(self._h, "health_snapshot")
        return snap

    def prometheus_metrics(self) -> str:
        """The engine's metrics in the Prometheus text format."""
        text: str = call(self._h, "prometheus_metrics")
        return text


#: The original's name.
RustWSEServer = WSEServer


def jwt_encode(claims: dict[str, Any], secret: bytes | str, algorithm: str = "HS256", key_id: str | None = None) -> str:
    """Sign ``claims`` as a JWT (HS256 by default; ``secret`` is the PEM
    private key for RS256/ES256/EdDSA), with ``key_id`` as the header's
    ``kid`` when given, the way the server verifies it."""
    if not isinstance(claims, dict):
        raise TypeError(f"claims: expected dict, got {type(claims).__name__}")
    token: str = call(0, "jwt_encode", {"claims": claims, "secret": _b64(secret, "secret") or "",
                                        "algorithm": algorithm, "key_id": key_id or ""})
    return token


def transform_event(event: dict[str, Any], seq: int, type_map: dict[str, str]) -> dict[str, Any] | None:
    """Turn a domain event into the WSE wire envelope ``{c, t, id, ts, seq,
    p, v}`` with its type mapped through ``type_map`` (seed section 14,
    Pattern B). An event whose ``event_type``/``type`` is not in the map is
    filtered out: None."""
    if not isinstance(event, dict):
        raise TypeError(f"event: expected dict, got {type(event).__name__}")
    out: dict[str, Any] | None = call(0, "transform_event", {"event": event, "seq": _int(seq, "seq"), "type_map": type_map})
    return out


def _runtime_stats() -> dict[str, int]:
    """Goroutines and live handles of the library (for leak tests)."""
    return _native.runtime_stats()
