"""The event loop that hosts one MCP server's connection, on its own daemon thread.

An MCP client context (the SDK's ``Client``) holds anyio cancel scopes and task groups,
so it must be entered and left in one task of one event loop. A plait run may instead
come from ``plait.run`` (a fresh event loop per call), ``arun`` on asyncio or trio, or
several threads. So each server's connection lives in one *host loop*: an asyncio loop
on a daemon thread, started on first use and stopped by ``stop``. Callers in any loop
reach it through anyio's ``BlockingPortal.call_async``, which cancels the hosted task
when the caller is cancelled. The thread is a daemon: an interpreter that exits without
closing the server is never held up by it (the server process then sees its stdin
close and ends).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import anyio
from anyio.abc import TaskGroup
from anyio.from_thread import BlockingPortal

__all__ = ["HostLoop"]

T = TypeVar("T")

_START_TIMEOUT = 10.0
"""Seconds a new host thread may take to start its loop (it takes milliseconds)."""


class HostLoop:
    """One daemon thread with one event loop, started lazily, restartable after ``stop``."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._lock = threading.Lock()
        self._portal: BlockingPortal | None = None
        self._group: TaskGroup | None = None
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """The host thread is running its loop."""
        return self._portal is not None

    def _start(self) -> tuple[BlockingPortal, TaskGroup]:
        with self._lock:
            if self._portal is None or self._group is None:
                ready = threading.Event()
                thread = threading.Thread(
                    target=anyio.run, args=(self._serve, ready), name=self._name, daemon=True
                )
                thread.start()
                if not ready.wait(_START_TIMEOUT) or self._portal is None:
                    raise RuntimeError(f"{self._name}: the host event loop did not start")
                self._thread = thread
            assert self._group is not None
            return self._portal, self._group

    async def _serve(self, ready: threading.Event) -> None:
        async with anyio.create_task_group() as group:
            async with BlockingPortal() as portal:
                self._portal, self._group = portal, group
                ready.set()
                await portal.sleep_until_stopped()
            group.cancel_scope.cancel()  # what close left running (bounded: never waits)

    async def call(self, fn: Callable[..., Awaitable[T]], *args: Any) -> T:
        """``await fn(*args)`` in the host loop, from any event loop; cancelling the
        caller cancels the hosted call."""
        portal = self._portal
        if portal is None:
            portal, _ = self._start()  # a thread start: about a millisecond
        return await portal.call_async(fn, *args)

    def spawn(self, fn: Callable[..., Coroutine[Any, Any, Any]], *args: Any) -> None:
        """Start ``fn(*args)`` as a task of the host loop; call it from the host loop."""
        assert self._group is not None
        self._group.start_soon(fn, *args)

    def stop(self) -> None:
        """End the host loop (its tasks are cancelled); never blocks. A later ``call``
        starts a new one."""
        with self._lock:
            portal, self._portal, self._group = self._portal, None, None
            self._thread = None
        if portal is not None:
            with contextlib.suppress(RuntimeError):  # already stopped
                portal.start_task_soon(portal.stop, True)
