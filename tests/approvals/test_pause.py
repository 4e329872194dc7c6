"""Approvals that pause: a recorded run ends ``paused`` and ``resume(approvals=...)``
continues it with each kind of decision, bound to the exact call, used once."""

from __future__ import annotations

import json
from types import ModuleType
from typing import Any

import pytest

import plait
from plait import ToolResultMessage
from plait._store._sqlite import SQLiteStore
from plait.testing import ScriptedModel, call


async def _record(db: str, run_id: str) -> Any:
    async with SQLiteStore().open(db) as conn:
        return await conn.load_run(run_id)


async def _pause(bank: ModuleType, db: str, task: str = "pay eve:500", run_id: str = "r1",
                 **options: Any) -> Any:  # fmt: skip
    return await plait.arun(
        task, model=bank.model(), tools=bank.TOOLS, approve="pause", store=db, run_id=run_id,
        **options,
    )  # fmt: skip


async def _resume(bank: ModuleType, db: str, run_id: str = "r1", **options: Any) -> Any:
    options = {"tools": bank.TOOLS, **options}
    return await plait.aresume(run_id, store=db, model=bank.model(), **options)


@pytest.mark.anyio
async def test_a_call_needing_approval_pauses_the_run_and_the_rest_runs(
    bank: ModuleType, db: str
) -> None:
    events: list[Any] = []
    result = await _pause(bank, db, handlers=[events.append])
    assert (result.status, result.stop_reason, result.ok) == ("paused", "approval", False)
    [request] = result.pending
    assert (request.run_id, request.tool, request.call_id) == ("r1", "transfer", "t0")
    assert request.arguments == '{"amount":500,"to":"eve"}'  # canonical JSON
    assert request.reason == "the tool requires approval"
    assert bank.ledger() == []  # not run
    answered = [m.tool_call_id for m in result.messages if isinstance(m, ToolResultMessage)]
    assert answered == ["b"]  # the call that needed no approval ran; t0 has no result yet
    kinds = [e.kind for e in events]
    assert "approval.pending" in kinds and "approval.request" not in kinds
    assert events[-1].kind == "run.end" and events[-1].data["status"] == "paused"
    record = await _record(db, "r1")  # durable the moment the run returned
    assert record.run.status == "paused"
    done = record.steps[-1]
    assert done.kind == "completion" and done.payload["status"] == "paused"
    assert [p["call_id"] for p in done.payload["pending"]] == ["t0"]


@pytest.mark.anyio
async def test_resume_with_approve_runs_the_call_and_the_model_sees_its_result(
    bank: ModuleType, db: str
) -> None:
    await _pause(bank, db)
    result = await _resume(bank, db, approvals={"t0": plait.approve()})
    assert result.status == "success" and result.run_id == "r1"
    assert result.output == "sent 500 to eve; 1000"
    assert bank.ledger() == ["eve 500"]
    record = await _record(db, "r1")
    assert record.run.status == "success"
    [decided] = [s for s in record.steps if s.payload.get("stage") == "approval"]
    assert decided.payload["approvals"][0]["decision"] == "approve"


@pytest.mark.anyio
async def test_resume_with_deny_tells_the_model_the_reason(bank: ModuleType, db: str) -> None:
    await _pause(bank, db)
    result = await _resume(bank, db, approvals={"t0": plait.deny("over the daily limit")})
    assert result.status == "success"
    assert result.output == "Tool 'transfer' was not approved: over the daily limit.; 1000"
    assert bank.ledger() == []


@pytest.mark.anyio
async def test_resume_with_edit_runs_the_edited_arguments_and_records_the_edit(
    bank: ModuleType, db: str
) -> None:
    await _pause(bank, db)
    events: list[Any] = []
    edited = {"t0": plait.edit({"amount": 50, "to": "eve"})}
    result = await _resume(bank, db, approvals=edited, handlers=[events.append])
    assert result.output == "sent 50 to eve; 1000"
    assert bank.ledger() == ["eve 50"]
    record = await _record(db, "r1")
    [decided] = [s for s in record.steps if s.payload.get("stage") == "approval"]
    row = decided.payload["approvals"][0]
    assert row["decision"] == "edit" and row["edited"] == '{"amount":50,"to":"eve"}'
    assert row["arguments"] == '{"amount":500,"to":"eve"}'  # what was asked, kept beside it
    [start] = [e for e in events if e.kind == "tool.start" and e.data["name"] == "transfer"]
    assert start.data["arguments"] == {"amount": 50, "to": "eve"}


@pytest.mark.anyio
async def test_an_edit_the_tool_rejects_is_told_to_the_model(bank: ModuleType, db: str) -> None:
    await _pause(bank, db)
    result = await _resume(bank, db, approvals={"t0": plait.edit({"amount": "lots", "to": "x"})})
    assert result.output is not None and "Invalid arguments for tool 'transfer'" in result.output
    assert bank.ledger() == []


