"""The streamed, iterated and background forms of a team run.

``TeamStream`` (``team.stream``): the team's events and every member's, as
``plait.stream`` gives a run's; ``TeamIterator`` (``team.iter``): ``(member, result)``
as each member ends; ``TeamHandle`` (``team.start``): the team in the background, as
``plait.start`` runs a run. Each wraps one ``TeamExecution``.
"""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, suppress
from typing import TYPE_CHECKING, Any, Literal

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup
from anyio.from_thread import start_blocking_portal

from .._errors import RunError
from .._events import Event
from .._run._handle import EventLog, wait_finished
from .._run._hub import hub_events
from .._run._portal import PortalStream
from .._run._stream import _lone
from ._exec import CancelMode, TeamExecution
from ._result import MemberResult, TeamResult

if TYPE_CHECKING:
    from ._team import Team

__all__ = ["SyncTeamStream", "TeamHandle", "TeamIterator", "TeamStream"]

CANCEL_GRACE = 5.0
"""Seconds a team left early gets to end its members as ``cancelled`` before its task
is cancelled outright."""

Ended = tuple[str, MemberResult]
Events = tuple[AsyncIterator[Event], Callable[[], Awaitable[TeamResult]]]


class TeamStream:
    """``async with team.stream(task) as s``: iterate ``s`` for events, then
    ``await s.result()``. Leaving the block before the team ended cancels it."""

    def __init__(self, execution: TeamExecution) -> None:
        self._execution = execution
        self._cm: AbstractAsyncContextManager[Events] | None = None
        self._events: AsyncIterator[Event] | None = None
        self._result: Callable[[], Awaitable[TeamResult]] | None = None
        self._sync: SyncTeamStream | None = None
        self._ended = False

    async def _body(self) -> TeamResult:
        try:
            return await self._execution.arun()
        finally:
            self._ended = True

    async def __aenter__(self) -> TeamStream:
        self._cm = hub_events(self._execution.hub, self._body)
        self._events, self._result = await self._cm.__aenter__()
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._cm is not None and self._result is not None
        if not self._ended:  # left early: the members end cancelled, the handlers see it
            self._execution.cancel("now")
            with anyio.move_on_after(CANCEL_GRACE), suppress(Exception):
                await self._result()
        close = getattr(self._events, "aclose", None)
        if close is not None:  # hub_events' generator, maybe left half read
            await close()
        try:
            return await self._cm.__aexit__(*exc)
        except BaseExceptionGroup as group:
            inner = _lone(group)
            if inner is None:
                raise
            raise inner from inner.__cause__  # the error itself, as plait.stream raises it

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        assert self._events is not None, "use `async with team.stream(...) as s`"
        return await self._events.__anext__()

    async def result(self) -> TeamResult:
        """Wait for the team to end; raises as ``team.arun`` would."""
        assert self._result is not None, "use `async with team.stream(...) as s`"
        return await self._result()

    def cancel(self, mode: CancelMode = "now") -> None:
        """Stop the team; ``result()`` then returns it with status ``cancelled``."""
        self._execution.cancel(mode)

    def __enter__(self) -> SyncTeamStream:
        self._sync = SyncTeamStream(self)
        return self._sync

    def __exit__(self, *exc: Any) -> None:
        assert self._sync is not None
        self._sync.close(*exc)


class SyncTeamStream(PortalStream[TeamStream]):
    """``with team.stream(task) as s``: the stream on an event loop in a worker thread."""

    def result(self) -> TeamResult:
        return self._portal.call(self._stream.result)

    def cancel(self, mode: CancelMode = "now") -> None:
        self._portal.call(self._stream.cancel, mode)


