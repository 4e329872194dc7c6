"""Handoffs (issue 13, item 1): the OpenAI Agents SDK's triage → billing, marvin's agents=.

Written the way a user of the SDK writes it: a triage agent with ``handoffs=[billing,
plait.handoff(refunds, input_filter=..., on_handoff=...)]``; control moves to the target
within the same run — same limits, guardrails, store — and ``Result.last_agent`` says who
answered.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import plait
from plait import Message, ToolResultMessage
from plait.testing import ScriptedModel, Turn, call, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _agents(kernel: plait.Kernel, log: list[str], **handoff: Any) -> plait.Agent[str]:
    @plait.tool
    def refund(amount: int) -> str:
        """Refund an amount."""
        log.append(f"refund {amount}")
        return f"refunded {amount}"

    @plait.tool
    def lookup_order(order: str) -> str:
        """Find an order."""
        log.append(f"lookup {order}")
        return f"order {order}: 5 EUR"

    billing = plait.Agent(
        "billing", instructions="You handle billing.", tools=[refund], kernel=kernel
    )
    target = plait.handoff(billing, **handoff) if handoff else billing
    return plait.Agent(
        "triage",
        instructions="Route the customer.",
        tools=[lookup_order],
        handoffs=[target],
        kernel=kernel,
    )


def _script() -> ScriptedModel:
    return ScriptedModel(
        [
            [call("lookup_order", order="A1", id="l1")],
            [call("transfer_to_billing", id="h1")],
            [call("refund", amount=5, id="r1")],
            "Refunded 5 EUR.",
        ]
    )


def _tool_results(messages: list[Message]) -> list[str]:
    return [m.content for m in messages if isinstance(m, ToolResultMessage)]


@pytest.mark.anyio
async def test_triage_hands_the_run_to_billing() -> None:
    kernel, log, events = make_kernel(), [], []
    triage = _agents(kernel, log)
    model = _script()
    result = await triage.arun("refund my order A1", model=model, handlers=[events.append])
    assert result.status == "success" and result.output == "Refunded 5 EUR."
    assert (result.agent, result.last_agent) == ("triage", "billing")
    assert log == ["lookup A1", "refund 5"]
    first, after = model.requests[1], model.requests[2]
    assert [t.name for t in first.params.tools] == ["lookup_order", "transfer_to_billing"]
    assert [t.name for t in after.params.tools] == ["refund"]  # billing's tools only
    assert after.messages[0].content == "You handle billing."
    (switch,) = [e for e in events if e.kind == "agent.switch"]
    assert switch.data == {"from": "triage", "to": "billing", "tool": "transfer_to_billing",
                           "call_id": "h1"}  # fmt: skip
    assert {e.agent for e in events[events.index(switch) :]} == {"billing"}
    assert "Transferred to billing" in _tool_results(result.messages)[1]
    assert result.usage.requests == 4  # one run: the same budget


@pytest.mark.anyio
async def test_an_input_filter_decides_what_the_target_sees_and_nothing_is_lost() -> None:
    kernel, log = make_kernel(), []

    def no_tools(messages: list[Message]) -> list[Message]:
        return [m for m in messages if m.role == "user"]

    triage = _agents(kernel, log, input_filter=no_tools)
    model = _script()
    result = await triage.arun("refund my order A1", model=model)
    seen = model.requests[2].messages
    assert [m.role for m in seen] == ["system", "user"]
    assert seen[1].content == "refund my order A1"
    # the next turn: what billing did since is seen, the filtered part stays filtered
    assert [m.role for m in model.requests[3].messages] == [
        "system", "user", "assistant", "tool"
    ]  # fmt: skip
    assert len(result.messages) == 9  # the full history is kept


@pytest.mark.anyio
async def test_on_handoff_runs_and_a_failing_one_keeps_the_current_agent() -> None:
    kernel, log, calls = make_kernel(), [], []

    async def record(ctx: plait.Context[Any]) -> None:
        calls.append((ctx.agent, ctx.tool_call_id))

    triage = _agents(kernel, log, on_handoff=record)
    result = await triage.arun("refund A1", model=_script())
    assert calls == [("triage", "h1")] and result.last_agent == "billing"

    def refuse(ctx: plait.Context[Any]) -> None:
        raise SystemExit(2)  # contained like any plugin failure

    triage = _agents(kernel, log, on_handoff=refuse)
    model = ScriptedModel([[call("transfer_to_billing", id="h1")], "I cannot transfer you."])
    result = await triage.arun("refund A1", model=model)
    assert result.last_agent == "triage" and result.status == "success"
    assert "Not transferred" in _tool_results(result.messages)[0]
    assert "SystemExit" in _tool_results(result.messages)[0]


@pytest.mark.anyio
async def test_only_the_first_handoff_of_a_turn_is_taken() -> None:
    kernel = make_kernel()
    a = plait.Agent("a", instructions="A", kernel=kernel)
    b = plait.Agent("b", instructions="B", kernel=kernel)
    start = plait.Agent("start", handoffs=[a, b], kernel=kernel)
    model = ScriptedModel(
        [Turn(calls=(call("transfer_to_b", id="1"), call("transfer_to_a", id="2"))), "hi"]
    )
    result = await start.arun("go", model=model)
    assert result.last_agent == "b"
    assert "only the first handoff" in _tool_results(result.messages)[1]


@pytest.mark.anyio
async def test_agents_like_marvin_and_a_handoff_loop_ends_at_the_turn_limit() -> None:
    kernel = make_kernel()
    ping = plait.Agent("ping", instructions="Ping.", kernel=kernel)
    pong = plait.Agent("pong", instructions="Pong.", kernel=kernel)
    loop = ScriptedModel(
        [[call("transfer_to_pong", id=f"p{i}")] if i % 2 == 0 else
         [call("transfer_to_ping", id=f"q{i}")] for i in range(50)]
    )  # fmt: skip
    result = await plait.arun(
        "go", agents=[ping, pong], model=loop, max_turns=6, kernel=kernel, on_limit="partial"
    )
    assert result.status == "incomplete" and result.stop_reason == "limit:turns"
    assert result.turns == 6 and result.agent == "ping"
    assert loop.requests[0].messages[0].content == "Ping."
    assert [t.name for t in loop.requests[0].params.tools] == ["transfer_to_pong"]
    assert [t.name for t in loop.requests[1].params.tools] == ["transfer_to_ping"]


@pytest.mark.anyio
async def test_the_runs_guardrails_still_hold_after_a_handoff() -> None:
    kernel, log = make_kernel(), []

    @plait.guardrail(stage="tool_call")
    def no_refunds(tool_call: plait.ToolCall, ctx: Any) -> plait.Decision:
        if tool_call.name == "refund":
            return plait.Decision(action="block", reason="refunds need a human")
        return plait.Decision(action="allow")

    triage = _agents(kernel, log)
    result = await triage.arun(
        "refund A1", model=_script(), guardrails=[no_refunds], raise_on_failure=False
    )
    assert result.status == "blocked" and log == ["lookup A1"]
    assert result.last_agent == "billing"


def test_bad_handoffs_are_refused_clearly() -> None:
    nameless = plait.Agent(instructions="x")
    with pytest.raises(ValueError, match="needs a name"):
        plait.handoff(nameless)
    with pytest.raises(TypeError, match=r"must be a plait\.Agent"):
        plait.handoff(object())
    a = plait.Agent("same")
    with pytest.raises(ValueError, match="agents= names must differ"):
        plait.run("x", agents=[a, plait.Agent("same")], model=ScriptedModel(["x"]))

    @plait.tool
    def transfer_to_same() -> str:
        """Clash."""
        return ""

    with pytest.raises(ValueError, match="named 'transfer_to_same'"):
        plait.run("x", handoffs=[a], tools=[transfer_to_same], model=ScriptedModel(["x"]))


@pytest.mark.anyio
async def test_a_recorded_handoff_is_taken_again_on_resume(tmp_path: Path) -> None:
    """Interrupted after the switch (Ctrl-C in billing's tool): resumed, billing goes on."""
    kernel = make_kernel()
    store = f"sqlite:///{tmp_path}/handoff.db"
    state = {"interrupt": True}

    @plait.tool(idempotent=True)  # safe to run again after the interruption
    def refund(amount: int) -> str:
        """Refund an amount."""
        if state.pop("interrupt", False):
            raise KeyboardInterrupt
        return f"refunded {amount}"

    billing = plait.Agent("billing", instructions="You handle billing.", tools=[refund],
                          kernel=kernel)  # fmt: skip
    triage = plait.Agent("triage", instructions="Route.", handoffs=[billing], kernel=kernel)
    first = ScriptedModel([[call("transfer_to_billing", id="h1")],
                           [call("refund", amount=5, id="r1")]])  # fmt: skip
    with pytest.raises(KeyboardInterrupt):
        await triage.arun("refund", model=first, store=store, run_id="run-h")
    again = ScriptedModel(["Refunded."])
    result = await triage.arun(model=again, store=store, resume="run-h")
    assert result.status == "success" and result.last_agent == "billing"
    sent = again.requests[0]
    assert sent.messages[0].content == "You handle billing."
    assert [t.name for t in sent.params.tools] == ["refund"]
    assert "refunded 5" in _tool_results(result.messages)
    await kernel.aclose()


@pytest.mark.anyio
async def test_a_handoff_run_on_a_thread_keeps_its_history_there(tmp_path: Path) -> None:
    """The same thread: the next run on it sees the whole conversation, handoff included."""
    kernel, log = make_kernel(), []
    store = f"sqlite:///{tmp_path}/thread.db"
    triage = _agents(kernel, log)
    first = await triage.arun("refund my order A1", model=_script(), thread="cust-1", store=store)
    assert first.last_agent == "billing"
    follow_up = ScriptedModel(["You are welcome."])
    await triage.arun("thanks!", model=follow_up, thread="cust-1", store=store)
    sent = follow_up.requests[0].messages
    assert "Transferred to billing" in " ".join(_tool_results(sent))
    assert sent[-1].content == "thanks!" and "refunded 5" in _tool_results(sent)
    await kernel.aclose()