@pytest.mark.anyio
async def test_undecided_calls_keep_the_run_paused(bank: ModuleType, db: str) -> None:
    first = await _pause(bank, db, "pay eve:500 bob:7 ann:1")
    assert [r.call_id for r in first.pending] == ["t0", "t1", "t2"]
    second = await _resume(bank, db, approvals={"t1": plait.approve(), "t2": plait.deny()})
    assert second.status == "paused" and [r.call_id for r in second.pending] == ["t0"]
    assert bank.ledger() == ["bob 7"]
    third = await _resume(bank, db, approvals={"t0": plait.approve()})
    assert third.status == "success"
    assert third.output == (
        "sent 500 to eve; sent 7 to bob; Tool 'transfer' was not approved.; 1000"
    )
    assert sorted(bank.ledger()) == ["bob 7", "eve 500"]  # each exactly once


@pytest.mark.anyio
async def test_a_decision_is_used_once(bank: ModuleType, db: str) -> None:
    await _pause(bank, db)
    decision = {"t0": plait.approve()}
    await _resume(bank, db, approvals=decision)
    with pytest.raises(plait.ApprovalError, match="is not paused"):
        await _resume(bank, db, approvals=decision)
    again = await _resume(bank, db)  # a finished run: its recorded result, nothing runs
    assert again.output == "sent 500 to eve; 1000"
    assert bank.ledger() == ["eve 500"]


@pytest.mark.anyio
async def test_a_live_approver_may_answer_with_the_same_decisions(bank: ModuleType) -> None:
    def approver(request: plait.ApprovalRequest) -> Any:
        return plait.edit({**request.args, "amount": 1})

    result = await plait.arun("pay eve:500", model=bank.model(), tools=bank.TOOLS, approve=approver)
    assert result.output == "sent 1 to eve; 1000"
    assert bank.ledger() == ["eve 1"]


def _ask_for_big(call: plait.ToolCall, ctx: Any) -> plait.Decision:
    if json.loads(call.arguments)["amount"] > 10:
        return plait.Decision(action="ask", reason="large transfer")
    return plait.Decision(action="allow")


@pytest.mark.anyio
async def test_a_guardrail_ask_pauses_too(bank: ModuleType, db: str) -> None:
    @plait.tool
    def pay(amount: int, to: str) -> str:
        """Send money; needs no approval of its own."""
        return f"paid {amount} to {to}"

    guard = plait.guardrail(stage="tool_call")(_ask_for_big)
    model = ScriptedModel([[call("pay", amount=5, to="a", id="p1"),
                            call("pay", amount=50, to="b", id="p2")], "done"])  # fmt: skip
    result = await plait.arun(
        "pay", model=model, tools=[pay], guardrails=[guard], approve="pause", store=db,
        run_id="g",
    )  # fmt: skip
    assert result.status == "paused"
    [request] = result.pending
    assert (request.call_id, request.reason, request.guardrail) == (
        "p2",
        "large transfer",
        "_ask_for_big",
    )
    # functions given as guardrails are not recorded: they are given again
    done = await plait.aresume(
        "g", store=db, model=ScriptedModel(["ok"]), tools=[pay], guardrails=[guard],
        approvals={"p2": request.approve()},
    )  # fmt: skip
    assert done.status == "success"
    results = [m.content for m in done.messages if isinstance(m, ToolResultMessage)]
    assert results == ["paid 5 to a", "paid 50 to b"]


@pytest.mark.anyio
async def test_a_live_approver_may_decide_a_paused_run(bank: ModuleType, db: str) -> None:
    await _pause(bank, db)
    asked: list[str] = []

    async def approver(request: plait.ApprovalRequest) -> bool:
        asked.append(request.call_id)
        return True

    result = await _resume(bank, db, approve=approver)
    assert asked == ["t0"] and result.output == "sent 500 to eve; 1000"


@pytest.mark.anyio
async def test_a_thread_run_pauses_and_its_thread_gets_the_whole_turn(
    bank: ModuleType, db: str
) -> None:
    result = await _pause(bank, db, thread="inbox")
    assert result.status == "paused" and result.thread_id == "inbox"
    done = await _resume(bank, db, approvals={"t0": plait.approve()})
    assert done.output == "sent 500 to eve; 1000"
    async with SQLiteStore().open(db) as conn:
        history = await conn.load_messages("inbox")
    roles = [m.role for m in history.messages]
    assert roles == ["user", "assistant", "tool", "tool", "assistant"]  # each once


def test_pending_approvals_reads_a_paused_run_from_its_store(bank: ModuleType, db: str) -> None:
    result = plait.run(
        "pay eve:500", model=bank.model(), tools=bank.TOOLS, approve="pause", store=db,
        run_id="r9",
    )  # fmt: skip
    assert plait.pending_approvals("r9", store=db) == list(result.pending)
    done = plait.resume(
        "r9", store=db, model=bank.model(), tools=bank.TOOLS,
        approvals={"t0": plait.deny("no")},
    )  # fmt: skip
    assert done.status == "success"
    assert plait.pending_approvals("r9", store=db) == []  # decided: nothing waits
    with pytest.raises(plait.StoreError, match="no run 'nope'"):
        plait.pending_approvals("nope", store=db)
