"""``plait.repeat``: one task run again and again in the background, with stats.

A ``Repeater`` runs ordinary runs (each its own run id, limits, events, store) one after
another, waiting ``interval`` seconds between the end of one and the start of the next,
``count`` times or until ``stop()``. It lives where ``plait.start`` puts a run: on the
running asyncio loop as a task, else on its own loop in a daemon thread; ``stop`` may be
called from any thread. A group (``Hub("repeat")``) gives the runs' events, and its own
``repeat.start`` / ``repeat.run`` / ``repeat.end``, to the ``handlers=`` once each.

Only the repetition is here; a single run is ``_run._api.runner(...).drive()`` as for
``plait.start``. Nothing of this is imported by the plain run path.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import anyio
import anyio.to_thread

from ._messages import Usage
from ._run._api import runner
from ._run._handle import HandleStatus, wait_finished
from ._run._hub import Hub
from ._run._options import run_spec
from ._run._result import Result

if TYPE_CHECKING:
    from ._agent import Agent
    from ._kernel import Kernel
    from ._run._loop import Runner

__all__ = ["RepeatStats", "Repeater", "agent_options", "repeat"]

T = TypeVar("T")

_ONE_ID = ("run_id", "resume")  # would give every repeated run the same id
_Last = tuple[HandleStatus | None, Result[Any] | None, Exception | None]


@dataclass(frozen=True, slots=True)
class RepeatStats:
    """A snapshot of a repetition (``Repeater.stats``); it does not change afterwards."""

    runs: int  # runs that ended
    successes: int  # ended with status ``success``
    failures: int  # ended otherwise or raised (a run stopped by ``stop(now=True)`` is not)
    last_status: HandleStatus | None  # the last run's status (``error``: raised, no result)
    last_result: Result[Any] | None
    last_error: Exception | None  # what the last run raised, if it raised
    usage: Usage  # summed over every run, failed ones included
    started: datetime | None  # when the first run started (UTC)
    elapsed: float  # seconds from the first start to now, or to the end
    running: bool


def agent_options(agent: Agent[Any] | None, options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The output type and run options: the agent's, with ``options`` on top."""
    if agent is None:
        options = dict(options)
        return options.pop("output", str), options
    return agent._options(dict(options))


