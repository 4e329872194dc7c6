"""The sync form of an async stream: ``with plait.stream(...)``, ``with team.stream(...)``,
``with plait.stream_tasks(...)``.

``PortalStream`` enters the async stream on an event loop in a worker thread (anyio's
blocking portal) and gives its events to a plain ``for``; ``close`` leaves the stream
(cancelling what is unfinished) and stops the worker loop. Each form adds what its
async stream offers (``result``, ``cancel``, ...), called through ``self._portal``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterator
from typing import Any, Generic, Protocol, TypeVar

from anyio.from_thread import BlockingPortal, start_blocking_portal

from .._events import Event

__all__ = ["PortalStream"]


class _AsyncStream(Protocol):
    """An async context manager that yields events."""

    def __anext__(self) -> Awaitable[Event]: ...

    async def __aenter__(self) -> Any: ...

    async def __aexit__(self, *exc: Any) -> Any: ...


S = TypeVar("S", bound=_AsyncStream)


class PortalStream(Generic[S]):
    """An async stream driven by an event loop in a worker thread."""

    def __init__(self, stream: S) -> None:
        self._portal_cm = start_blocking_portal()
        self._portal: BlockingPortal = self._portal_cm.__enter__()
        try:
            self._cm = self._portal.wrap_async_context_manager(stream)
            self._stream: S = self._cm.__enter__()
        except BaseException:
            self._portal_cm.__exit__(None, None, None)
            raise

    def close(self, *exc: Any) -> None:
        """Leave the stream (cancelling what is unfinished) and stop the worker loop."""
        try:
            self._cm.__exit__(*exc)
        finally:
            self._portal_cm.__exit__(None, None, None)

    def __iter__(self) -> Iterator[Event]:
        while True:
            try:
                yield self._portal.call(self._stream.__anext__)
            except StopAsyncIteration:
                return
