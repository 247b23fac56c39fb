"""The asyncio client: :class:`AsyncWSEClient`."""

from .client import AsyncWSEClient

__all__ = ["AsyncWSEClient"]
