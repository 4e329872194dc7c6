"""``plait.stream_tasks``: a task graph whose events arrive as they happen.

``async with plait.stream_tasks(tasks) as s`` starts the graph in the background;
iterate ``s`` for every ``Event`` (the graph's own and each task run's) and ``await
s.result()`` for the ``GraphResult``. ``with plait.stream_tasks(tasks) as s`` is the
same for scripts, on a loop in a worker thread. Leaving the block early cancels the graph.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack
from typing import TYPE_CHECKING, Any, Unpack

from .._run._hub import hub_events
from .._run._portal import PortalStream
from .._run._stream import _lone
from ._api import Setup, TasksOptions, graph_settings
from ._result import GraphResult
from ._task import Task

if TYPE_CHECKING:
    from .._events import Event

__all__ = ["SyncTasksStream", "TasksStream", "stream_tasks"]


class TasksStream:
    """``async with plait.stream_tasks(tasks) as s``: every event of the graph (its own
    and its task runs') as it happens; ``await s.result()`` gives the ``GraphResult``.
    ``with plait.stream_tasks(tasks) as s`` is the same for scripts. Leaving the block
    before the graph ended cancels it."""

    def __init__(self, tasks: Sequence[Task], settings: dict[str, Any]) -> None:
        self._setup = Setup(tasks, settings)  # raises now: before anything runs
        self._stack: AsyncExitStack | None = None
        self._events: AsyncIterator[Event] | None = None
        self._result: Any = None
        self._sync: SyncTasksStream

    async def __aenter__(self) -> TasksStream:
        setup = self._setup
        async with AsyncExitStack() as stack:
            stack.push_async_callback(setup.aclose)
            hub = setup.hub()
            graph = await setup.graph(hub)
            await stack.enter_async_context(hub.pumping())
            cm: AbstractAsyncContextManager[Any] = hub_events(hub, graph.run)
            self._events, self._result = await stack.enter_async_context(cm)
            self._stack = stack.pop_all()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._stack is not None and self._events is not None
        closing = getattr(self._events, "aclose", None)
        if closing is not None:  # an iteration left early: close the generator here,
            await closing()  # in its own task (not when it is collected)
        try:
            return await self._stack.__aexit__(*exc)
        except BaseExceptionGroup as group:
            inner = _lone(group)
            if inner is None:
                raise
            # what left the block (result()'s RunFailed), not the task group's wrapping
            raise inner from inner.__cause__

    def __aiter__(self) -> TasksStream:
        return self

    async def __anext__(self) -> Event:
        assert self._events is not None, "use `async with plait.stream_tasks(...) as s`"
        return await self._events.__anext__()

    async def result(self) -> GraphResult:
        """Wait for the graph to end; raises as ``arun_tasks`` would."""
        assert self._result is not None, "use `async with plait.stream_tasks(...) as s`"
        result: GraphResult = await self._result()
        return self._setup.finish(result)

    def __enter__(self) -> SyncTasksStream:
        self._sync = SyncTasksStream(self)
        return self._sync

    def __exit__(self, *exc: Any) -> None:
        self._sync.close(*exc)


class SyncTasksStream(PortalStream[TasksStream]):
    """The sync form of ``TasksStream``, driven by an event loop in a worker thread."""

    def result(self) -> GraphResult:
        return self._portal.call(self._stream.result)


def stream_tasks(tasks: Sequence[Task], **settings: Unpack[TasksOptions]) -> TasksStream:
    """Run a graph of tasks and stream its events (``async with`` or ``with``); the
    settings are ``run_tasks``'s."""
    return TasksStream(tasks, graph_settings(settings))
