"""Repeated runs (issue 13, item 5): llmling-agent's ``run_in_background(max_count=,
interval=)``, ``stop``, ``wait`` and stats, as ``plait.repeat`` / ``agent.repeat``.

Each repeated run is an ordinary run (its own id); the repetition lives on the running
asyncio loop when there is one, else on its own loop in a daemon thread.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import anyio
import anyio.to_thread
import pytest

import plait
from plait._repeat import repeat
from plait.testing import FunctionModel, ScriptedModel, Turn, call


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Clock:
    """A model that answers ``hi <n>`` and notes when and on which thread it was asked."""

    def __init__(self, fail_on: tuple[int, ...] = ()) -> None:
        self.times: list[float] = []
        self.threads: set[int] = set()
        self.fail_on = fail_on
        self.model = FunctionModel(self.answer)

    def answer(self, messages: list[Any], params: Any) -> Turn:
        self.times.append(time.monotonic())
        self.threads.add(threading.get_ident())
        n = len(self.times)
        if n in self.fail_on:
            return Turn(error=RuntimeError(f"boom {n}"))
        return Turn(text=f"hi {n}")


def test_count_runs_that_many_times_interval_apart_from_sync_code() -> None:
    clock = Clock()
    rep = repeat("hello", model=clock.model, count=3, interval=0.05)
    stats = rep.join(timeout=10)
    assert (stats.runs, stats.successes, stats.failures) == (3, 3, 0)
    assert stats.last_status == "success" and stats.last_result is not None
    assert stats.last_result.output == "hi 3" and stats.usage.requests == 3
    assert stats.started is not None and stats.elapsed >= 0.1 and not stats.running
    gaps = [b - a for a, b in zip(clock.times, clock.times[1:], strict=False)]
    assert len(gaps) == 2 and min(gaps) >= 0.05
    assert [r.output for r in rep.results] == ["hi 1", "hi 2", "hi 3"]
    assert len({r.run_id for r in rep.results}) == 3  # each run its own id
    assert rep.reason == "count" and not rep.running
    assert clock.threads and threading.get_ident() not in clock.threads  # own thread


@pytest.mark.anyio
async def test_inside_a_running_loop(anyio_backend: str) -> None:
    clock = Clock()
    rep = repeat("hello", model=clock.model, count=2, interval=0.01)
    stats = await rep.wait()
    assert (stats.runs, stats.successes) == (2, 2)
    on_this_thread = clock.threads == {threading.get_ident()}
    # asyncio: a task on the caller's loop; trio: its own asyncio loop in a thread
    assert on_this_thread is (anyio_backend == "asyncio")


@pytest.mark.anyio
async def test_a_failing_run_is_counted_and_the_repetition_goes_on(anyio_backend: str) -> None:
    clock = Clock(fail_on=(2,))
    rep = repeat("hello", model=clock.model, count=3, interval=0)
    stats = await rep.wait()
    assert (stats.runs, stats.successes, stats.failures) == (3, 2, 1)
    assert stats.last_status == "success" and len(clock.times) == 3


def test_stop_on_failure_ends_at_the_first_failure() -> None:
    clock = Clock(fail_on=(2,))
    rep = repeat("hello", model=clock.model, count=5, interval=0, stop_on_failure=True)
    stats = rep.join(timeout=10)
    assert (stats.runs, stats.failures, rep.reason) == (2, 1, "failure")
    assert stats.last_status == "error" and "boom 2" in str(stats.last_error)


@pytest.mark.anyio
async def test_stop_ends_a_repetition_without_count(anyio_backend: str) -> None:
    clock = Clock()
    two = threading.Event()

    def on_event(event: plait.Event) -> None:
        if event.kind == "repeat.run" and event.data["n"] == 2:
            two.set()

    rep = repeat("hello", model=clock.model, interval=0.01, handlers=[on_event])  # no count
    assert await anyio.to_thread.run_sync(two.wait, 10)
    rep.stop()
    stats = await rep.wait()
    assert rep.reason == "stopped" and stats.runs >= 2 and stats.failures == 0
    assert stats.runs == stats.successes == len(clock.times)  # the run in flight finished
    await anyio.sleep(0.05)
    assert len(clock.times) == stats.runs  # and no run after


def test_stop_during_the_pause_ends_it_at_once() -> None:
    rep = repeat("hello", model=Clock().model, interval=30)
    deadline = time.monotonic() + 10
    while rep.stats.runs < 1 and time.monotonic() < deadline:
        time.sleep(0.005)
    begun = time.monotonic()
    rep.stop()
    stats = rep.join(timeout=5)
    assert stats.runs == 1 and time.monotonic() - begun < 5


def _slow_tool(started: threading.Event) -> Any:
    async def crawl(url: str) -> str:
        """Crawl a site (slow)."""
        started.set()
        await anyio.sleep(30)
        return "pages"

    return crawl


def test_stop_now_cancels_the_run_in_flight_from_another_thread() -> None:
    started = threading.Event()
    model = ScriptedModel([call("crawl", url="x"), "never"])
    rep = repeat("crawl", model=model, tools=[_slow_tool(started)], count=3, interval=0)
    assert started.wait(10)
    rep.stop(now=True)
    stats = rep.join(timeout=5)
    assert (stats.runs, stats.failures, stats.last_status) == (1, 0, "cancelled")
    assert rep.reason == "stopped"


@pytest.mark.anyio
async def test_stop_now_inside_a_running_loop(anyio_backend: str) -> None:
    started = threading.Event()
    model = ScriptedModel([call("crawl", url="x"), "never"])
    rep = repeat("crawl", model=model, tools=[_slow_tool(started)], interval=0)
    assert await anyio.to_thread.run_sync(started.wait, 10)
    rep.stop(now=True)
    with anyio.fail_after(10):
        stats = await rep.wait()
    assert (stats.runs, stats.last_status) == (1, "cancelled")


@pytest.mark.anyio
async def test_join_on_the_repetitions_own_loop_is_refused(anyio_backend: str) -> None:
    rep = repeat("hello", model=Clock().model, count=1, interval=0)
    if anyio_backend == "asyncio":  # it would block the loop the repetition needs
        with pytest.raises(RuntimeError, match=r"await repeater\.wait"):
            rep.join(timeout=1)
    else:  # under trio the repetition has its own thread: join only blocks this one
        assert rep.join(timeout=10).runs == 1
    assert (await rep.wait()).runs == 1


def test_results_are_bounded_by_keep() -> None:
    rep = repeat("hello", model=Clock().model, count=4, interval=0, keep=2)
    rep.join(timeout=10)
    assert [r.output for r in rep.results] == ["hi 3", "hi 4"]
    assert rep.stats.runs == 4 and rep.stats.usage.requests == 4


def test_the_group_events_and_each_run_reach_the_handlers_once() -> None:
    seen: list[plait.Event] = []
    rep = repeat("hello", model=Clock().model, count=2, interval=0, handlers=[seen.append])
    rep.join(timeout=10)
    own = [e.kind for e in seen if e.run_id == rep.run_id]
    assert own == ["repeat.start", "repeat.run", "repeat.run", "repeat.end"]
    starts = [e for e in seen if e.kind == "run.start"]
    assert len(starts) == 2 and len({e.run_id for e in starts}) == 2
    ends = {e.run_id for e in seen if e.kind == "run.end"}
    runs = [e.data["run_id"] for e in seen if e.kind == "repeat.run"]
    assert set(runs) == ends
    end = next(e for e in seen if e.kind == "repeat.end")
    assert end.data["runs"] == 2 and end.data["reason"] == "count"
    assert len({(e.run_id, e.seq) for e in seen}) == len(seen)


def test_with_an_agent_its_options_apply() -> None:
    clock = Clock()
    agent = plait.Agent("ticker", model=clock.model, instructions="Be brief.")
    rep = repeat("tick", agent=agent, count=2, interval=0)
    rep.join(timeout=10)
    assert [r.agent for r in rep.results] == ["ticker", "ticker"]
    assert all(r.messages[0].role == "system" for r in rep.results)


def test_bad_arguments_fail_at_the_call() -> None:
    model = Clock().model
    with pytest.raises(ValueError, match="count"):
        repeat("x", model=model, count=0)
    with pytest.raises(ValueError, match="interval"):
        repeat("x", model=model, interval=-1)
    with pytest.raises(ValueError, match="run_id"):
        repeat("x", model=model, count=2, run_id="same")
    with pytest.raises(TypeError, match="unknown run option"):
        repeat("x", model=model, count=2, colour="red")
