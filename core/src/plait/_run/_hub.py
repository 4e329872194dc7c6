"""A group of runs seen as one: a team, a task graph.

A ``Hub`` has an id and a name like a run, its own events (``team.start``,
``task.end``, ...) and the events of every member run, all delivered to the group's
listeners: its handlers (each pumped once, in its own task, as for a run) and any
stream attached. A member run is an ordinary run (``Runner``) whose events are also
passed up (``Hub.attach``); handlers the group already pumps (the kernel's, the group's)
are not given to the member again, so nobody sees an event twice. A member of a member
(a team in a team, a tool's sub-run) relays through its parent the same way.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from .._events import Event
from ._emit import Emitter, HandlerPump, Sink

if TYPE_CHECKING:
    from .._kernel import Kernel
    from ._loop import Runner

__all__ = ["Hub", "Upstream", "hub_events"]

T = TypeVar("T")


class Upstream:
    """Where a member run's events go besides its own listeners: the group's sinks, and
    the handlers that already see them there (not given to the member again)."""

    __slots__ = ("emitter", "listeners")

    def __init__(self, emitter: Emitter, listeners: Sequence[Any]) -> None:
        self.emitter = emitter
        self.listeners = tuple(listeners)

    @property
    def watched(self) -> bool:
        """Somebody listens above (nobody: a member builds no events for it)."""
        return bool(self.emitter.sinks)

    def deliver(self, event: Event) -> None:
        self.emitter.deliver(event)


class Hub:
    """The events of one group of runs. ``async with hub.pumping():`` runs its handlers."""

    def __init__(
        self,
        kind: str,
        *,
        name: str | None = None,
        handlers: Sequence[Any] = (),
        kernel: Kernel | None = None,
        run_id: str | None = None,
        parent: Upstream | None = None,
    ) -> None:
        self.kind = kind
        self.run_id = run_id or uuid.uuid4().hex
        self.name = name
        redact = kernel.default_redactor() if kernel is not None else None
        self.emitter = Emitter(self.run_id, name, None, redact)
        own = list(kernel.event_handlers()) if kernel is not None else []
        own.extend(h for h in handlers if not any(h is o or h == o for o in own))
        above = parent.listeners if parent is not None else ()
        self.handlers = [h for h in own if not any(h is a or h == a for a in above)]
        if parent is not None:
            self.emitter.sinks.append(parent.deliver)
            self.emitter.parent_run_id = None
        self._above = above

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        """One event of the group itself (``<kind>.start``, ``task.end``, ...)."""
        self.emitter.emit(kind, data)

    @property
    def upstream(self) -> Upstream:
        """What a member needs to pass its events up to this group's listeners."""
        return Upstream(self.emitter, (*self.handlers, *self._above))

    def attach(self, runner: Runner) -> None:
        """Make ``runner`` (a member run, not started) pass its events up here."""
        runner.upstream = self.upstream

    def add_sink(self, sink: Sink) -> None:
        self.emitter.sinks.append(sink)

    @asynccontextmanager
    async def pumping(self) -> AsyncIterator[None]:
        """Run the group's handlers beside the body (flushed at the end, as for a run)."""
        if not self.handlers:
            yield
            return
        pump = HandlerPump(self.handlers, self.emitter)
        async with anyio.create_task_group() as tg:
            pump.start(tg)
            try:
                yield
            except BaseException:  # cancelled (the handlers too) or failed: no flush wait
                tg.cancel_scope.cancel()
                raise
            await pump.aclose()  # the handlers catch up, as at the end of a run
            tg.cancel_scope.cancel()


@asynccontextmanager
async def hub_events(
    hub: Hub, body: Callable[[], Awaitable[T]]
) -> AsyncIterator[tuple[AsyncIterator[Event], Callable[[], Awaitable[T]]]]:
    """Run ``body`` in the background and give its hub's events as they come, and a
    ``result()`` to await its value (or its error): the shape of ``plait.stream`` for a
    group. Leaving the block early cancels the body."""
    send, receive = anyio.create_memory_object_stream[Event](math.inf)

    def sink(event: Event) -> None:
        with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            send.send_nowait(event)

    hub.add_sink(sink)
    box: dict[str, Any] = {}
    done = anyio.Event()

    async def main() -> None:
        try:
            box["value"] = await body()
        except Exception as exc:  # kept for result(); cancellation propagates
            box["error"] = exc
        finally:
            send.close()
            done.set()

    async def result() -> T:
        await done.wait()
        if "error" in box:
            raise box["error"]
        value: T = box["value"]
        return value

    async with anyio.create_task_group() as tg:
        tg.start_soon(main)
        try:
            yield receive, result  # a stream, not a generator: nothing left to close
        finally:
            if not done.is_set():
                tg.cancel_scope.cancel()
            receive.close()
