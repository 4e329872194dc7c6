"""Limits shared with sub-runs: an agent that calls agents stays within the top-level budgets."""

from __future__ import annotations

from typing import Any

import pytest

import plait
from plait import LimitExceeded, Limits
from plait._kernel import Kernel
from plait.testing import FunctionModel, ScriptedModel, call


def _forever(name: str, counter: list[int]) -> FunctionModel:
    """A model that calls ``name`` on every turn and never finishes."""

    def fn(messages: list[Any], params: Any) -> Any:
        counter.append(1)
        return call(name, x=len(counter))

    return FunctionModel(fn)


def noop(x: int = 0) -> str:
    """Does nothing."""
    return "ok"


def test_a_sub_agent_in_a_loop_stops_at_the_top_level_turn_limit(kernel: Kernel) -> None:
    sub_requests: list[int] = []
    top_requests: list[int] = []

    async def ask_helper(x: int = 0) -> str:
        """Ask the helper agent."""
        result = await plait.arun(
            "help", model=_forever("noop", sub_requests), tools=[noop], kernel=kernel
        )
        return str(result.output)

    with pytest.raises(LimitExceeded) as info:
        plait.run(
            "go",
            model=_forever("ask_helper", top_requests),
            tools=[ask_helper],
            kernel=kernel,
            limits=Limits(turns=6, tool_retries=10),
        )
    result = info.value.result
    assert result is not None and result.stop_reason == "limit:turns"
    # without sharing, the one sub-run alone would take its own 50 turns
    assert len(top_requests) + len(sub_requests) == 6
    assert result.usage.requests == 6  # sub-runs' usage is counted into the parent's


@pytest.mark.parametrize("on_limit", ["partial", "final_answer"])
def test_on_limit_of_the_top_level_run_decides(kernel: Kernel, on_limit: Any) -> None:
    sub_requests: list[int] = []

    async def ask_helper(x: int = 0) -> str:
        """Ask the helper agent."""
        result = await plait.arun(
            "help", model=_forever("noop", sub_requests), tools=[noop], kernel=kernel
        )
        return str(result.output)

    top = ScriptedModel([call("ask_helper"), "wrapped up"])
    result = plait.run(
        "go",
        model=top,
        tools=[ask_helper],
        kernel=kernel,
        limits=Limits(turns=4),
        on_limit=on_limit,
    )
    # a final answer is accepted (success); either way the stop reason names the limit
    assert result.status == ("success" if on_limit == "final_answer" else "incomplete")
    assert result.stop_reason == "limit:turns"
    assert len(sub_requests) == 3  # 1 turn of the parent + 3 of the sub-run
    assert (result.output == "wrapped up") is (on_limit == "final_answer")


def test_sub_runs_draw_from_the_parents_token_budget(kernel: Kernel) -> None:
    sub_requests: list[int] = []

    async def ask_helper(x: int = 0) -> str:
        """Ask the helper agent."""
        await plait.arun("help", model=_forever("noop", sub_requests), tools=[noop], kernel=kernel)
        return "unreachable"

    with pytest.raises(LimitExceeded) as info:
        plait.run(
            "go",
            model=ScriptedModel([call("ask_helper")] * 5),
            tools=[ask_helper],
            kernel=kernel,
            limits=Limits(total_tokens=60),
        )
    result = info.value.result
    assert result is not None and result.stop_reason == "limit:total_tokens"
    assert 60 < result.usage.total_tokens <= 60 + 15  # stopped at the first request over
    assert len(sub_requests) < 5


def test_sub_runs_draw_from_the_parents_tool_call_budget(kernel: Kernel) -> None:
    sub_requests: list[int] = []
    runs: list[int] = []

    async def ask_helper(x: int = 0) -> str:
        """Ask the helper agent."""
        runs.append(1)
        await plait.arun("help", model=_forever("noop", sub_requests), tools=[noop], kernel=kernel)
        return "unreachable"

    with pytest.raises(LimitExceeded) as info:
        plait.run(
            "go",
            model=ScriptedModel([call("ask_helper")] * 5),
            tools=[ask_helper],
            kernel=kernel,
            limits=Limits(tool_calls=5),
        )
    result = info.value.result
    assert result is not None and result.stop_reason == "limit:tool_calls"
    assert result.usage.tool_calls == 5  # ask_helper once + four noop calls of the sub-run
    assert runs == [1]


def test_usage_of_a_sub_run_is_part_of_the_parents(kernel: Kernel) -> None:
    async def ask_helper(x: int = 0) -> str:
        """Ask the helper agent."""
        sub = ScriptedModel([call("noop"), "42"])
        result = await plait.arun("help", model=sub, tools=[noop], kernel=kernel)
        assert result.usage.requests == 2 and result.usage.tool_calls == 1
        return str(result.output)

    top = ScriptedModel([call("ask_helper"), "the helper said 42"])
    result = plait.run("go", model=top, tools=[ask_helper], kernel=kernel)
    assert result.output == "the helper said 42"
    assert result.turns == 2  # its own turns
    assert result.usage.requests == 4  # 2 own + 2 of the sub-run
    assert result.usage.tool_calls == 2  # ask_helper + the sub-run's noop


def test_a_sync_tool_running_a_sub_agent_shares_the_budget(kernel: Kernel) -> None:
    sub_requests: list[int] = []

    def ask_helper(x: int = 0) -> str:
        """Ask the helper agent (from a worker thread)."""
        result = plait.run(
            "help", model=_forever("noop", sub_requests), tools=[noop], kernel=kernel
        )
        return str(result.output)

    with pytest.raises(LimitExceeded):
        plait.run(
            "go",
            model=ScriptedModel([call("ask_helper")] * 5),
            tools=[ask_helper],
            kernel=kernel,
            limits=Limits(turns=5),
        )
    assert len(sub_requests) == 4


def test_a_tool_agent_tool_loop_ends_in_a_defined_way(kernel: Kernel) -> None:
    requests: list[int] = []

    async def delegate(x: int = 0) -> str:
        """Hand the task to another agent, which may delegate again."""
        result = await plait.arun(
            "help", model=_forever("delegate", requests), tools=[delegate], kernel=kernel
        )
        return str(result.output)

    with pytest.raises(LimitExceeded) as info:
        plait.run(
            "go",
            model=_forever("delegate", requests),
            tools=[delegate],
            kernel=kernel,
            limits=Limits(turns=20),
        )
    result = info.value.result
    assert result is not None and result.stop_reason == "limit:turns"
    assert len(requests) <= 20  # every level's turns count against the top-level limit


# --- Limits.verifier_retries: the verifiers' own budget ---------------------------------


@pytest.mark.parametrize(
    ("limits", "verifications"), [(Limits(), 3), (Limits(verifier_retries=0), 1)]
)
def test_verifier_retries_is_the_verifiers_own_budget(
    kernel: Kernel, limits: Limits, verifications: int
) -> None:
    assert Limits().verifier_retries == 2

    def never(completion: Any) -> str:
        return "not good enough"

    model = ScriptedModel(["an answer"] * 5)
    result = plait.run(
        "x",
        model=model,
        verifiers=[never],
        kernel=kernel,
        raise_on_failure=False,
        limits=limits.model_copy(update={"output_retries": 0}),  # independent of this one
    )
    assert (result.status, result.stop_reason) == ("failed", "verifier")
    assert len(result.verdicts) == verifications == len(model.requests)
