"""``plait.start``: a run in the background, watched and steered through a ``RunHandle``.

Inside a running asyncio loop the run is a task on that loop (so ``deps`` bound to the
loop keep working); otherwise it runs on its own loop in a daemon thread. The handle is
thread-safe: ``cancel`` may be called from any thread.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any, Generic, Literal, TypeVar, Unpack, overload

import anyio
import anyio.to_thread

from .._events import Event
from .._parts import TaskInput
from ._api import runner
from ._loop import Runner
from ._options import RunOptions
from ._result import Result

__all__ = ["EventLog", "RunHandle", "start", "wait_finished"]

T = TypeVar("T")

HandleStatus = Literal[
    "pending",
    "running",
    "success",
    "failed",
    "skipped",
    "incomplete",
    "cancelled",
    "blocked",
    "paused",
    "error",
]


class EventLog(Sequence[Event]):
    """The events of a background run so far; ``async for`` follows it live to the end."""

    def __init__(self, done: threading.Event) -> None:
        self._events: list[Event] = []
        self._done = done

    def append(self, event: Event) -> None:
        self._events.append(event)  # list.append is atomic: safe across threads

    def __len__(self) -> int:
        return len(self._events)

    @overload
    def __getitem__(self, index: int) -> Event: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Event]: ...
    def __getitem__(self, index: int | slice) -> Event | Sequence[Event]:
        return self._events[index]

    def __iter__(self) -> Iterator[Event]:
        return iter(list(self._events))

    async def __aiter__(self) -> AsyncIterator[Event]:
        seen = 0
        while True:
            while seen < len(self._events):
                seen += 1
                yield self._events[seen - 1]
            if self._done.is_set() and seen >= len(self._events):
                return
            await anyio.sleep(0.005)  # the run may live on another thread: poll gently


class RunHandle(Generic[T]):
    """A background run: ``events``, ``status``, ``cancel(mode)``, ``await wait()``."""

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._finished = threading.Event()
        self.events = EventLog(self._finished)
        runner.sinks.append(self.events.append)
        self._result: Result[T] | None = None
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._thread: threading.Thread | None = None
        self._started = False

    @property
    def run_id(self) -> str | None:
        st = self._runner.state
        return st.run_id if st is not None else None

    @property
    def status(self) -> HandleStatus:
        """``pending``, ``running``, then the result's status (``error`` if it raised)."""
        if self._finished.is_set():
            if self._result is not None:
                return self._result.status
            err = self._error
            result = getattr(err, "result", None)
            return result.status if isinstance(result, Result) else "error"
        return "running" if self._started else "pending"

    @property
    def done(self) -> bool:
        return self._finished.is_set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._started = True
        try:
            self._result = await self._runner.drive()
        except Exception as exc:
            self._error = exc
        finally:
            self._finished.set()

    def _launch(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            self._loop = loop
            self._task = loop.create_task(self._main())
            return
        self._thread = threading.Thread(
            target=lambda: anyio.run(self._main), daemon=True, name="plait-start"
        )
        self._thread.start()

    def cancel(self, mode: Literal["after_turn", "now"] = "now") -> None:
        """Stop the run at once (``now``) or after the current turn (``after_turn``)."""
        loop = self._loop
        if loop is None or self._finished.is_set():
            self._runner.cancel(mode)
            return
        try:
            current = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            self._runner.cancel(mode)
        else:
            loop.call_soon_threadsafe(self._runner.cancel, mode)

    def _outcome(self) -> Result[T]:
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result

    async def wait(self) -> Result[T]:
        """Wait for the end; returns the result or raises as ``plait.arun`` would."""
        await wait_finished(self._task, self._loop, self._finished)
        return self._outcome()

    def result(self, timeout: float | None = None) -> Result[T]:
        """Block until the end (not from the run's own event loop)."""
        if not self._finished.wait(timeout):
            raise TimeoutError(f"run still going after {timeout}s")
        return self._outcome()


@overload
def start(
    task: TaskInput | None = ..., *, output: type[T], **options: Unpack[RunOptions]
) -> RunHandle[T]: ...
@overload
def start(task: TaskInput | None = ..., **options: Unpack[RunOptions]) -> RunHandle[str]: ...
@overload
def start(
    task: TaskInput | None = ..., *, output: Any, **options: Unpack[RunOptions]
) -> RunHandle[Any]: ...
def start(task: TaskInput | None = None, *, output: Any = str, **options: Any) -> RunHandle[Any]:
    """Start ``task`` in the background and return its ``RunHandle`` at once."""
    handle: RunHandle[Any] = RunHandle(runner(task, output, options))
    handle._launch()
    return handle


async def wait_finished(
    task: asyncio.Task[Any] | None,
    loop: asyncio.AbstractEventLoop | None,
    finished: threading.Event,
) -> None:
    """Wait for a job running in the background (a run, a team, a repetition): its task
    when it runs on this asyncio loop, else its ``finished`` event, from a worker thread
    (another loop, a daemon thread's loop, or trio)."""
    try:
        same_loop = asyncio.get_running_loop() is loop
    except RuntimeError:  # trio
        same_loop = False
    if task is not None and same_loop:
        await asyncio.shield(task)
    elif not finished.is_set():
        await anyio.to_thread.run_sync(finished.wait, abandon_on_cancel=True)
