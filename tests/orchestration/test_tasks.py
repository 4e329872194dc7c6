"""Task graphs (issue 13, item 3): marvin's ``run_tasks`` on plait's one run loop.

Independent tasks run side by side, dependents wait and get their upstream results in
the prompt, a failure skips what depends on it, bad graphs are refused before any model
call, and every task's events reach the graph's handlers and stream.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import anyio
import pytest
from pydantic import BaseModel

import plait
from plait import Message, UserMessage
from plait._tasks import (  # plait.Task, plait.run_tasks, ... once they are exported
    GraphResult,
    Task,
    arun_tasks,
    run_tasks,
    stream_tasks,
)
from plait.testing import FunctionModel, ScriptedModel, Turn, call, complete, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Recorder:
    """A model that answers ``<first line> done`` after ``delay`` seconds and records, per
    task (the prompt's first line), when its turn started and ended and its prompt."""

    def __init__(self, delay: float = 0.05, fail: Iterable[str] = ()) -> None:
        self.delay = delay
        self.fail = set(fail)
        self.spans: dict[str, tuple[float, float]] = {}
        self.prompts: dict[str, str] = {}
        self.model = FunctionModel(self._answer)

    async def _answer(self, messages: list[Message], params: Any) -> Turn | str:
        prompt = next(m for m in messages if isinstance(m, UserMessage)).content
        key = prompt.splitlines()[0]
        began = time.perf_counter()
        await anyio.sleep(self.delay)
        self.spans[key] = (began, time.perf_counter())
        self.prompts[key] = prompt
        if key in self.fail:
            return Turn(error=plait.Rejected("the model broke", provider="test"))
        return f"{key} done"

    def overlap(self, a: str, b: str) -> bool:
        (a0, a1), (b0, b1) = self.spans[a], self.spans[b]
        return a0 < b1 and b0 < a1


def _marvin_graph() -> list[Task]:
    """marvin's example: two independent research tasks, then a summary of both."""
    flights = Task("Find flights", name="flights")
    hotels = Task("Find hotels", name="hotels")
    plan = Task("Plan the trip", name="plan", depends_on=[flights, hotels])
    return [plan, flights, hotels]  # any order: dependencies go first


@pytest.mark.anyio
async def test_independent_tasks_overlap_and_the_dependent_gets_both_results() -> None:
    rec = Recorder()
    graph = await arun_tasks(_marvin_graph(), model=rec.model)
    assert graph.ok and graph.status == "success"
    assert rec.overlap("Find flights", "Find hotels")
    assert rec.spans["Plan the trip"][0] >= max(rec.spans["Find flights"][1],
                                                rec.spans["Find hotels"][1])  # fmt: skip
    prompt = rec.prompts["Plan the trip"]
    assert "### flights\nFind flights done" in prompt
    assert "### hotels\nFind hotels done" in prompt
    assert graph.output("plan") == "Plan the trip done"
    assert graph.outputs == {
        "flights": "Find flights done", "hotels": "Find hotels done", "plan": "Plan the trip done"
    }  # fmt: skip
    assert list(graph) == ["flights", "hotels", "plan"]
    assert (
        graph["plan"].result is not None and graph["plan"].result.run_id == f"{graph.graph_id}.plan"
    )
    assert graph.usage.requests == 3
    outcome = graph["flights"]
    assert outcome.started is not None and outcome.ended is not None
    assert outcome.started <= outcome.ended


@pytest.mark.anyio
async def test_max_concurrency_one_runs_one_task_at_a_time() -> None:
    rec = Recorder(delay=0.02)
    graph = await arun_tasks(_marvin_graph(), model=rec.model, max_concurrency=1)
    assert graph.ok
    assert not rec.overlap("Find flights", "Find hotels")


@pytest.mark.anyio
async def test_concurrency_is_limited_not_serialised() -> None:
    rec = Recorder(delay=0.03)
    tasks = [Task(f"job {i}", name=f"j{i}") for i in range(6)]
    graph = await arun_tasks(tasks, model=rec.model, max_concurrency=2)
    assert graph.ok
    spans = sorted(rec.spans.values())
    at_once = max(sum(1 for s in spans if s[0] <= t < s[1]) for t, _ in spans)
    assert at_once == 2


@pytest.mark.anyio
async def test_a_failed_task_skips_its_dependents_and_not_the_others() -> None:
    rec = Recorder(delay=0.0, fail=["Find hotels"])
    tasks = _marvin_graph()
    after = Task("Book it", name="book", depends_on=["plan"])
    alone = Task("Check the weather", name="weather")
    graph = await arun_tasks([*tasks, after, alone], model=rec.model)
    assert graph.status == "failed" and not graph.ok
    assert graph["hotels"].status == "failed" and "the model broke" in (graph["hotels"].error or "")
    assert graph["flights"].ok and graph["weather"].ok
    for name in ("plan", "book"):  # transitive: never run, the failed upstream named
        assert graph[name].status == "skipped"
        assert graph[name].because == "hotels"
        assert graph[name].result is None and graph[name].output is None
    assert "Plan the trip" not in rec.prompts and "Book it" not in rec.prompts
    assert graph.counts() == {"success": 2, "failed": 1, "skipped": 2}


@pytest.mark.anyio
async def test_raise_on_failure_raises_after_everything_that_could_run() -> None:
    rec = Recorder(delay=0.0, fail=["Find hotels"])
    alone = Task("Check the weather", name="weather")
    with pytest.raises(plait.RunFailed, match="hotels \\(failed\\)") as caught:
        await arun_tasks([*_marvin_graph(), alone], model=rec.model, raise_on_failure=True)
    graph = caught.value.result
    assert isinstance(graph, GraphResult)
    assert graph["weather"].ok and graph["plan"].status == "skipped"


def _refused(tasks: list[Task], match: str) -> None:
    asked: list[object] = []

    def answer(messages: list[Message], params: Any) -> str:
        asked.append(messages)
        return "x"

    model = FunctionModel(answer)
    with pytest.raises(ValueError, match=match):
        run_tasks(tasks, model=model)
    assert asked == []


def test_bad_graphs_are_refused_before_any_model_call() -> None:
    a = Task("A", name="a", depends_on=["c"])
    b = Task("B", name="b", depends_on=[a])
    c = Task("C", name="c", depends_on=[b])
    _refused([a, b, c], r"cycle: a -> c -> b -> a")
    _refused([Task("A", name="a", depends_on=["nope"])], "unknown task 'nope'")
    outside = Task("outside")
    _refused([Task("A", depends_on=[outside])], "not in the list")
    _refused([Task("A", name="x"), Task("B", name="x")], "two tasks are named 'x'")
    _refused([Task("A", name="a", depends_on=["a"])], "depends on itself")
    _refused([], "at least one Task")
    with pytest.raises(ValueError, match="max_concurrency"):
        run_tasks([Task("A")], model="test:echo", max_concurrency=0)
    with pytest.raises(TypeError, match="unknown run option"):
        run_tasks([Task("A", options={"modle": "x"})], model="test:echo")
    with pytest.raises(ValueError, match="thread"):
        run_tasks([Task("A")], model="test:echo", thread="t")


def test_default_names_are_slugs_stable_and_unique() -> None:
    tasks = [Task("Write a poem about cats!"), Task("Write a poem about cats!"), Task("...")]
    graph = run_tasks(tasks, model="test:echo", graph_id="g")
    assert list(graph) == ["write-a-poem-about-cats", "write-a-poem-about-cats-2", "task"]
    assert graph["write-a-poem-about-cats-2"].run_id == "g.write-a-poem-about-cats-2"


@pytest.mark.anyio
async def test_handlers_see_every_tasks_events_once() -> None:
    seen: list[plait.Event] = []
    graph = await arun_tasks(_marvin_graph(), model=Recorder(0.0).model, handlers=[seen.append])
    gid = graph.graph_id
    own = [e.kind for e in seen if e.run_id == gid]
    assert own[0] == "tasks.start" and own[-1] == "tasks.end"
    assert own.count("task.start") == own.count("task.end") == 3
    members = {e.run_id for e in seen if e.run_id != gid}
    assert members == {f"{gid}.{n}" for n in ("flights", "hotels", "plan")}
    assert all(e.parent_run_id == gid for e in seen if e.run_id != gid)
    assert sum(e.kind == "run.end" for e in seen) == 3
    assert len({(e.run_id, e.seq) for e in seen}) == len(seen)  # nobody sees one twice
    start = next(e for e in seen if e.kind == "tasks.start")
    assert sorted(map(tuple, start.data["edges"])) == [("flights", "plan"), ("hotels", "plan")]
    end = next(e for e in seen if e.kind == "tasks.end")
    assert end.data["status"] == "success" and end.data["counts"] == {"success": 3}


@pytest.mark.anyio
async def test_skipped_tasks_are_announced() -> None:
    seen: list[plait.Event] = []
    rec = Recorder(delay=0.0, fail=["Find flights"])
    await arun_tasks(_marvin_graph(), model=rec.model, handlers=[seen.append])
    (skipped,) = [e for e in seen if e.kind == "task.skipped"]
    assert skipped.data["task"] == "plan" and skipped.data["because"] == "flights"
    ends = {e.data["task"]: e.data["status"] for e in seen if e.kind == "task.end"}
    assert ends == {"flights": "failed", "hotels": "success"}


@pytest.mark.anyio
async def test_stream_tasks_gives_every_event_then_the_result() -> None:
    async with stream_tasks(_marvin_graph(), model=Recorder(0.0).model) as s:
        events = [e async for e in s]
        graph = await s.result()
    assert graph.ok
    assert events[0].kind == "tasks.start" and events[-1].kind == "tasks.end"
    assert {e.run_id for e in events if e.kind == "run.end"} == {
        f"{graph.graph_id}.{n}" for n in ("flights", "hotels", "plan")
    }


@pytest.mark.anyio
async def test_leaving_the_stream_early_cancels_the_graph() -> None:
    rec = Recorder(delay=5.0)
    with anyio.fail_after(3):
        async with stream_tasks(_marvin_graph(), model=rec.model) as s:
            async for event in s:
                if event.kind == "model.request":
                    break
    assert rec.spans == {}


def test_sync_forms() -> None:
    graph = run_tasks(_marvin_graph(), model=Recorder(0.0).model)
    assert graph.ok and graph.output("plan") == "Plan the trip done"
    with stream_tasks(_marvin_graph(), model=Recorder(0.0).model) as s:
        kinds = [e.kind for e in s]
        again = s.result()
    assert again.ok and kinds.count("task.end") == 3


@pytest.mark.anyio
async def test_run_tasks_works_inside_a_running_loop() -> None:
    graph = run_tasks([Task("A", name="a")], model="test:echo")  # a worker thread
    assert graph.ok and graph.output("a") == "A"


class Trip(BaseModel):
    city: str
    nights: int


@pytest.mark.anyio
async def test_structured_outputs_reach_dependents_as_json() -> None:
    prompts: list[str] = []

    def answer(messages: list[Message], params: Any) -> Any:
        prompt = next(m for m in messages if isinstance(m, UserMessage)).content
        prompts.append(prompt)
        if prompt.startswith("Pick"):
            return complete(result={"city": "Oslo", "nights": 3})
        return "booked"

    planner: plait.Agent[Trip] = plait.Agent(
        "planner", output=Trip
    )  # a task's output defaults to its agent's
    pick = Task("Pick a trip", name="pick", agent=planner)
    again = Task("Suggest another trip", name="again", agent=planner, output=str)
    book = Task("Book the trip", name="book", depends_on=[pick], context={"budget": 900})
    graph = await arun_tasks([pick, book, again], model=FunctionModel(answer), max_concurrency=1)
    assert graph.output("pick") == Trip(city="Oslo", nights=3)
    assert graph.output("again") == "booked"
    assert '"city": "Oslo"' in prompts[1] and '"budget": 900' in prompts[1]


@pytest.mark.anyio
async def test_agents_tools_and_options_combine_most_specific_first() -> None:
    used: list[tuple[str, str | None, list[str]]] = []

    def answer(messages: list[Message], params: Any) -> str:
        prompt = next(m for m in messages if isinstance(m, UserMessage)).content
        system = next((m.content for m in messages if m.role == "system"), None)
        used.append((prompt.splitlines()[0], system, sorted(t.name for t in params.tools)))
        return "ok"

    def shared() -> str:
        """A tool for every task."""
        return "s"

    def own() -> str:
        """The agent's tool."""
        return "a"

    def extra() -> str:
        """The task's tool."""
        return "t"

    writer: plait.Agent[str] = plait.Agent("writer", instructions="You write.", tools=[own])
    tasks = [
        Task("A", name="a", agent=writer, tools=[extra]),
        Task("B", name="b", agent=writer, options={"instructions": "You edit."}),
        Task("C", name="c"),
    ]
    graph = await arun_tasks(tasks, model=FunctionModel(answer), tools=[shared],
                             instructions="You help.", max_concurrency=1)  # fmt: skip
    assert graph.ok
    assert sorted(used) == [
        ("A", "You write.", ["extra", "own", "shared"]),
        ("B", "You edit.", ["own", "shared"]),
        ("C", "You help.", ["shared"]),
    ]
    assert graph["a"].result is not None and graph["a"].result.agent == "a"


class CountingExecutor:
    """An executor that counts its jobs (runs them here)."""

    name = "counting"

    def __init__(self) -> None:
        self.jobs = 0

    async def execute(self, job: Any) -> Any:
        self.jobs += 1
        return await job()


class CountingPlugin:
    def __init__(self, executor: CountingExecutor) -> None:
        self.executor = executor

    @plait.hookimpl
    def plait_register_executors(self) -> list[Any]:
        return [self.executor]


@pytest.mark.anyio
async def test_a_registered_executor_runs_the_jobs_when_named() -> None:
    executor = CountingExecutor()
    kernel = make_kernel(CountingPlugin(executor))
    try:
        graph = await arun_tasks(_marvin_graph(), model=Recorder(0.0).model, kernel=kernel)
        assert graph.ok and executor.jobs == 0  # "local" by default
        graph = await arun_tasks(_marvin_graph(), model=Recorder(0.0).model, kernel=kernel,
                                 executor="counting")  # fmt: skip
        assert graph.ok and executor.jobs == 3
        with pytest.raises(ValueError, match=r"no executor named 'ray'.*counting, local"):
            await arun_tasks(_marvin_graph(), model="test:echo", kernel=kernel, executor="ray")
    finally:
        await kernel.aclose()


@pytest.mark.anyio
async def test_an_executor_that_breaks_fails_its_task_only() -> None:
    class Broken:
        name = "broken"

        async def execute(self, job: Any) -> Any:
            raise ConnectionError("cluster unreachable")

    graph = await arun_tasks(_marvin_graph(), model="test:echo", executor=Broken())
    assert graph["flights"].status == "failed"
    assert "cluster unreachable" in (graph["flights"].error or "")
    assert graph["plan"].status == "skipped"


@pytest.mark.anyio
async def test_a_recorded_graph_runs_again_without_rerunning_finished_tasks(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path}/tasks.db"
    rec = Recorder(0.0, fail=["Find hotels"])
    first = await arun_tasks(_marvin_graph(), model=rec.model, store=url, graph_id="trip")
    assert first["flights"].ok and first["plan"].status == "skipped"
    rec.prompts.clear()
    again = await arun_tasks(_marvin_graph(), model=Recorder(0.0).model, store=url, resume="trip")
    # recorded runs give their recorded outcome without running: a recorded failure stays
    # a failure (a new graph id runs the graph afresh), so "plan" is skipped again
    assert again["flights"].resumed and again["flights"].output == "Find flights done"
    assert again["hotels"].resumed and again["hotels"].status == "failed"
    assert again["plan"].status == "skipped"
    fresh = Recorder(0.0)
    third = await arun_tasks(_marvin_graph(), model=fresh.model, store=url, graph_id="trip2")
    assert third.ok and not any(t.resumed for t in third.values())
    fourth = await arun_tasks(_marvin_graph(), model=fresh.model, store=url, graph_id="trip2")
    assert fourth.ok and all(t.resumed for t in fourth.values())
    assert fourth.outputs == third.outputs
    with pytest.raises(ValueError, match="no run of graph 'nope'"):
        await arun_tasks(_marvin_graph(), model="test:echo", store=url, resume="nope")
    with pytest.raises(ValueError, match="pass store="):
        await arun_tasks(_marvin_graph(), model="test:echo", resume="trip")


@pytest.mark.anyio
async def test_a_graph_run_by_a_tool_is_a_child_of_that_run() -> None:
    @plait.tool
    async def plan_trip(city: str) -> str:
        """Plan a trip with a task graph."""
        graph = await arun_tasks([Task(city, name="a"), Task("b", name="b", depends_on=["a"])],
                                 model="test:echo", graph_id="inner")  # fmt: skip
        return str(graph.outputs)

    seen: list[plait.Event] = []
    model = ScriptedModel([call("plan_trip", city="Oslo"), "done"])
    result = await plait.arun("go", model=model, tools=[plan_trip], handlers=[seen.append])
    assert result.ok
    graph_events = [e for e in seen if e.run_id == "inner"]
    assert graph_events[0].kind == "tasks.start" and graph_events[-1].kind == "tasks.end"
    assert {e.parent_run_id for e in graph_events} == {result.run_id}
    runs = {e.run_id: e.parent_run_id for e in seen if e.kind == "run.start"}
    assert runs == {result.run_id: None, "inner.a": "inner", "inner.b": "inner"}


async def _stream_to_the_end(tasks: list[Task], **settings: Any) -> GraphResult:
    async with stream_tasks(tasks, **settings) as s:
        async for _ in s:
            pass
        return await s.result()


def _sync_stream_result(tasks: list[Task], **settings: Any) -> GraphResult:
    with stream_tasks(tasks, **settings) as s:
        return s.result()


@pytest.mark.anyio
async def test_a_streamed_graph_raises_run_failed_unwrapped() -> None:
    rec = Recorder(delay=0.0, fail=["Find hotels"])
    with pytest.raises(plait.RunFailed, match="hotels"):
        await _stream_to_the_end(_marvin_graph(), model=rec.model, raise_on_failure=True)
    with pytest.raises(plait.RunFailed, match="hotels"):  # and from sync code
        _sync_stream_result(_marvin_graph(), model=rec.model, raise_on_failure=True)


@pytest.mark.anyio
async def test_a_graph_in_a_tool_gives_its_own_handlers_every_task_event() -> None:
    inner: list[plait.Event] = []

    @plait.tool
    async def plan_trip(city: str) -> str:
        """Plan a trip with a task graph."""
        graph = await arun_tasks(
            [Task(city, name="a")], model="test:echo", graph_id="inner", handlers=[inner.append]
        )
        return str(graph.outputs)

    outer: list[plait.Event] = []
    await plait.arun(
        "go",
        model=ScriptedModel([call("plan_trip", city="Oslo"), "done"]),
        tools=[plan_trip],
        handlers=[outer.append],
    )
    assert {e.run_id for e in inner if e.kind == "run.end"} == {"inner.a"}
    assert "inner.a" in {e.run_id for e in outer}  # and the caller sees the tree too
