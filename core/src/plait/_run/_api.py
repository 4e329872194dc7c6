"""The entry points ``plait.run``, ``plait.arun`` and ``plait.iter``.

``run`` is ``arun`` driven by ``anyio.run``; inside a running event loop (Jupyter,
FastAPI) it runs the coroutine in a worker thread with its own loop and waits for it.
"""

from __future__ import annotations

import asyncio
import functools
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Generic, TypeVar, Unpack, overload

import anyio

from .._parts import TaskInput
from ._finish import raise_for_outcome, repair, step_end
from ._loop import Runner
from ._options import RunOptions, run_spec
from ._result import Result, Step

__all__ = ["RunIterator", "aresume", "arun", "iter", "loop_running", "resume", "run"]

T = TypeVar("T")


def loop_running() -> bool:
    """True when this thread is inside a running asyncio or trio event loop."""
    try:
        asyncio.get_running_loop()
        return True
    except RuntimeError:
        pass
    trio = sys.modules.get("trio")
    if trio is not None:
        try:
            trio.lowlevel.current_task()
            return True
        except RuntimeError:
            pass
    return False


def runner(task: TaskInput | None, output: Any, options: dict[str, Any]) -> Runner:
    """A ``Runner`` for checked options."""
    return Runner(run_spec(task, output, options))


@overload
async def arun(
    task: TaskInput | None = ..., *, output: type[T], **options: Unpack[RunOptions]
) -> Result[T]: ...
@overload
async def arun(task: TaskInput | None = ..., **options: Unpack[RunOptions]) -> Result[str]: ...
@overload
async def arun(
    task: TaskInput | None = ..., *, output: Any, **options: Unpack[RunOptions]
) -> Result[Any]: ...
async def arun(task: TaskInput | None = None, *, output: Any = str, **options: Any) -> Result[Any]:
    """Run ``task`` to the end and return its ``Result`` (see ``docs/run.md``)."""
    # Runner.drive, written out: one coroutine frame fewer held per run in flight
    r = runner(task, output, options)
    del options  # the run's spec holds them: nothing kept twice per run in flight
    st = await r.aprepare()
    try:
        await r.all_steps(st)
    finally:
        await r.aclose()
    return r.outcome(st)


@overload
def run(
    task: TaskInput | None = ..., *, output: type[T], **options: Unpack[RunOptions]
) -> Result[T]: ...
@overload
def run(task: TaskInput | None = ..., **options: Unpack[RunOptions]) -> Result[str]: ...
@overload
def run(
    task: TaskInput | None = ..., *, output: Any, **options: Unpack[RunOptions]
) -> Result[Any]: ...
def run(task: TaskInput | None = None, *, output: Any = str, **options: Any) -> Result[Any]:
    """Run ``task`` synchronously; works inside a running event loop too (worker thread)."""
    return run_blocking(functools.partial(arun, task, output=output, **options))


def run_blocking(call: Callable[[], Awaitable[T]]) -> T:
    """``call()`` driven by ``anyio.run``; in a worker thread when a loop runs here."""
    if not loop_running():
        return anyio.run(call)
    with ThreadPoolExecutor(1, thread_name_prefix="plait-run") as pool:
        return pool.submit(anyio.run, call).result()


class RunIterator(Generic[T]):
    """``plait.iter``: the run one ``Step`` at a time (also an async context manager).

    Use ``async with plait.iter(...) as steps`` to be sure the run is closed if you stop
    early; plain ``async for`` closes it when the last step (``end``) has been yielded.
    """

    def __init__(self, runner: Runner) -> None:
        self._runner = runner
        self._done = False
        self.result: Result[T] | None = None

    def __aiter__(self) -> AsyncIterator[Step]:
        return self

    async def __anext__(self) -> Step:
        if self._done:
            raise StopAsyncIteration
        st = await self._runner.aprepare()
        try:
            step = await self._runner.steps(st, until_done=False)
        except BaseException:
            self._done = True
            await self._runner.aclose()
            raise
        if step.kind == "end":
            self._done = True
            await self._runner.aclose()
            assert step.result is not None
            self.result = raise_for_outcome(st, step.result)
        return step

    def cancel(self) -> None:
        """Stop after the current step: the next step ends the run as ``cancelled``."""
        self._runner.cancel("after_turn")

    async def aclose(self) -> None:
        """End an unfinished run as ``cancelled`` and release its kernel."""
        if self._done:
            return
        self._done = True
        st = self._runner.state
        if st is not None and st.phase != "done":
            repair(st, "the run was cancelled")
            st.finish("cancelled", "cancelled")
            st.phase, step = await step_end(st)
            if st.recorder is not None:
                await st.recorder.after_step(st, step)
            self.result = st.result
        await self._runner.aclose()

    async def __aenter__(self) -> RunIterator[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


@overload
def iter(
    task: TaskInput | None = ..., *, output: type[T], **options: Unpack[RunOptions]
) -> RunIterator[T]: ...
@overload
def iter(task: TaskInput | None = ..., **options: Unpack[RunOptions]) -> RunIterator[str]: ...
@overload
def iter(
    task: TaskInput | None = ..., *, output: Any, **options: Unpack[RunOptions]
) -> RunIterator[Any]: ...
def iter(task: TaskInput | None = None, *, output: Any = str, **options: Any) -> RunIterator[Any]:
    """Run ``task`` one step (start, model turn, tool batch, check, end) at a time."""
    return RunIterator(runner(task, output, options))


async def aresume(run_id: str, *, output: Any = str, **options: Any) -> Result[Any]:
    """Continue the recorded run ``run_id`` from its last completed step.

    Same as ``arun(resume=run_id, ...)``; pass ``tools=`` again (functions are not stored)
    and ``model=`` when the run used a model object. A run that was killed, or interrupted
    (its task cancelled, Ctrl-C: recorded ``cancelled``), continues; a finished run gives
    its recorded result. See ``docs/threads.md``.
    """
    return await arun(None, output=output, resume=run_id, **options)


def resume(run_id: str, *, output: Any = str, **options: Any) -> Result[Any]:
    """``aresume`` for synchronous code (works inside a running event loop too)."""
    return run(None, output=output, resume=run_id, **options)
