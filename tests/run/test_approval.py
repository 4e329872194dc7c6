"""Tool approvals: ``approve=`` decides each call needing approval, bound to its arguments."""

from __future__ import annotations

import json
from typing import Any

import pytest

import plait
from plait import Approval, ApprovalRequest, Decision, ToolCall
from plait._kernel import Kernel
from plait.testing import ScriptedModel, Turn, call


def _transfer_tool(log: list[int]) -> Any:
    @plait.tool(requires_approval=True)
    def transfer(amount: int, to: str) -> str:
        """Move money.

        Args:
            amount: how much
            to: the account
        """
        log.append(amount)
        return f"sent {amount} to {to}"

    return transfer


def _tool_messages(result: plait.Result[Any]) -> list[str]:
    return [m.content for m in result.messages if m.role == "tool"]


def test_without_an_approver_the_call_is_denied_and_told(kernel: Kernel) -> None:
    ran: list[int] = []
    model = ScriptedModel([call("transfer", amount=5, to="bob"), "ok"])
    result = plait.run("pay", model=model, tools=[_transfer_tool(ran)], kernel=kernel)
    assert ran == []
    assert "requires approval" in _tool_messages(result)[0]


@pytest.mark.parametrize("asynchronous", [False, True])
def test_the_approver_sees_the_exact_call_and_decides(kernel: Kernel, asynchronous: bool) -> None:
    ran: list[int] = []
    seen: list[ApprovalRequest] = []

    def decide(request: ApprovalRequest) -> bool:
        seen.append(request)
        return request.args["amount"] < 100

    async def adecide(request: ApprovalRequest) -> bool:
        return decide(request)

    events: list[plait.Event] = []
    model = ScriptedModel(
        [
            Turn(
                calls=(
                    call("transfer", amount=5, to="bob", id="c1"),
                    call("transfer", amount=500, to="eve", id="c2"),
                )
            ),
            "done",
        ]
    )
    result = plait.run(
        "pay",
        model=model,
        tools=[_transfer_tool(ran)],
        kernel=kernel,
        approve=adecide if asynchronous else decide,
        handlers=[events.append],
    )
    assert ran == [5]
    assert {(r.tool, r.call_id, r.arguments) for r in seen} == {
        ("transfer", "c1", '{"amount":5,"to":"bob"}'),
        ("transfer", "c2", '{"amount":500,"to":"eve"}'),
    }
    sent, refused = _tool_messages(result)
    assert sent == "sent 5 to bob" and "was not approved" in refused
    requests = [e.data for e in events if e.kind == "approval.request"]
    decisions = {e.data["id"]: e.data["approved"] for e in events if e.kind == "approval.decision"}
    assert {r["id"] for r in requests} == {"c1", "c2"} and decisions == {"c1": True, "c2": False}


def test_an_approval_cannot_be_reused_for_other_arguments(kernel: Kernel) -> None:
    ran: list[int] = []
    granted: list[Approval] = []

    def approve_once(request: ApprovalRequest) -> Approval:
        if not granted:
            granted.append(request.approve("looks fine"))
        return granted[0]  # replays the first approval for every later call

    model = ScriptedModel(
        [
            call("transfer", amount=5, to="bob", id="c1"),
            call("transfer", amount=9999, to="eve", id="c2"),
            "done",
        ]
    )
    result = plait.run(
        "pay", model=model, tools=[_transfer_tool(ran)], kernel=kernel, approve=approve_once
    )
    assert ran == [5]
    assert "different tool, call or arguments" in _tool_messages(result)[1]


def test_an_approval_for_the_same_call_id_with_other_arguments_is_refused(kernel: Kernel) -> None:
    ran: list[int] = []

    def forge(request: ApprovalRequest) -> Approval:
        return Approval(True, request.call_id, json.dumps({"amount": 1, "to": "bob"}))

    model = ScriptedModel([call("transfer", amount=9999, to="eve", id="c1"), "done"])
    plait.run("pay", model=model, tools=[_transfer_tool(ran)], kernel=kernel, approve=forge)
    assert ran == []


