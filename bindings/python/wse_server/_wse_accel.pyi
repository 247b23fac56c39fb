"""Type stubs of wse_server._wse_accel, the original's accelerator module path."""

from . import (
    RustWSEServer as RustWSEServer,
    WSEServer as WSEServer,
    jwt_encode as jwt_encode,
    rust_jwt_encode as rust_jwt_encode,
    rust_transform_event as rust_transform_event,
    transform_event as transform_event,
)
