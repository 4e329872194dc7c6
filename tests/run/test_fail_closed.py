"""Guardrails and verifiers fail closed, whatever made them (docs/guardrails.md).

* sync checks run off the event loop, so their timeout fires and a late answer is
  discarded (a block / a failed verdict);
* an answer outside the contract blocks / fails, naming the type it returned;
* a check gets its own copy of what it checks: only ``replace`` changes it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import anyio
import pytest
from pydantic import BaseModel, ConfigDict

import plait
from plait import Completion, Decision, Verdict
from plait._context import Context
from plait._kernel import Kernel
from plait._run._checks import private_copy, run_guardrails
from plait.testing import ScriptedModel, Turn, call, complete

SLOW = 1.0  # seconds a blocking check sleeps
TIMEOUT = 0.1  # its timeout
PROMPT = 0.7  # a run that honours the timeout ends well before the check would


# --- 1. sync checks run off the event loop; their timeout fires ---------------------------


def test_a_blocking_sync_guardrail_times_out_and_blocks(kernel: Kernel) -> None:
    @plait.guardrail(stage="output", timeout=TIMEOUT)
    def slow(text: str) -> bool:
        time.sleep(SLOW)
        return True  # the late "allow" must not count

    start = time.perf_counter()
    result = plait.run(
        "x", model=ScriptedModel(["hi"]), guardrails=[slow], kernel=kernel, raise_on_failure=False
    )
    assert time.perf_counter() - start < PROMPT
    assert result.status == "blocked" and result.output is None
    assert result.guardrails[-1].error == "timed out"


def test_a_guardrail_object_with_a_sync_check_times_out_and_blocks(kernel: Kernel) -> None:
    class Slow:
        name, stage, timeout = "slow", "input", TIMEOUT

        def check(self, subject: Any, ctx: Any) -> Decision:
            time.sleep(SLOW)
            return Decision(action="allow")

    start = time.perf_counter()
    result = plait.run(
        "x", model=ScriptedModel(["hi"]), guardrails=[Slow()], kernel=kernel, raise_on_failure=False
    )
    assert time.perf_counter() - start < PROMPT
    assert result.status == "blocked"
    assert result.guardrails[0].error == "timed out" and result.guardrails[0].guardrail == "slow"


def test_a_blocking_sync_verifier_times_out_and_fails(kernel: Kernel) -> None:
    @plait.verifier(timeout=TIMEOUT)
    def slow(c: Completion) -> bool:
        time.sleep(SLOW)
        return True

    class SlowObject:
        name, timeout = "slow_object", TIMEOUT

        def verify(self, completion: Completion, ctx: Any) -> Verdict:
            time.sleep(SLOW)
            return Verdict(passed=True)

    start = time.perf_counter()
    result = plait.run(
        "x",
        model=ScriptedModel([complete(result=1)]),
        output=int,
        verifiers=[slow, SlowObject()],
        kernel=kernel,
        raise_on_failure=False,
        limits=plait.Limits(verifier_retries=0),
    )
    assert time.perf_counter() - start < PROMPT
    assert result.status == "failed" and result.stop_reason == "verifier"
    assert [v.error for v in result.verdicts] == ["timed out", "timed out"]


@pytest.mark.anyio
async def test_a_blocking_sync_guardrail_does_not_stall_other_runs(kernel: Kernel) -> None:
    @plait.guardrail(timeout=TIMEOUT)
    def slow(text: str) -> bool:
        time.sleep(SLOW)
        return True

    took: dict[str, float] = {}

    async def plain() -> None:
        start = time.perf_counter()
        await plait.arun("y", model=ScriptedModel([Turn(text="ok", delay=0.2)]), kernel=kernel)
        took["plain"] = time.perf_counter() - start

    async def guarded() -> None:
        await anyio.sleep(0.05)  # the plain run is waiting for its model by now
        await plait.arun(
            "x", model=ScriptedModel(["hi"]), guardrails=[slow], kernel=kernel,
            raise_on_failure=False,
        )  # fmt: skip

    async with anyio.create_task_group() as tg:
        tg.start_soon(plain)
        tg.start_soon(guarded)
    assert took["plain"] < 0.2 + 0.3  # was ~SLOW: the check held the event loop


@pytest.mark.anyio
async def test_an_async_check_that_swallows_its_timeout_gets_no_late_allow(
    kernel: Kernel,
) -> None:
    @plait.guardrail(stage="output", timeout=TIMEOUT)
    async def stubborn(text: str) -> bool:
        try:
            await anyio.sleep(SLOW)
        except anyio.get_cancelled_exc_class():
            pass  # swallows the cancellation, then answers late
        return True

    @plait.verifier(timeout=TIMEOUT)
    async def hog(c: Completion) -> bool:
        time.sleep(2 * TIMEOUT)  # noqa: ASYNC251 - blocks the loop past its deadline
        return True

    result = await plait.arun(
        "x", model=ScriptedModel(["hi"]), guardrails=[stubborn], kernel=kernel,
        raise_on_failure=False,
    )  # fmt: skip
    assert result.status == "blocked" and result.guardrails[0].error == "timed out"
    result = await plait.arun(
        "x", model=ScriptedModel(["hi"]), verifiers=[hog], kernel=kernel,
        raise_on_failure=False, limits=plait.Limits(verifier_retries=0),
    )  # fmt: skip
    assert result.status == "failed" and result.verdicts[0].error == "timed out"


def test_sync_checks_still_decide_when_fast(kernel: Kernel) -> None:
    seen: list[str] = []

    def note(text: str) -> bool:
        seen.append(text)
        return True

    class Object:
        name, stage = "object", "output"

        def check(self, subject: Any, ctx: Any) -> Decision:
            return Decision(action="replace", replacement=subject.upper())

    result = plait.run("x", model=ScriptedModel(["hi"]), guardrails=[note, Object()], kernel=kernel)
    assert seen == ["x"] and result.output == "HI"


# --- 2. an answer outside the contract blocks / fails --------------------------------------


class _Returns:
    """A guardrail object whose ``check`` returns ``value``."""

    name, stage = "odd", "output"

    def __init__(self, value: Any) -> None:
        self.value = value

    async def check(self, subject: Any, ctx: Any) -> Any:
        return self.value


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (None, "NoneType, not a Decision"),
        (True, "bool, not a Decision"),
        ("sk-secret-value", "str, not a Decision"),
        ({"action": "allow"}, "dict, not a Decision"),
        (
            Decision.model_construct(action="maybe"),
            "a Decision with an action outside the contract",
        ),
        (Decision(action="replace"), "a replace Decision without a replacement"),
    ],
)
def test_a_guardrail_object_answering_outside_the_contract_blocks(
    kernel: Kernel, value: Any, what: str
) -> None:
    result = plait.run(
        "x",
        model=ScriptedModel(["the answer"]),
        guardrails=[_Returns(value)],
        kernel=kernel,
        raise_on_failure=False,
    )
    assert result.status == "blocked" and result.output is None
    decision = result.guardrails[-1]
    assert decision.action == "block" and decision.error == "bad return value"
    assert decision.reason == f"guardrail 'odd' returned {what}"
    assert "sk-secret" not in (decision.reason or "")  # the type, never the value


@pytest.mark.parametrize(
    ("value", "what"),
    [
        (None, "NoneType, not a Verdict"),
        (True, "bool, not a Verdict"),
        ("fine", "str, not a Verdict"),
        (Verdict.model_construct(passed="yes"), "a Verdict whose passed is not a bool"),
    ],
)
def test_a_verifier_object_answering_outside_the_contract_fails(
    kernel: Kernel, value: Any, what: str
) -> None:
    class Odd:
        name = "odd"

        async def verify(self, completion: Completion, ctx: Any) -> Any:
            return value

    result = plait.run(
        "x",
        model=ScriptedModel([complete(result=1)]),
        output=int,
        verifiers=[Odd()],
        kernel=kernel,
        raise_on_failure=False,
        limits=plait.Limits(verifier_retries=0),
    )
    assert result.status == "failed" and result.verified is False
    verdict = result.verdicts[0]
    assert not verdict.passed and verdict.error == "bad return value"
    assert verdict.reason == f"verifier 'odd' returned {what}"


def test_plain_functions_keep_their_own_contract(kernel: Kernel) -> None:
    """``None``/``True`` allow or pass, ``False``/a string block or fail: documented."""
    result = plait.run(
        "x",
        model=ScriptedModel(["ok"]),
        guardrails=[lambda t: None, plait.guardrail(stage="output")(lambda o: True)],
        verifiers=[lambda c: None],
        kernel=kernel,
    )
    assert result.status == "success" and result.verified is True
    bad = plait.guardrail(stage="output")(lambda o: 3)
    blocked = plait.run(
        "x", model=ScriptedModel(["ok"]), guardrails=[bad], kernel=kernel, raise_on_failure=False
    )
    assert blocked.status == "blocked"
    assert blocked.guardrails[0].reason == "guardrail '<lambda>' returned int, not a decision"


# --- 3. a check sees a copy: only replace changes what it checks ---------------------------


def test_an_output_guardrail_that_edits_in_place_does_not_change_the_output(
    kernel: Kernel,
) -> None:
    @plait.guardrail(stage="output")
    def meddle(out: list[str]) -> bool:
        out.append("injected")
        return True

    @plait.guardrail(stage="output")
    def look(out: list[str]) -> bool:
        return out == ["a", "b"]  # the next guardrail sees the output as it was

    model = ScriptedModel([complete(result=["a", "b"])])
    result = plait.run("x", model=model, output=list[str], guardrails=[meddle, look], kernel=kernel)
    assert result.output == ["a", "b"] and result.completion is not None
    assert result.completion.result == ["a", "b"]


def test_a_verifier_that_edits_the_completion_changes_nothing(kernel: Kernel) -> None:
    def meddle(c: Completion) -> bool:
        c.result["value"] = 666
        c.evidence.append("forged")
        return True

    model = ScriptedModel([complete(result={"value": 1})])
    result = plait.run("x", model=model, output=dict[str, int], verifiers=[meddle], kernel=kernel)
    assert result.output == {"value": 1}
    assert result.completion is not None and result.completion.evidence == []


def test_a_tool_call_guardrail_that_edits_the_call_changes_nothing(kernel: Kernel) -> None:
    ran: list[int] = []

    def pay(amount: int) -> str:
        """Pay."""
        ran.append(amount)
        return "paid"

    @plait.guardrail(stage="tool_call")
    def meddle(tc: plait.ToolCall) -> bool:
        tc.arguments = '{"amount": 1000000}'
        return True

    model = ScriptedModel([call("pay", amount=5), "ok"])
    result = plait.run("x", model=model, tools=[pay], guardrails=[meddle], kernel=kernel)
    assert ran == [5] and result.messages[1].tool_calls[0].arguments == '{"amount": 5}'


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)
    name: str
    tags: tuple[str, ...] = ()


class _FrozenHoldingList(BaseModel):
    model_config = ConfigDict(frozen=True)
    items: list[int]


@dataclass(frozen=True)
class _Point:
    x: int
    y: int


def test_immutable_subjects_are_not_copied() -> None:
    for value in ("text", 3, 2.5, None, (1, "a"), _Frozen(name="n", tags=("t",)), _Point(1, 2)):
        assert private_copy(value) is value
    for value in ([1], {"a": [1]}, _FrozenHoldingList(items=[1]), Completion(result=1)):
        copied = private_copy(value)
        assert copied is not value and copied == value


@pytest.mark.anyio
async def test_an_uncopyable_subject_blocks() -> None:
    class Uncopyable:
        def __deepcopy__(self, memo: Any) -> Any:
            raise TypeError("no")

    called: list[object] = []

    def look(out: Any) -> bool:
        called.append(out)
        return True

    guard = plait.guardrail(stage="output")(look)
    action, _, decisions = await run_guardrails(
        [guard], "output", Uncopyable(), Context(run_id="r")
    )
    assert action == "block" and called == []
    assert decisions[0].error == "uncopyable"
    assert (
        decisions[0].reason
        == "guardrail 'look' could not be given a copy of its subject (TypeError)"
    )


def test_a_blocked_output_reaches_no_field_of_the_result(kernel: Kernel) -> None:
    @plait.guardrail(stage="output", name="no-secrets")
    def no_secrets(out: Any) -> plait.Decision:
        return plait.Decision(action="block", reason="it holds a secret")

    model = ScriptedModel([complete(result="the code is 1234")])
    result = plait.run(
        "x", model=model, guardrails=[no_secrets], kernel=kernel, raise_on_failure=False,
        require_completion=True,
    )  # fmt: skip
    assert (result.status, result.output, result.completion) == ("blocked", None, None)
    assert result.error == "guardrail 'no-secrets' blocked the output: it holds a secret"