def test_the_tool_runs_with_the_approved_arguments(kernel: Kernel) -> None:
    got: list[list[int]] = []

    @plait.tool(requires_approval=True)
    def store(items: list[int]) -> str:
        """Store items."""
        got.append(items)
        return "stored"

    def meddle(request: ApprovalRequest) -> bool:
        request.args["items"].append(666)  # a copy: what was approved cannot change
        return True

    model = ScriptedModel([call("store", items=[1, 2], id="c1"), "done"])
    plait.run("x", model=model, tools=[store], kernel=kernel, approve=meddle)
    assert got == [[1, 2]]


def test_a_raising_approver_denies(kernel: Kernel) -> None:
    ran: list[int] = []

    def broken(request: ApprovalRequest) -> bool:
        raise RuntimeError("db down: password=hunter2")

    model = ScriptedModel([call("transfer", amount=5, to="bob"), "ok"])
    result = plait.run(
        "pay", model=model, tools=[_transfer_tool(ran)], kernel=kernel, approve=broken
    )
    assert ran == []
    (message, _) = (*_tool_messages(result), None)
    assert "RuntimeError" in message and "hunter2" not in message


def _ask_for_big(call: ToolCall, ctx: Any) -> Decision:
    amount = json.loads(call.arguments)["amount"]
    if amount > 10:
        return Decision(action="ask", reason="large transfer")
    return Decision(action="allow")


def _plain_transfer(log: list[int]) -> Any:
    def transfer(amount: int, to: str) -> str:
        """Move money."""
        log.append(amount)
        return "sent"

    return transfer


def test_a_guardrail_ask_goes_to_the_approver(kernel: Kernel) -> None:
    ran: list[int] = []
    reasons: list[str | None] = []

    def approve(request: ApprovalRequest) -> bool:
        reasons.append(request.reason)
        return False

    guard = plait.guardrail(stage="tool_call")(_ask_for_big)
    model = ScriptedModel(
        [
            Turn(calls=(call("transfer", amount=5, to="a"), call("transfer", amount=50, to="b"))),
            "done",
        ]
    )
    result = plait.run(
        "pay",
        model=model,
        tools=[_plain_transfer(ran)],
        guardrails=[guard],
        kernel=kernel,
        approve=approve,
    )
    assert result.status == "success"
    assert ran == [5] and reasons == ["large transfer"]
    # the two calls are checked concurrently (sync guardrails in worker threads): their
    # decisions are kept in the order they were made
    assert sorted(d.action for d in result.guardrails) == ["allow", "ask"]


def test_a_guardrail_ask_without_an_approver_blocks(kernel: Kernel) -> None:
    ran: list[int] = []
    guard = plait.guardrail(stage="tool_call")(_ask_for_big)
    model = ScriptedModel([call("transfer", amount=50, to="b"), "done"])
    result = plait.run(
        "pay",
        model=model,
        tools=[_plain_transfer(ran)],
        guardrails=[guard],
        kernel=kernel,
        raise_on_failure=False,
    )
    assert ran == [] and result.status == "blocked"


def test_the_agent_setting_approves(kernel: Kernel) -> None:
    ran: list[int] = []
    agent: plait.Agent[str] = plait.Agent(
        "payer", tools=[_transfer_tool(ran)], approve=lambda r: True, kernel=kernel
    )
    agent.run("pay", model=ScriptedModel([call("transfer", amount=3, to="bob"), "ok"]))
    assert ran == [3]


def test_guardrails_after_an_ask_still_run_before_the_approver(kernel: Kernel) -> None:
    ran: list[int] = []
    seen: list[str] = []

    def cap(call: ToolCall, ctx: Any) -> Decision:
        args = json.loads(call.arguments)
        capped = {**args, "amount": min(args["amount"], 20)}
        return Decision(action="replace", replacement=json.dumps(capped))

    def approve(request: ApprovalRequest) -> bool:
        seen.append(request.arguments)
        return True

    guards = [plait.guardrail(stage="tool_call")(g) for g in (_ask_for_big, cap)]
    model = ScriptedModel([call("transfer", amount=50, to="b"), "done"])
    result = plait.run(
        "pay",
        model=model,
        tools=[_plain_transfer(ran)],
        guardrails=guards,
        kernel=kernel,
        approve=approve,
    )
    assert [d.action for d in result.guardrails] == ["ask", "replace"]
    assert seen == ['{"amount":20,"to":"b"}'] and ran == [20]
