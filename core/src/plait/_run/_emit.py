"""Events of one run: numbering, delivery to sinks, and isolated event handlers.

``Emitter.emit`` is synchronous and cheap: it builds the envelope and hands it to each
sink (a stream's channel, a background handle's log, a handler's queue) without waiting.
Every event's ``data`` passes the run's redaction policy (``plait.Redactor`` by default)
and is sealed read-only before any sink sees it; with no sink nothing is paid.
Event handlers run in their own tasks (``HandlerPump``), one bounded queue each: a
handler that raises, hangs or falls behind is reported as a ``plugin.error`` event and
never slows or breaks the run.
"""

from __future__ import annotations

import functools
import inspect
import time
from collections.abc import Callable, Sequence
from contextlib import suppress
from typing import Any

import anyio
import anyio.to_thread
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from .._call import call_plugin, describe_error, maybe_await
from .._events import Event, seal
from .._redact import TextPolicy

__all__ = ["FLUSH_TIMEOUT", "HANDLER_TIMEOUT", "Emitter", "HandlerPump", "Sink"]

Sink = Callable[[Event], None]

HANDLER_TIMEOUT = 5.0
"""Seconds one handler call may take before it is reported and skipped."""
FLUSH_TIMEOUT = 2.0
"""Seconds the end of a run waits for handlers to catch up."""
QUEUE_SIZE = 1024
"""Events a handler may fall behind before events are dropped for it."""
MAX_HANDLER_ERRORS = 10
"""Errors after which a handler is switched off for the rest of the run."""


class Emitter:
    """Numbers the events of one run and passes them to every sink."""

    __slots__ = (
        "agent",
        "answer_held",
        "held",
        "holds",
        "limit",
        "parent_run_id",
        "redact",
        "run_id",
        "seq",
        "sinks",
    )

    def __init__(
        self,
        run_id: str,
        agent: str | None,
        parent_run_id: str | None,
        redact: TextPolicy | None = None,
        limit: int | None = None,
    ) -> None:
        self.run_id = run_id
        self.redact = redact
        self.limit = limit  # characters of one string in an event (``Limits.event_chars``)
        self.agent = agent
        self.parent_run_id = parent_run_id
        self.seq = 0
        self.sinks: list[Sink] = []
        self.held: list[tuple[str, dict[str, Any]]] | None = None
        self.holds = 0  # holds not yet released: events are delivered when none is left
        self.answer_held = False  # a model answer waits for the output guardrails

    def hold(self) -> None:
        """Keep events back until ``release`` (input guardrails, output guardrails).

        Holds nest: each ``hold`` needs its ``release``, and the events are delivered
        when the last one is released. With no sink there is nothing to hold.
        """
        if self.sinks:
            self.holds += 1
            if self.held is None:
                self.held = []

    def release(
        self,
        keep: Callable[[str], bool] | None = None,
        edit: Callable[[str, dict[str, Any]], dict[str, Any] | None] | None = None,
    ) -> None:
        """End one hold: drop the held events ``keep`` refuses, let ``edit`` rewrite (or
        drop, returning ``None``) the rest; after the last hold, deliver them in order."""
        held = self.held
        if held is None:
            return
        if keep is not None or edit is not None:
            kept: list[tuple[str, dict[str, Any]]] = []
            for kind, data in held:
                if keep is not None and not keep(kind):
                    continue
                new = data if edit is None else edit(kind, data)
                if new is not None:
                    kept.append((kind, new))
            held[:] = kept
        self.holds -= 1
        if self.holds > 0:
            return
        self.held = None
        for kind, data in held:
            self.emit(kind, data)

    def emit(self, kind: str, data: dict[str, Any]) -> None:
        """Send one event to every sink (no-op but for numbering when nobody listens).

        ``data`` is sealed first (``plait._events.seal``): redacted by the one policy,
        copied into read-only containers, before any sink, handler or hold keeps it.
        """
        if self.held is not None:
            self.held.append((kind, seal(data, self.redact, self.limit)))
            return
        seq = self.seq
        self.seq = seq + 1
        if not self.sinks:
            return
        data = seal(data, self.redact, self.limit)
        event = Event(kind, self.run_id, seq, time.time(), self.agent, self.parent_run_id, data)
        for sink in self.sinks:
            sink(event)

    def deliver(self, event: Event) -> None:
        """Pass an event built by another emitter (a sub-run's) to this run's sinks, as
        it is: its own run id, number and agent. A sub-run's emitter has this method
        among its sinks, so the whole tree reaches the top run's listeners."""
        for sink in self.sinks:
            sink(event)


