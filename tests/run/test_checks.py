"""Verifiers and guardrails: feedback loops, fail-closed crashes, every decision kept."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import plait
from plait import Completion, Decision, Verdict, hookimpl
from plait._kernel import Kernel
from plait.testing import ScriptedModel, Turn, call, complete, make_kernel

# --- verifiers ---------------------------------------------------------------------------


def test_failing_verdict_is_fed_back_then_passes(kernel: Kernel) -> None:
    def positive(c: Completion) -> bool | str:
        return True if c.result > 0 else "the result must be positive"

    model = ScriptedModel([complete(result=-1), complete(result=2)])
    result = plait.run("x", model=model, output=int, verifiers=[positive], kernel=kernel)
    assert result.output == 2 and result.verified is True
    assert [v.passed for v in result.verdicts] == [False, True]
    assert "must be positive" in model.requests[1].messages[-1].content


def test_verifier_on_plain_answers(kernel: Kernel) -> None:
    async def mentions_paris(c: Completion, ctx: plait.Context) -> bool:
        return "Paris" in c.result

    model = ScriptedModel(["London", "Paris"])
    result = plait.run("x", model=model, verifiers=[mentions_paris], kernel=kernel)
    assert result.output == "Paris" and result.verified


def test_raising_verifier_fails_closed(kernel: Kernel) -> None:
    def crash(c: Completion) -> bool:
        raise RuntimeError("secret")

    model = ScriptedModel([complete(result=1)] * 5)
    result = plait.run(
        "x",
        model=model,
        output=int,
        verifiers=[crash],
        kernel=kernel,
        raise_on_failure=False,
        limits=plait.Limits(verifier_retries=1),
    )
    assert result.status == "failed" and result.stop_reason == "verifier"
    assert result.verified is False
    assert all(not v.passed and v.error for v in result.verdicts)
    assert len(result.verdicts) == 2  # first try + one retry (own budget)


def test_slow_verifier_times_out_closed(kernel: Kernel) -> None:
    @plait.verifier(timeout=0.05)
    async def slow(c: Completion) -> bool:
        await anyio.sleep(5)
        return True

    result = plait.run(
        "x",
        model=ScriptedModel([complete(result=1)] * 5),
        output=int,
        verifiers=[slow],
        kernel=kernel,
        raise_on_failure=False,
        limits=plait.Limits(output_retries=0),
    )
    assert result.verdicts[0].error == "timed out"


def test_verifier_objects_and_plugins_by_name() -> None:
    class Strict:
        name = "strict"

        async def verify(self, completion: Completion, ctx: Any) -> Verdict:
            return Verdict(passed=completion.result == 42, reason="want 42")

    class Plugin:
        @hookimpl
        def plait_register_verifiers(self) -> list[Any]:
            return [Strict()]

    kernel = make_kernel(Plugin())
    model = ScriptedModel([complete(result=1), complete(result=42)])
    result = plait.run("x", model=model, output=int, verifiers=["strict"], kernel=kernel)
    assert result.output == 42
    assert [(v.verifier, v.passed) for v in result.verdicts] == [
        ("strict", False),
        ("strict", True),
    ]


# --- guardrails --------------------------------------------------------------------------


def no_secrets(text: str) -> bool | str:
    return "no secrets please" if "password" in text else True


def test_input_block_raises_with_every_decision(kernel: Kernel) -> None:
    with pytest.raises(plait.GuardrailTripped) as info:
        plait.run(
            "my password is x", model=ScriptedModel(["ok"]), guardrails=[no_secrets], kernel=kernel
        )
    result = info.value.result
    assert result.status == "blocked" and result.stop_reason == "guardrail"
    (decision,) = result.guardrails
    assert (decision.action, decision.stage, decision.guardrail) == ("block", "input", "no_secrets")
    assert decision.reason == "no secrets please"


def test_block_without_raising(kernel: Kernel) -> None:
    result = plait.run(
        "password",
        model=ScriptedModel(["ok"]),
        guardrails=[no_secrets],
        kernel=kernel,
        raise_on_failure=False,
    )
    assert result.status == "blocked" and result.output is None


def test_allow_passes_and_is_recorded(kernel: Kernel) -> None:
    result = plait.run("hello", model=ScriptedModel(["ok"]), guardrails=[no_secrets], kernel=kernel)
    assert result.output == "ok" and result.guardrails[0].action == "allow"


@pytest.mark.parametrize("kind", ["raise", "timeout"])
def test_crashing_or_hanging_guardrail_blocks(kernel: Kernel, kind: str) -> None:
    @plait.guardrail(timeout=0.05)
    async def broken(text: str) -> bool:
        if kind == "raise":
            raise RuntimeError("bug")
        await anyio.sleep(5)
        return True

    result = plait.run(
        "x", model=ScriptedModel(["ok"]), guardrails=[broken], kernel=kernel, raise_on_failure=False
    )
    assert result.status == "blocked"
    assert result.guardrails[0].error == ("raised RuntimeError" if kind == "raise" else "timed out")


def test_first_turn_tools_wait_for_parallel_input_guardrails(kernel: Kernel) -> None:
    ran: list[str] = []

    def act() -> str:
        """Side effect."""
        ran.append("act")
        return "done"

    @plait.guardrail
    async def slow_block(text: str) -> bool:
        await anyio.sleep(0.1)  # the model answers long before this
        return False

    model = ScriptedModel([call("act"), "ok"])
    result = plait.run(
        "x",
        model=model,
        tools=[act],
        guardrails=[slow_block],
        kernel=kernel,
        raise_on_failure=False,
    )
    assert result.status == "blocked"
    assert ran == []
    # the request went out in parallel with the guardrail
    assert len(model.requests) == 1


def test_redacting_input_guardrail_before_the_model(kernel: Kernel) -> None:
    @plait.guardrail(parallel=False)
    def redact(text: str) -> Decision:
        return Decision(action="redact", replacement=text.replace("4111", "####"))

    model = ScriptedModel(["ok"])
    plait.run("card 4111", model=model, guardrails=[redact], kernel=kernel)
    assert model.requests[0].messages[-1].content == "card ####"
    assert len(model.requests) == 1


def test_parallel_replacement_discards_the_first_answer(kernel: Kernel) -> None:
    def replace(text: str) -> Decision:
        return Decision(action="replace", replacement="clean")

    model = ScriptedModel(["first", "second"])
    result = plait.run("dirty", model=model, guardrails=[replace], kernel=kernel)
    assert result.output == "second"
    assert model.requests[-1].messages[-1].content == "clean"
    assert [m.content for m in result.messages if m.role == "user"] == ["clean"]


def test_output_guardrail_replace_and_retry(kernel: Kernel) -> None:
    @plait.guardrail(stage="output")
    def polite(text: str) -> Decision:
        if "stupid" in text:
            return Decision(action="retry", reason="be polite")
        return Decision(action="replace", replacement=text.upper())

    model = ScriptedModel(["stupid question", "good question"])
    result = plait.run("x", model=model, guardrails=[polite], kernel=kernel)
    assert result.output == "GOOD QUESTION"
    assert "be polite" in model.requests[1].messages[-1].content
    assert [d.action for d in result.guardrails] == ["retry", "replace"]


def test_output_guardrail_block(kernel: Kernel) -> None:
    block = plait.guardrail(stage="output")(lambda out: False)
    with pytest.raises(plait.GuardrailTripped):
        plait.run(
            "x",
            model=ScriptedModel([complete(result=1)]),
            output=int,
            guardrails=[block],
            kernel=kernel,
        )


def test_tool_call_guardrails(kernel: Kernel) -> None:
    ran: list[int] = []

    def pay(amount: int) -> str:
        """Pay."""
        ran.append(amount)
        return "paid"

    @plait.guardrail(stage="tool_call")
    def cap(tc: plait.ToolCall) -> Decision | bool:
        args = tc.parsed_arguments()
        if args["amount"] > 1000:
            return Decision(action="retry", reason="too much")
        if args["amount"] > 100:
            return Decision(action="replace", replacement={"amount": 100})
        return True

    model = ScriptedModel([Turn(calls=(call("pay", amount=5000), call("pay", amount=500))), "ok"])
    result = plait.run("x", model=model, tools=[pay], guardrails=[cap], kernel=kernel)
    assert ran == [100]
    assert "too much" in result.messages[2].content


def test_tool_call_block_ends_the_run_and_repairs_history(kernel: Kernel) -> None:
    block = plait.guardrail(stage="tool_call")(lambda tc: "forbidden")

    def rm() -> str:
        """Remove."""
        return "gone"

    result = plait.run(
        "x",
        model=ScriptedModel([call("rm"), "ok"]),
        tools=[rm],
        guardrails=[block],
        kernel=kernel,
        raise_on_failure=False,
    )
    assert result.status == "blocked"
    assert result.messages[-1].role == "tool" and result.messages[-1].is_error


def test_tool_result_guardrail_redacts(kernel: Kernel) -> None:
    @plait.guardrail(stage="tool_result")
    def scrub(text: str) -> Decision:
        return Decision(action="redact")

    def read() -> str:
        """Read a file."""
        return "api_key=abc"

    model = ScriptedModel([call("read"), "ok"])
    result = plait.run("x", model=model, tools=[read], guardrails=[scrub], kernel=kernel)
    assert result.messages[2].content == "[redacted]"
    assert "abc" not in model.requests[1].messages[-1].content


def test_guardrail_objects_from_plugins() -> None:
    class Keyword:
        name = "keyword"
        stage = "input"

        async def check(self, subject: Any, ctx: Any) -> Decision:
            return Decision(action="block" if "bomb" in subject else "allow")

    class Plugin:
        @hookimpl
        def plait_register_guardrails(self) -> list[Any]:
            return [Keyword()]

    kernel = make_kernel(Plugin())
    with pytest.raises(plait.GuardrailTripped):
        plait.run("bomb", model=ScriptedModel(["x"]), guardrails=["keyword"], kernel=kernel)


@pytest.mark.anyio
async def test_streamed_output_of_a_blocked_first_turn_is_never_shown(kernel: Kernel) -> None:
    @plait.guardrail
    async def slow_block(text: str) -> bool:
        await anyio.sleep(0.05)
        return False

    model = ScriptedModel(["secret answer"], chunk_size=3)
    async with plait.stream(
        "x", model=model, guardrails=[slow_block], kernel=kernel, raise_on_failure=False
    ) as s:
        kinds = [e.kind async for e in s]
        result = await s.result()
    assert result.status == "blocked"
    assert "text.delta" not in kinds and "guardrail" in kinds
    assert kinds == ["run.start", "guardrail", "run.end"]


@pytest.mark.anyio
async def test_events_of_an_allowed_first_turn_are_delivered_in_order(kernel: Kernel) -> None:
    model = ScriptedModel(["fine answer"], chunk_size=4)
    async with plait.stream("x", model=model, guardrails=[lambda t: True], kernel=kernel) as s:
        events = [e async for e in s]
    assert [e.seq for e in events] == list(range(len(events)))
    assert "".join(e.data["text"] for e in events if e.kind == "text.delta") == "fine answer"


@pytest.mark.parametrize("verdict", [True, False])
def test_model_error_beside_input_guardrails(kernel: Kernel, verdict: bool) -> None:
    @plait.guardrail
    async def slow(text: str) -> bool:
        await anyio.sleep(0.02)
        return verdict

    err = plait.Rejected("bad request", provider="test")
    result = plait.run(
        "x", model=ScriptedModel([err]), guardrails=[slow], kernel=kernel, raise_on_failure=False
    )
    # a block wins over the model's error; otherwise the error is the outcome
    assert result.status == ("failed" if verdict else "blocked")
    with pytest.raises(plait.Rejected if verdict else plait.GuardrailTripped):
        plait.run("x", model=ScriptedModel([err]), guardrails=[slow], kernel=kernel)


def test_a_guardrail_of_a_stage_the_loop_does_not_run_is_refused(kernel: Kernel) -> None:
    """A guardrail that would never run must not look active (guardrails fail closed)."""

    class Odd:
        name = "odd"
        stage = "everywhere"

        async def check(self, subject: Any, ctx: Any) -> Decision:
            return Decision()

    model = ScriptedModel(["never asked"])
    with pytest.raises(ValueError, match="stage 'everywhere'"):
        plait.run("x", model=model, guardrails=[Odd()], kernel=kernel)
    assert model.requests == []
    # every stage of the contract runs, ``stream`` included (tests/run/test_stream_guardrails.py)
    watch = plait.guardrail(stage="stream")(lambda text: True)
    assert plait.run("x", model=model, guardrails=[watch], kernel=kernel).output == "never asked"
