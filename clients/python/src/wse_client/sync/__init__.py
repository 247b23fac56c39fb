"""The thread-backed client for scripts: :class:`SyncWSEClient`."""

from .client import SyncWSEClient

__all__ = ["SyncWSEClient"]