class TeamIterator:
    """``(member, result)`` as each member ends; ``result`` holds the ``TeamResult``.

    ``async with team.iter(task) as ended: async for name, result in ended: ...`` (the
    members run in the background while you look at each one); leaving early cancels
    the team. ``for name, result in team.iter(task)`` does the same from sync code.
    """

    def __init__(self, team: Team, task: str | None, options: dict[str, Any]) -> None:
        self._execution = team.execution(task, options, on_member=self._ended)
        self._tg: TaskGroup | None = None
        self._error: Exception | None = None
        self.result: TeamResult | None = None

    def _ended(self, name: str, result: MemberResult) -> None:
        with suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
            self._send.send_nowait((name, result))  # the reader may have left: no matter

    async def _main(self) -> None:
        try:
            self.result = await self._execution.arun()
        except Exception as exc:  # raised at the end of the iteration
            self._error = exc
            if isinstance(exc, RunError) and isinstance(exc.result, TeamResult):
                self.result = exc.result
        finally:
            self._send.close()

    async def __aenter__(self) -> TeamIterator:
        # made here, not in __init__: an iterator never entered leaves nothing open
        self._send, self._receive = anyio.create_memory_object_stream[Ended](math.inf)
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._main)
        return self

    async def __aexit__(self, *exc: Any) -> bool | None:
        assert self._tg is not None
        if self.result is None and self._error is None:
            self._execution.cancel("now")  # left early: the members end cancelled
        self._receive.close()
        try:
            return await self._tg.__aexit__(*exc)
        except BaseExceptionGroup as group:
            inner = _lone(group)
            if inner is None:
                raise
            raise inner from inner.__cause__

    def __aiter__(self) -> AsyncIterator[tuple[str, MemberResult]]:
        return self

    async def __anext__(self) -> tuple[str, MemberResult]:
        if self._tg is None:
            raise TypeError(
                "team.iter runs members in the background: use "
                "`async with team.iter(task) as ended: async for name, result in ended`"
            )
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            if self._error is not None:
                raise self._error from None
            raise StopAsyncIteration from None

    def __iter__(self) -> Iterator[tuple[str, MemberResult]]:
        with start_blocking_portal() as portal, portal.wrap_async_context_manager(self) as it:
            while True:
                try:
                    yield portal.call(it.__anext__)
                except StopAsyncIteration:
                    return


HandleStatus = Literal["pending", "running", "success", "failed", "cancelled", "error"]


class TeamHandle:
    """A team in the background: ``events``, ``status``, ``cancel``, ``await wait()``,
    ``result(timeout)``; thread-safe like ``plait.RunHandle``."""

    def __init__(self, execution: TeamExecution) -> None:
        self._execution = execution
        self._finished = threading.Event()
        self.events = EventLog(self._finished)
        execution.hub.add_sink(self.events.append)
        self._result: TeamResult | None = None
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._started = False

    @property
    def run_id(self) -> str:
        return self._execution.hub.run_id

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    @property
    def status(self) -> HandleStatus:
        """``pending``, ``running``, then the team's status (``error`` if it raised
        something other than ``RunFailed``)."""
        if self._finished.is_set():
            if self._result is not None:
                return self._result.status
            result = getattr(self._error, "result", None)
            return result.status if isinstance(result, TeamResult) else "error"
        return "running" if self._started else "pending"

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._started = True
        try:
            self._result = await self._execution.arun()
        except Exception as exc:
            self._error = exc
        finally:
            self._finished.set()

    def launch(self) -> None:
        """On the running asyncio loop as a task, else on a loop in a daemon thread."""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            threading.Thread(
                target=lambda: anyio.run(self._main), daemon=True, name="plait-team"
            ).start()
            return
        self._task = self._loop.create_task(self._main())

    def cancel(self, mode: CancelMode = "now") -> None:
        """Stop the team (from any thread): running members end ``cancelled``."""
        loop = self._loop
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if loop is None or current is loop or self._finished.is_set():
            self._execution.cancel(mode)
        else:
            loop.call_soon_threadsafe(self._execution.cancel, mode)

    def _outcome(self) -> TeamResult:
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    async def wait(self) -> TeamResult:
        """Wait for the end; returns the result or raises as ``team.arun`` would."""
        await wait_finished(self._task, self._loop, self._finished)
        return self._outcome()

    def result(self, timeout: float | None = None) -> TeamResult:
        """Block until the end (not from the team's own event loop)."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"team still going after {timeout}s")
        return self._outcome()
