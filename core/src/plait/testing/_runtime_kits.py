"""Conformance kits for what serves the run from outside it: event handlers and executors.
See docs/plugins/conformance.md.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from .._contracts import EventHandler, Executor
from .._events import Event
from ._kits import _Plugin
from ._plugins import make_kernel

__all__ = ["EventHandlerConformance", "ExecutorConformance", "sample_events"]


def sample_events(run_id: str = "conformance") -> list[Event]:
    """One run's events as a handler sees them, a ``plugin.error`` and a kind from the future."""
    kinds: list[tuple[str, dict[str, Any]]] = [
        ("run.start", {"input": "Weather in Paris?", "model": "echo:default"}),
        ("model.request", {"messages": 2}),
        ("text.delta", {"text": "Sunny"}),
        ("model.response", {"text": "Sunny", "usage": {"input_tokens": 3}}),
        ("tool.start", {"name": "weather", "args": {"city": "Paris"}}),
        ("tool.end", {"name": "weather", "result": "21 °C"}),
        ("plugin.error", {"plugin": "other", "error": "boom"}),
        ("run.end", {"status": "success", "output": "Sunny, 21 °C"}),
        ("kind.from_a_newer_plait", {"anything": [1, 2, 3]}),
    ]
    now = time.time()
    return [
        Event(kind=kind, run_id=run_id, seq=seq, ts=now + seq, agent="conformance", data=data)
        for seq, (kind, data) in enumerate(kinds)
    ]


@pytest.mark.anyio
class EventHandlerConformance:
    """Fixture: ``handler``; optionally ``events`` (default: ``sample_events()``). The
    handler must take every event, including kinds it does not know, without raising."""

    @pytest.fixture
    def handler(self) -> Any:
        raise NotImplementedError("provide a handler fixture returning your EventHandler")

    @pytest.fixture
    def events(self) -> Sequence[Event]:
        return sample_events()

    async def test_handler_fits_the_contract(self, handler: Any) -> None:
        assert isinstance(handler, EventHandler), "an EventHandler needs name and handle()"
        assert isinstance(handler.name, str) and handler.name

    async def test_handles_every_event_in_order(
        self, handler: Any, events: Sequence[Event]
    ) -> None:
        with anyio.fail_after(30):
            for event in events:
                assert await handler.handle(event) is None, "handle() returns nothing"

    async def test_handles_two_runs_at_once(self, handler: Any) -> None:
        async def one_run(run_id: str) -> None:
            for event in sample_events(run_id):
                await handler.handle(event)

        with anyio.fail_after(30):
            async with anyio.create_task_group() as tg:
                tg.start_soon(one_run, "run-a")
                tg.start_soon(one_run, "run-b")

    async def test_kernel_registers_it(self, handler: Any) -> None:
        kernel = make_kernel(_Plugin("plait_register_event_handlers", [handler]), builtins=False)
        assert list(kernel.event_handlers()) == [handler]


class JobFailed(Exception):
    """The error a conformance job raises; an executor must hand it back unchanged."""


@pytest.mark.anyio
class ExecutorConformance:
    """Fixture: ``executor``. Jobs are async callables taking no arguments."""

    @pytest.fixture
    def executor(self) -> Any:
        raise NotImplementedError("provide an executor fixture returning your Executor")

    async def test_executor_fits_the_contract(self, executor: Any) -> None:
        assert isinstance(executor, Executor), "an Executor needs name and execute()"
        assert isinstance(executor.name, str) and executor.name

    async def test_returns_the_jobs_result_and_runs_it_once(self, executor: Any) -> None:
        calls: list[int] = []

        async def job() -> dict[str, Any]:
            calls.append(1)
            await anyio.lowlevel.checkpoint()
            return {"answer": 42, "items": [1, 2]}

        assert await executor.execute(job) == {"answer": 42, "items": [1, 2]}
        assert calls == [1], f"the job ran {len(calls)} times"

    async def test_the_jobs_error_reaches_the_caller(self, executor: Any) -> None:
        async def job() -> None:
            raise JobFailed("the job failed")

        with pytest.raises(JobFailed, match="the job failed"):
            await executor.execute(job)

    async def test_jobs_run_concurrently(self, executor: Any) -> None:
        first_started, second_done = anyio.Event(), anyio.Event()

        async def first() -> str:
            first_started.set()
            await second_done.wait()
            return "first"

        async def second() -> str:
            await first_started.wait()
            second_done.set()
            return "second"

        with anyio.fail_after(5):  # a serial executor never lets ``first`` finish
            async with anyio.create_task_group() as tg:
                tg.start_soon(executor.execute, first)
                tg.start_soon(executor.execute, second)

    async def test_cancelling_the_caller_cancels_the_job(self, executor: Any) -> None:
        started = anyio.Event()
        finished: list[bool] = []

        async def job() -> None:
            started.set()
            await anyio.sleep(5)
            finished.append(True)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(executor.execute, job)
                await started.wait()
                tg.cancel_scope.cancel()
        assert not finished, "the job went on after its caller was cancelled"

    async def test_kernel_registers_it(self, executor: Any) -> None:
        kernel = make_kernel(_Plugin("plait_register_executors", [executor]), builtins=False)
        assert kernel.executors()[executor.name] is executor
