"""The original's accelerator module path, ``wse_server._wse_accel``, kept so
that code importing from it (seed section 14, Pattern B) runs unchanged."""

from . import jwt_encode, rust_jwt_encode, rust_transform_event, transform_event
from ._server import RustWSEServer, WSEServer

__all__ = ["RustWSEServer", "WSEServer", "jwt_encode", "rust_jwt_encode", "rust_transform_event", "transform_event"]
