"""Limits: turns (and max_turns), tool calls, tokens, seconds; on_limit raise/partial/final."""

from __future__ import annotations

import time

import anyio
import pytest

import plait
from plait import Limits, Usage
from plait._kernel import Kernel
from plait.testing import FunctionModel, ScriptedModel, Turn, call, complete


def ping() -> str:
    """Ping."""
    return "pong"


def looping(n: int = 20) -> ScriptedModel:
    return ScriptedModel([call("ping")] * n)


def test_turn_limit_raises_with_the_partial_result(kernel: Kernel) -> None:
    with pytest.raises(plait.LimitExceeded) as info:
        plait.run("x", model=looping(), tools=[ping], limits=Limits(turns=3), kernel=kernel)
    result = info.value.result
    assert result.status == "incomplete" and result.stop_reason == "limit:turns"
    assert result.turns == 3 and result.usage.tool_calls == 3


def test_max_turns_shorthand(kernel: Kernel) -> None:
    result = plait.run(
        "x", model=looping(), tools=[ping], max_turns=2, on_limit="partial", kernel=kernel
    )
    assert result.turns == 2 and result.status == "incomplete"


def test_partial_returns_the_last_text(kernel: Kernel) -> None:
    model = ScriptedModel([Turn(text="thinking so far", calls=(call("ping"),))] * 5)
    result = plait.run(
        "x", model=model, tools=[ping], max_turns=1, on_limit="partial", kernel=kernel
    )
    assert result.output == "thinking so far"


def test_final_answer_asks_once_without_tools(kernel: Kernel) -> None:
    model = ScriptedModel([call("ping"), call("ping"), "my best answer"])
    result = plait.run(
        "x", model=model, tools=[ping], max_turns=2, on_limit="final_answer", kernel=kernel
    )
    assert result.output == "my best answer" and result.status == "success"
    assert result.stop_reason == "limit:turns"
    last = model.requests[-1]
    assert last.params.tools == ()
    assert "limit" in last.messages[-1].content


def test_final_answer_with_structured_output_offers_only_complete(kernel: Kernel) -> None:
    model = ScriptedModel([call("ping"), complete(result=7)])
    result = plait.run(
        "x",
        model=model,
        tools=[ping],
        output=int,
        max_turns=1,
        on_limit="final_answer",
        kernel=kernel,
    )
    assert result.output == 7
    assert [t.name for t in model.requests[-1].params.tools] == ["complete"]


def test_final_answer_that_keeps_calling_tools_is_incomplete(kernel: Kernel) -> None:
    result = plait.run(
        "x",
        model=looping(),
        tools=[ping],
        max_turns=1,
        on_limit="final_answer",
        kernel=kernel,
        raise_on_failure=False,
    )
    assert result.status == "incomplete" and result.turns == 2
    assert result.messages[-1].role == "tool"  # history stays well-formed


def test_tool_call_limit(kernel: Kernel) -> None:
    model = ScriptedModel(
        [Turn(calls=(call("ping"), call("ping"))), Turn(calls=(call("ping"), call("ping")))]
    )
    result = plait.run(
        "x",
        model=model,
        tools=[ping],
        limits=Limits(tool_calls=3),
        on_limit="partial",
        kernel=kernel,
    )
    assert result.stop_reason == "limit:tool_calls"
    assert result.usage.tool_calls == 2
    tool_results = [m for m in result.messages if m.role == "tool"]
    assert len(tool_results) == 4 and tool_results[-1].is_error  # not run, but answered


@pytest.mark.parametrize(
    ("limit", "field"),
    [
        (Limits(input_tokens=150), "input_tokens"),
        (Limits(output_tokens=15), "output_tokens"),
        (Limits(total_tokens=160), "total_tokens"),
    ],
)
def test_token_limits(kernel: Kernel, limit: Limits, field: str) -> None:
    turn = Turn(calls=(call("ping"),), usage=Usage(requests=1, input_tokens=100, output_tokens=10))
    result = plait.run(
        "x",
        model=ScriptedModel([turn] * 5),
        tools=[ping],
        limits=limit,
        on_limit="partial",
        kernel=kernel,
    )
    assert result.stop_reason == f"limit:{field}" and result.turns == 2


def test_wall_clock_limit(kernel: Kernel) -> None:
    async def slow(messages: list[plait.Message], params: plait.RequestParams) -> Turn:
        await anyio.sleep(10)
        return Turn(text="late")

    start = time.perf_counter()
    result = plait.run(
        "x",
        model=FunctionModel(slow),
        limits=Limits(seconds=0.1),
        on_limit="partial",
        kernel=kernel,
    )
    assert time.perf_counter() - start < 5
    assert result.status == "incomplete" and result.stop_reason == "limit:seconds"


def test_limit_event_is_emitted(kernel: Kernel) -> None:
    events: list[plait.Event] = []
    plait.run(
        "x",
        model=looping(),
        tools=[ping],
        max_turns=1,
        on_limit="partial",
        handlers=[events.append],
        kernel=kernel,
    )
    (limit,) = [e for e in events if e.kind == "limit"]
    assert limit.data == {"limit": "turns", "on_limit": "partial"}