def handler_name(handler: Any) -> str:
    name = getattr(handler, "name", None)
    if isinstance(name, str) and name:
        return name
    return getattr(handler, "__name__", None) or type(handler).__name__


class _HandlerQueue:
    """One handler, its bounded queue and its failure counters."""

    def __init__(self, handler: Any, emitter: Emitter) -> None:
        self.handler = handler
        self.name = handler_name(handler)
        self.emitter = emitter
        self.send: MemoryObjectSendStream[Event]
        self.receive: MemoryObjectReceiveStream[Event]
        self.send, self.receive = anyio.create_memory_object_stream[Event](QUEUE_SIZE)
        self.dropped = 0
        self.errors = 0
        handle = getattr(handler, "handle", None)
        self.call: Callable[[Event], Any] = handle if callable(handle) else handler
        self.threaded = not _is_async(self.call)
        self.pending = 0  # events queued or being handled
        self.idle: anyio.Event | None = None

    def sink(self, event: Event) -> None:
        if self.errors >= MAX_HANDLER_ERRORS:
            return
        if event.kind == "plugin.error" and event.data.get("plugin") == self.name:
            return  # never feed a handler the reports about itself
        try:
            self.send.send_nowait(event)
            self.pending += 1
        except anyio.WouldBlock:
            self.dropped += 1
            if self.dropped == 1:
                self._report("is too slow: events are being dropped for it")
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            pass

    def _report(self, problem: str) -> None:
        self.emitter.emit(
            "plugin.error",
            {
                "kind": "handler",
                "plugin": self.name,
                "error": f"event handler {self.name!r} {problem}",
            },
        )

    async def _deliver(self, event: Event) -> Any:
        if self.threaded:
            # a sync handler may block; run it off the event loop
            return await anyio.to_thread.run_sync(self.call, event, abandon_on_cancel=True)
        return await maybe_await(self.call(event))

    async def work(self) -> None:
        async with self.receive:
            async for event in self.receive:
                try:
                    await self._handle(event)
                finally:
                    self.pending -= 1
                    if self.pending == 0 and self.idle is not None:
                        self.idle.set()

    async def _handle(self, event: Event) -> None:
        if self.errors >= MAX_HANDLER_ERRORS:
            return
        deliver = functools.partial(self._deliver, event)
        info = await call_plugin("handler", self.name, deliver, seconds=HANDLER_TIMEOUT)
        if info.error is not None:
            self.errors += 1
            self._report(f"{describe_error(info)} on {event.kind!r}")


def _is_async(fn: Callable[..., Any]) -> bool:
    return inspect.iscoroutinefunction(fn) or inspect.iscoroutinefunction(
        getattr(fn, "__call__", None)  # noqa: B004 - objects with an async __call__
    )


class HandlerPump:
    """Runs each handler in its own task for the lifetime of a task group."""

    def __init__(self, handlers: Sequence[Any], emitter: Emitter) -> None:
        self.queues = [_HandlerQueue(h, emitter) for h in handlers]
        self.emitter = emitter
        for q in self.queues:
            emitter.sinks.append(q.sink)

    def start(self, tg: TaskGroup) -> None:
        for q in self.queues:
            tg.start_soon(q.work)

    async def aclose(self) -> None:
        """Give the handlers ``FLUSH_TIMEOUT`` seconds to catch up, then stop them.

        Handlers keep receiving while others catch up: a ``plugin.error`` raised by one
        handler's last event still reaches the others.
        """
        with anyio.move_on_after(FLUSH_TIMEOUT, shield=True):
            while busy := [q for q in self.queues if q.pending > 0]:
                q = busy[0]
                q.idle = anyio.Event()
                await q.idle.wait()
        for q in self.queues:
            with suppress(ValueError):
                self.emitter.sinks.remove(q.sink)
            q.send.close()
