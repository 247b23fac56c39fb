"""wse_server: the WSE WebSocket server in-process, over the Go engine.

The original WSE's Python API (``RustWSEServer``, ``rust_jwt_encode``,
``rust_transform_event``) backed by WSE for Go, built as a shared library
and loaded with ctypes::

    from wse_server import RustWSEServer, rust_jwt_encode

    server = RustWSEServer("0.0.0.0", 5007, jwt_secret=b"replace-with-a-strong-secret-key!")
    server.enable_drain_mode()
    server.start()
    while True:
        for event_type, conn_id, data in server.drain_inbound(256, 50):
            ...
"""

from ._server import Event, RustWSEServer, WSEServer, jwt_encode, transform_event

__version__ = "0.1.0"

#: The original's name of :func:`jwt_encode`.
rust_jwt_encode = jwt_encode
#: The original's name of :func:`transform_event`.
rust_transform_event = transform_event

__all__ = [
    "Event",
    "RustWSEServer",
    "WSEServer",
    "jwt_encode",
    "rust_jwt_encode",
    "rust_transform_event",
    "transform_event",
    "__version__",
]
