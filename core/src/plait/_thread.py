"""``plait.Thread``: a named conversation kept in a store, and which store URL a run uses.

``thread="support-42"`` on any entry point is the same as ``thread=Thread("support-42")``;
the object form also carries a store URL and metadata (set when the thread is created).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._kernel import Kernel
    from ._messages import Message
    from ._store._contract import StoreConnection

__all__ = ["Thread", "open_connection", "store_url"]


def store_url(explicit: str | None, thread: Thread | None, kernel: Kernel | None) -> str | None:
    """The URL a run uses: ``store=``, the thread's own, config ``store``, ``PLAIT_STORE``.

    ``None`` means the built-in default (the SQLite file under the user's data folder).
    """
    if explicit:
        return explicit
    if thread is not None and thread.store:
        return thread.store
    configured = getattr(getattr(kernel, "config", None), "store", None)  # incl. PLAIT_STORE
    return str(configured) if configured else None


def open_connection(url: str | None, kernel: Kernel) -> StoreConnection:
    """A (lazy) connection to ``url`` through the kernel's registered stores."""
    from ._store._open import open_store

    return open_store(url, kernel.stores())


@dataclass(frozen=True, slots=True)
class Thread:
    """A conversation kept in a store: ``plait.run(task, thread=Thread("support-42"))``.

    ``store`` is a store URL (default: the ``store`` option, then config / ``PLAIT_STORE``,
    then the built-in SQLite file); ``metadata`` is saved when the thread is created.
    """

    id: str
    store: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.id, str) or not self.id:
            raise ValueError("a thread needs a non-empty name (str)")

    async def amessages(self, *, kernel: Kernel | None = None) -> list[Message]:
        """The thread's messages, oldest first (empty when the thread does not exist)."""
        from ._kernel import Kernel

        k = kernel or Kernel()
        try:
            async with open_connection(store_url(None, self, k), k) as conn:
                return list((await conn.load_messages(self.id)).messages)
        finally:
            if kernel is None:
                await k.aclose()

    def messages(self) -> list[Message]:
        """``amessages`` for synchronous code (not from inside a running event loop)."""
        import anyio

        result: list[Message] = anyio.run(self.amessages)
        return result

    async def adelete(self, *, kernel: Kernel | None = None) -> bool:
        """Delete the thread with its runs and steps; ``False`` if it did not exist."""
        from ._kernel import Kernel

        k = kernel or Kernel()
        try:
            async with open_connection(store_url(None, self, k), k) as conn:
                return await conn.delete_thread(self.id)
        finally:
            if kernel is None:
                await k.aclose()