class Repeater(Generic[T]):
    """A task run repeatedly in the background: ``stop``, ``await wait()``, ``join``,
    ``stats``, ``results`` (the last ``keep``), ``running``; thread-safe."""

    def __init__(
        self,
        make: Callable[[], Runner],
        hub: Hub,
        *,
        count: int | None,
        interval: float,
        stop_on_failure: bool,
        keep: int,
        own_kernel: Kernel | None,
    ) -> None:
        self._make = make  # () -> Runner: one ordinary run, not started
        self._hub = hub
        self.count, self.interval, self.stop_on_failure = count, interval, stop_on_failure
        self._own_kernel = own_kernel  # created for the repetition: closed at its end
        self._lock = threading.Lock()  # stats are written on the loop, read from anywhere
        self._results: deque[Result[T]] = deque(maxlen=keep)
        self._runs = self._successes = self._failures = 0
        self._last: _Last = (None, None, None)
        self._usage = Usage()
        self._started: tuple[datetime, float] | None = None
        self._ended: float | None = None
        self._stop = threading.Event()
        self._now = False  # stop(now=True): cancel the run in flight
        self._finished = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._current: Runner | None = None
        self._pause: anyio.CancelScope | None = None
        self.reason: str | None = None  # why it ended: count, stopped, failure

    @property
    def run_id(self) -> str:
        """The group's id: the ``run_id`` of the ``repeat.*`` events."""
        return self._hub.run_id

    @property
    def running(self) -> bool:
        return not self._finished.is_set()

    @property
    def stats(self) -> RepeatStats:
        with self._lock:
            status, result, error = self._last
            begun = self._started
            end = self._ended if self._ended is not None else time.monotonic()
            return RepeatStats(
                runs=self._runs,
                successes=self._successes,
                failures=self._failures,
                last_status=status,
                last_result=result,
                last_error=error,
                usage=self._usage,
                started=begun[0] if begun else None,
                elapsed=end - begun[1] if begun else 0.0,
                running=not self._finished.is_set(),
            )

    @property
    def results(self) -> tuple[Result[T], ...]:
        """The results of the last ``keep`` runs (default 100), oldest first."""
        with self._lock:
            return tuple(self._results)

    def launch(self) -> None:
        """On the running asyncio loop as a task, else on a loop in a daemon thread."""
        try:
            self._loop = asyncio.get_running_loop()
        except RuntimeError:
            threading.Thread(
                target=lambda: anyio.run(self._main), daemon=True, name="plait-repeat"
            ).start()
            return
        self._task = self._loop.create_task(self._main())

    def stop(self, *, now: bool = False) -> None:
        """No more runs (from any thread). The run in flight finishes, or with
        ``now=True`` is cancelled (it ends ``cancelled``, not counted as a failure)."""
        self._now = self._now or now
        self._stop.set()
        loop = self._loop
        if loop is None or self._finished.is_set():
            return  # not started yet: the loop sees the flag before its first run
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is loop:
            self._wake()
        else:
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        """On the repetition's loop: end the pause, and the run in flight if asked."""
        if self._pause is not None:
            self._pause.cancel()
        if self._now and self._current is not None:
            self._current.cancel("now")

    async def wait(self) -> RepeatStats:
        """Wait for the end (``count`` runs, ``stop()``, or a failure with
        ``stop_on_failure``) and return the final stats."""
        await wait_finished(self._task, self._loop, self._finished)
        return self._outcome()

    def join(self, timeout: float | None = None) -> RepeatStats:
        """``wait`` for synchronous code; ``TimeoutError`` if still repeating after
        ``timeout`` seconds (the repetition goes on)."""
        if self._task is not None and not self._finished.is_set():
            try:
                on_loop = asyncio.get_running_loop() is self._loop
            except RuntimeError:
                on_loop = False
            if on_loop:
                raise RuntimeError(
                    "join() would block the event loop the repetition runs on; "
                    "use `await repeater.wait()`"
                )
        if not self._finished.wait(timeout):
            raise TimeoutError(f"repetition still going after {timeout}s")
        return self._outcome()

    def _outcome(self) -> RepeatStats:
        if self._error is not None:
            raise self._error
        return self.stats

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        try:
            async with self._hub.pumping():
                self._hub.emit("repeat.start", {"count": self.count, "interval": self.interval})
                try:
                    self.reason = await self._repeat()
                finally:
                    s = self.stats
                    self._hub.emit(
                        "repeat.end",
                        {
                            "runs": s.runs,
                            "successes": s.successes,
                            "failures": s.failures,
                            "reason": self.reason or "error",
                        },
                    )
        except Exception as exc:  # a defect of the repetition itself: kept for wait()
            self._error = exc
        finally:
            try:
                if self._own_kernel is not None:
                    await self._own_kernel.aclose()
            finally:
                with self._lock:
                    self._ended = time.monotonic()
                self._finished.set()

    async def _repeat(self) -> str:
        n = 0
        while self.count is None or n < self.count:
            if n and self.interval > 0:
                with anyio.CancelScope() as self._pause:
                    await anyio.sleep(self.interval)
                self._pause = None
            if self._stop.is_set():
                return "stopped"
            n += 1
            r: Runner = self._make()
            self._current = r  # no await since the flag check: stop(now) reaches this run
            if self._started is None:
                with self._lock:
                    self._started = (datetime.now(UTC), time.monotonic())
            ok = await self._one(n, r)
            self._current = None
            if not ok and self.stop_on_failure:
                return "failure"
        return "count"

    async def _one(self, n: int, r: Runner) -> bool:
        """One run, counted; True when it succeeded (or was stopped by ``stop(now)``)."""
        error: Exception | None = None
        try:
            result: Result[Any] | None = await r.drive()
        except Exception as exc:  # counted: the repetition goes on
            error, got = exc, getattr(exc, "result", None)
            result = got if isinstance(got, Result) else None
        status: HandleStatus = result.status if result is not None else "error"
        ok = error is None and status == "success"
        stopped = self._now and status == "cancelled"
        with self._lock:
            self._runs += 1
            self._successes += ok
            self._failures += not ok and not stopped
            self._last = (status, result, error)
            if result is not None:
                self._usage = self._usage + result.usage
                self._results.append(result)
        run_id = result.run_id if result is not None else (r.state.run_id if r.state else None)
        self._hub.emit(
            "repeat.run",
            {
                "n": n,
                "run_id": run_id,
                "status": status,
                "error": None if error is None else str(error),
            },
        )
        return ok or stopped


def repeat(
    task: str | None = None,
    *,
    agent: Agent[Any] | None = None,
    count: int | None = None,
    interval: float = 1.0,
    stop_on_failure: bool = False,
    keep: int = 100,
    **options: Any,
) -> Repeater[Any]:
    """Run ``task`` ``count`` times (``None``: until ``stop()``) in the background,
    ``interval`` seconds apart (end to start); returns the ``Repeater`` at once.

    ``options`` are ``plait.run``'s (with ``agent=``: on top of the agent's); they are
    checked now, so a mistake raises here rather than in every run. A failing run is
    counted and the repetition goes on, unless ``stop_on_failure=True``.
    """
    if count is not None and (not isinstance(count, int) or count < 1):
        raise ValueError(
            f"count must be a positive int, or None to repeat until stopped; got {count!r}"
        )
    if interval < 0:
        raise ValueError(f"interval must be 0 or more seconds; got {interval!r}")
    if keep < 0:
        raise ValueError(f"keep (how many recent results to hold) must be 0 or more; got {keep!r}")
    given = [k for k in _ONE_ID if options.get(k) is not None]
    if given:
        raise ValueError(
            f"repeat() gives each run its own id; {', '.join(given)}= would name them all "
            "the same (use thread= to keep one conversation across the runs)"
        )
    output, opts = agent_options(agent, options)
    run_spec(task, output, opts)  # unknown or ill-typed options fail here, once
    own: Kernel | None = None
    if opts.get("kernel") is None:  # one kernel for every run: plugins load once
        from ._kernel import Kernel

        own = opts["kernel"] = Kernel()
    hub = Hub(
        "repeat", name=opts.get("name"), handlers=opts.get("handlers") or (), kernel=opts["kernel"]
    )

    def make() -> Runner:
        r = runner(task, output, opts)
        hub.attach(r)
        return r

    repeater: Repeater[Any] = Repeater(
        make,
        hub,
        count=count,
        interval=interval,
        stop_on_failure=stop_on_failure,
        keep=keep,
        own_kernel=own,
    )
    repeater.launch()
    return repeater
