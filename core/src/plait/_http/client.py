"""One pooled ``httpx.AsyncClient`` per event loop, per provider object.

An ``AsyncClient`` is bound to the event loop that first used it (its connections are),
so a model used from ``plait.run`` (a fresh loop each call) and from a long-lived server
loop must not share one. ``ClientPool.get`` returns the client of the running loop,
creating it on first use; ``aclose`` closes the client of the running loop and forgets
those of loops that are gone (their sockets died with them).

Defaults suit 1,000 concurrent runs against one host: enough pooled connections, and
generous pool/read timeouts because the *absolute* request deadline is enforced by the
retry layer (``plait._retry``), not per socket read.
"""

from __future__ import annotations

import asyncio
import sys
import weakref
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["DEFAULT_LIMITS", "DEFAULT_TIMEOUT", "ClientPool"]

DEFAULT_LIMITS = httpx.Limits(
    max_connections=512, max_keepalive_connections=128, keepalive_expiry=30
)
DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=300.0, write=60.0, pool=120.0)


def _loop_key() -> object:
    """An object identifying the running event loop (asyncio loop or trio run)."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        if "trio" not in sys.modules:
            raise
    import trio  # only reached when trio is running, hence already imported

    return trio.lowlevel.current_trio_token()


class ClientPool:
    """Lazily created ``httpx.AsyncClient`` objects, one per running event loop.

    ``factory_kwargs`` go to ``httpx.AsyncClient`` (``base_url``, ``headers``, ``limits``,
    ``timeout``, ``transport``, ...); ``limits`` and ``timeout`` default to the module's
    ``DEFAULT_LIMITS`` / ``DEFAULT_TIMEOUT``. The kwargs may hold credentials (headers):
    the pool's ``repr`` never shows them.
    """

    __slots__ = ("__weakref__", "_clients", "_kwargs")

    def __init__(self, factory_kwargs: Mapping[str, Any] | None = None) -> None:
        kwargs = dict(factory_kwargs or {})
        kwargs.setdefault("limits", DEFAULT_LIMITS)
        kwargs.setdefault("timeout", DEFAULT_TIMEOUT)
        self._kwargs = kwargs
        self._clients: weakref.WeakKeyDictionary[object, httpx.AsyncClient] = (
            weakref.WeakKeyDictionary()
        )

    def __repr__(self) -> str:
        base = self._kwargs.get("base_url")
        return f"ClientPool(base_url={str(base)!r}, clients={len(self._clients)})"

    def get(self) -> httpx.AsyncClient:
        """The client of the running event loop (created on first use)."""
        key = _loop_key()
        client = self._clients.get(key)
        if client is None or client.is_closed:
            client = httpx.AsyncClient(**self._kwargs)
            self._clients[key] = client
        return client

    async def aclose(self) -> None:
        """Close the running loop's client; forget the others. Idempotent."""
        try:
            key: object | None = _loop_key()
        except RuntimeError:
            key = None
        clients = dict(self._clients)
        self._clients.clear()
        for owner, client in clients.items():
            if owner is key:
                await client.aclose()
