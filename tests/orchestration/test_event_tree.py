"""One event stream for the whole tree (issue 13, item 6).

A run started inside another run's tool (an agent used as a tool) is a sub-run: its
events reach everyone watching the top run — handlers, ``plait.stream`` — with its own
run id, agent name and parent run id; nobody gets an event twice.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import plait
from plait.testing import ScriptedModel, call, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _researcher(kernel: plait.Kernel, own: list[plait.Event] | None = None) -> Any:
    @plait.tool
    async def research(topic: str) -> str:
        """Ask the research agent."""
        result = await plait.arun(
            f"research {topic}",
            model=ScriptedModel(
                [[call("lookup", q=topic, id="l1")], f"notes on {topic}"], chunk_size=3
            ),
            tools=[lookup],
            name="researcher",
            kernel=kernel,
            handlers=[own.append] if own is not None else (),
        )
        return str(result.output)

    @plait.tool
    def lookup(q: str) -> str:
        """Look it up."""
        return q.upper()

    return research


def _top_script() -> ScriptedModel:
    return ScriptedModel(
        [[call("research", topic="tides", id="r1")], "the tides are notes"], chunk_size=3
    )


@pytest.mark.anyio
async def test_handlers_of_the_top_run_see_the_sub_run() -> None:
    kernel = make_kernel()
    seen: list[plait.Event] = []
    own: list[plait.Event] = []
    result = await plait.arun(
        "explain tides", model=_top_script(), tools=[_researcher(kernel, own)],
        name="writer", kernel=kernel, handlers=[seen.append],
    )  # fmt: skip
    assert result.status == "success"
    top = result.run_id
    runs = {e.run_id for e in seen}
    assert len(runs) == 2
    (sub,) = runs - {top}
    sub_events = [e for e in seen if e.run_id == sub]
    assert {e.agent for e in sub_events} == {"researcher"}
    assert {e.parent_run_id for e in sub_events} == {top}
    kinds = [e.kind for e in sub_events]
    assert kinds[0] == "run.start" and kinds[-1] == "run.end" and "tool.start" in kinds
    # the sub-run's own handler still gets its events, and only those
    assert [e.kind for e in own] == kinds and {e.run_id for e in own} == {sub}
    # the sub-run ends inside the top run's tool call
    positions = {(e.run_id, e.kind): i for i, e in enumerate(seen)}
    assert positions[(top, "tool.start")] < positions[(sub, "run.start")]
    assert positions[(sub, "run.end")] < positions[(top, "tool.end")]


@pytest.mark.anyio
async def test_a_handler_given_to_both_runs_gets_each_event_once() -> None:
    kernel = make_kernel()
    seen: list[plait.Event] = []

    @plait.tool
    async def delegate() -> str:
        """Delegate."""
        inner = await plait.arun(
            "inner", model=ScriptedModel(["inner done"]), kernel=kernel, handlers=[seen.append]
        )
        return str(inner.output)

    await plait.arun(
        "outer", model=ScriptedModel([[call("delegate", id="d1")], "outer done"]),
        tools=[delegate], kernel=kernel, handlers=[seen.append],
    )  # fmt: skip
    counts = Counter((e.run_id, e.seq) for e in seen)
    assert counts and max(counts.values()) == 1


@pytest.mark.anyio
async def test_the_stream_carries_the_tree_and_text_is_the_top_answer() -> None:
    kernel = make_kernel()
    async with plait.stream(
        "explain tides", model=_top_script(), tools=[_researcher(kernel)], kernel=kernel
    ) as s:
        events = [e async for e in s]
        result = await s.result()
    assert {e.run_id for e in events} >= {result.run_id}
    assert len({e.run_id for e in events}) == 2
    sub_text = [e for e in events if e.kind == "text.delta" and e.run_id != result.run_id]
    assert sub_text, "the sub-run's deltas are in the stream"
    async with plait.stream(
        "explain tides", model=_top_script(), tools=[_researcher(kernel)], kernel=kernel
    ) as s2:
        text = "".join([t async for t in s2.text()])
    assert text == "the tides are notes"


@pytest.mark.anyio
async def test_an_unwatched_run_builds_no_events_for_its_sub_runs() -> None:
    """Nobody watches the top run: the sub-run has no sink either (nothing is paid)."""
    kernel = make_kernel()
    sinks: list[int] = []

    @plait.tool
    async def delegate() -> str:
        """Delegate."""
        async with plait.stream("inner", model=ScriptedModel(["x"]), kernel=kernel) as s:
            async for _ in s:
                pass
            return str((await s.result()).output)

    @plait.tool
    async def quiet() -> str:
        """Run a sub-run nobody watches and report its sinks."""
        from plait._run._loop import CURRENT_RUN

        parent = CURRENT_RUN.get()
        assert parent is not None
        sinks.append(len(parent.emitter.sinks))
        return "ok"

    await plait.arun(
        "outer", model=ScriptedModel([[call("quiet", id="q1")], "done"]),
        tools=[quiet, delegate], kernel=kernel,
    )  # fmt: skip
    assert sinks == [0]
