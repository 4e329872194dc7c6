"""``plait.stream``: a run whose events arrive as they happen.

``async with plait.stream(task) as s`` starts the run in the background; iterate ``s``
for ``Event`` objects, ``s.text()`` for text deltas, ``s.partial()`` for the structured
output validated as far as it has arrived, and ``await s.result()`` for the ``Result``.
``with plait.stream(task) as s`` is the same for scripts, on a loop in a worker thread.
Leaving the block before the run ended cancels it.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Iterator
from contextlib import suppress
from typing import Any, Generic, Literal, TypeVar, Unpack, overload

import anyio
import pydantic_core
from anyio.abc import TaskGroup
from pydantic import ValidationError

from .._events import Event
from .._parts import TaskInput
from ._api import runner
from ._loop import Runner
from ._options import RunOptions
from ._portal import PortalStream
from ._result import Result
from ._state import RunState

__all__ = ["RunStream", "SyncRunStream", "partial_output", "stream"]

T = TypeVar("T")


def partial_output(st: RunState | None, last: Any) -> Any:
    """The output as far as it has streamed in; ``last`` when nothing newer validates."""
    if st is None or st.emitter.held is not None or st.status == "blocked":
        return last  # held back for the guardrails, or blocked by one: never shown
    if st.output is not None:
        return st.output
    partial = st.partial
    if partial is None:  # nothing streamed yet
        return last
    if st.completion_mode == "off":
        return "".join(partial.text) if partial.text else last
    if partial.complete_index is None:
        return last
    raw = "".join(partial.calls.get(partial.complete_index, ()))
    try:
        args = pydantic_core.from_json(raw, allow_partial="trailing-strings")
    except ValueError:
        return last
    if not isinstance(args, dict) or "result" not in args:
        return last
    if st.plan.is_text:
        return args["result"] if isinstance(args["result"], str) else last
    try:
        return st.plan.adapter.validate_python(args["result"], experimental_allow_partial=True)
    except ValidationError:
        return last


class RunStream(Generic[T]):
    """The async form; see the module docstring."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._send, self._receive = anyio.create_memory_object_stream[Event](math.inf)
        runner.sinks.append(self._sink)
        self._tg: TaskGroup | None = None
        self._result: Result[T] | None = None
        self._error: BaseException | None = None
        self._done: anyio.Event | None = None
        self._last: Any = None
        self._sync: SyncRunStream[T]

    def _sink(self, event: Event) -> None:
        # the consumer may have gone; the run does not care
        with suppress(anyio.ClosedResourceError, anyio.BrokenResourceError):
            self._send.send_nowait(event)

    async def _main(self) -> None:
        assert self._done is not None
        try:
            self._result = await self._runner.drive()
        except Exception as exc:  # kept for result(); cancellation propagates
            self._error = exc
        finally:
            self._send.close()
            self._done.set()

    async def __aenter__(self) -> RunStream[T]:
        await self._runner.aprepare()  # may raise (bad options): before anything runs
        self._done = anyio.Event()
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        self._tg.start_soon(self._main)
        return self

    async def __aexit__(self, *exc: object) -> bool | None:
        assert self._tg is not None and self._done is not None
        if not self._done.is_set():
            self._runner.cancel("now")
        self._receive.close()
        try:
            return await self._tg.__aexit__(*exc)  # type: ignore[arg-type]
        except BaseExceptionGroup as group:
            inner = _lone(group)
            if inner is None:
                raise
            # what left the block (e.g. result()'s ProviderError), not the task group's
            # wrapping of it: the same typed error plait.arun raises
            raise inner from inner.__cause__

    def __aiter__(self) -> AsyncIterator[Event]:
        return self

    async def __anext__(self) -> Event:
        try:
            return await self._receive.receive()
        except (anyio.EndOfStream, anyio.ClosedResourceError):
            raise StopAsyncIteration from None

    async def text(self) -> AsyncIterator[str]:
        """The answer's text deltas as they arrive (consumes the events; a sub-run's
        text, which the stream also carries, is not the answer)."""
        own = self._runner.state.run_id if self._runner.state is not None else None
        async for event in self:
            if event.kind == "text.delta" and event.run_id == own:
                yield event.data["text"]

    def partial(self) -> Any:
        """The output as far as it has arrived, validated as far as it goes."""
        self._last = partial_output(self._runner.state, self._last)
        return self._last

    async def result(self) -> Result[T]:
        """Wait for the run to end; raises as ``plait.arun`` would."""
        assert self._done is not None, "use `async with plait.stream(...) as s`"
        await self._done.wait()
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    def cancel(self, mode: Literal["after_turn", "now"] = "now") -> None:
        """Stop the run; ``result()`` then returns it with status ``cancelled``."""
        self._runner.cancel(mode)

    def __enter__(self) -> SyncRunStream[T]:
        self._sync = SyncRunStream(self)
        return self._sync

    def __exit__(self, *exc: Any) -> None:
        self._sync.close(*exc)


def _lone(group: BaseExceptionGroup[BaseException]) -> BaseException | None:
    """The one exception in ``group`` (nested groups flattened, cancellations left out),
    or ``None`` when there are several or none."""
    cancelled = anyio.get_cancelled_exc_class()
    found: list[BaseException] = []
    pending: list[BaseException] = [group]
    while pending:
        exc = pending.pop()
        if isinstance(exc, BaseExceptionGroup):
            pending.extend(exc.exceptions)
        elif not isinstance(exc, cancelled):
            found.append(exc)
    return found[0] if len(found) == 1 else None


class SyncRunStream(PortalStream[RunStream[T]], Generic[T]):
    """The sync form: a ``RunStream`` driven by an event loop in a worker thread."""

    def text(self) -> Iterator[str]:
        """The answer's text deltas as they arrive (not a sub-run's)."""
        state = self._stream._runner.state
        own = state.run_id if state is not None else None
        for event in self:
            if event.kind == "text.delta" and event.run_id == own:
                yield event.data["text"]

    def partial(self) -> Any:
        return self._stream.partial()

    def result(self) -> Result[T]:
        return self._portal.call(self._stream.result)

    def cancel(self, mode: Literal["after_turn", "now"] = "now") -> None:
        self._portal.call(self._stream.cancel, mode)


@overload
def stream(
    task: TaskInput | None = ..., *, output: type[T], **options: Unpack[RunOptions]
) -> RunStream[T]: ...
@overload
def stream(task: TaskInput | None = ..., **options: Unpack[RunOptions]) -> RunStream[str]: ...
@overload
def stream(
    task: TaskInput | None = ..., *, output: Any, **options: Unpack[RunOptions]
) -> RunStream[Any]: ...
def stream(task: TaskInput | None = None, *, output: Any = str, **options: Any) -> RunStream[Any]:
    """Run ``task`` and stream its events (``async with`` or ``with``)."""
    return RunStream(runner(task, output, options))
