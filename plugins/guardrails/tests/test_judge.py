"""The model-graded guardrail: verdicts, and failing closed on every kind of failure."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import plait
from plait import Context, Kernel, ToolCall, Unavailable
from plait.testing import ScriptedModel, Turn, complete, make_kernel
from plait_guardrails import JudgeGuardrail, JudgeSettings

pytestmark = pytest.mark.anyio
CTX: Context[Any] = Context(run_id="judge-test")


def judge(*turns: Any, **settings: Any) -> tuple[JudgeGuardrail, ScriptedModel]:
    model = ScriptedModel(list(turns))
    guard = JudgeGuardrail(
        stage="output", settings=JudgeSettings(**settings), model=model, kernel=make_kernel()
    )
    return guard, model


async def test_an_allowing_verdict_allows() -> None:
    guard, model = judge(complete({"allowed": True, "reason": "fine"}))
    decision = await guard.check("Paris is in France.", CTX)
    assert decision.action == "allow"
    task = model.requests[0].messages[-1].content
    assert "Paris is in France." in task and task.startswith("<<<CONTENT ")


async def test_a_refusing_verdict_blocks_with_the_judges_reason() -> None:
    guard, _ = judge(complete({"allowed": False, "reason": "threatens a person"}))
    decision = await guard.check("...", CTX)
    assert decision.action == "block" and decision.reason == "judge: threatens a person"


async def test_the_action_for_a_refusal_is_a_setting() -> None:
    guard, _ = judge(complete({"allowed": False}), action="retry")
    assert (await guard.check("...", CTX)).action == "retry"


async def test_a_raising_model_fails_closed() -> None:
    guard, _ = judge(Unavailable("judge is down", provider="test"))
    decision = await guard.check("...", CTX)
    assert decision.action == "block" and "judge failed" in (decision.reason or "")


async def test_a_slow_model_times_out_and_fails_closed() -> None:
    guard, _ = judge(Turn(delay=5.0, text="late"), timeout=0.2)
    decision = await guard.check("...", CTX)
    assert decision.action == "block" and "no verdict within 0.2s" in (decision.reason or "")


@pytest.mark.parametrize(
    "garbage",
    [
        ["yes it is fine", "still fine, trust me"],  # never calls `complete`
        [complete({"verdict": "ok"}), complete("allowed")],  # never a valid JudgeVerdict
    ],
)
async def test_an_unparseable_answer_fails_closed(garbage: list[Any]) -> None:
    guard, _ = judge(*garbage)
    decision = await guard.check("...", CTX)
    assert decision.action == "block" and "no valid verdict" in (decision.reason or "")


async def test_content_over_max_chars_is_blocked_without_asking() -> None:
    guard, model = judge(complete({"allowed": True}), max_chars=10)
    decision = await guard.check("x" * 11, CTX)
    assert decision.action == "block" and model.requests == []


async def test_a_tool_call_is_shown_to_the_judge() -> None:
    guard, model = judge(complete({"allowed": True}))
    call = ToolCall(id="1", name="wire_money", arguments='{"amount": 10}')
    await guard.check(call, CTX)
    assert "wire_money" in model.requests[0].messages[-1].content


async def test_an_unknown_model_name_fails_closed() -> None:
    guard = JudgeGuardrail(
        stage="input", settings=JudgeSettings(model="nowhere:model"), kernel=make_kernel()
    )
    decision = await guard.check("hello", CTX)
    assert decision.action == "block" and "judge failed" in (decision.reason or "")


def test_the_judge_guards_a_run_by_name(guard_kernel: Callable[..., Kernel]) -> None:
    """The registered ``judge.output`` asks the default model; a judge with a scripted
    model, passed in code, blocks the run it guards."""
    kernel = guard_kernel()
    guard = kernel.guardrails()["judge.output"]
    assert isinstance(guard, JudgeGuardrail) and guard.model is None  # default model
    refusing = JudgeGuardrail(
        stage="output",
        model=ScriptedModel([complete({"allowed": False, "reason": "off-topic"})]),
        kernel=make_kernel(),
    )
    result = plait.run(
        "x", model=ScriptedModel(["some answer"]), guardrails=[refusing], kernel=kernel,
        raise_on_failure=False,
    )  # fmt: skip
    assert result.status == "blocked" and result.guardrails[-1].reason == "judge: off-topic"


async def test_the_judge_does_not_judge_its_own_run(monkeypatch: pytest.MonkeyPatch) -> None:
    """A stack that gives every run the judge must not make the judge's run recurse."""
    inner = JudgeGuardrail(stage="input", model=ScriptedModel([]), kernel=make_kernel())

    def grade(messages: list[Any], params: Any) -> Any:
        return complete({"allowed": True})

    outer_model = plait.testing.FunctionModel(grade)
    outer = JudgeGuardrail(stage="output", model=outer_model, kernel=make_kernel())
    # the judge's run is given the (inner) judge too, as an enforced stack would
    original = plait.arun

    async def arun_with_stack(*args: Any, **kwargs: Any) -> Any:
        return await original(*args, **{**kwargs, "guardrails": [inner]})

    monkeypatch.setattr(plait, "arun", arun_with_stack)
    decision = await outer.check("hello", CTX)
    assert decision.action == "allow"  # the inner judge let its own run through
    assert len(outer_model.requests) == 1
