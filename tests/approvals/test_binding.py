"""A decision is bound to one run, tool, call and arguments; bad input is a clear error
and changes nothing (the run stays paused, no tool runs, nothing is recorded)."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import pytest

import plait
from plait._store._sqlite import SQLiteStore


async def _steps(db: str, run_id: str) -> tuple[str, int]:
    async with SQLiteStore().open(db) as conn:
        record = await conn.load_run(run_id)
    assert record is not None
    return record.run.status, len(record.steps)


async def _pause(bank: ModuleType, db: str, run_id: str, task: str) -> plait.Result[Any]:
    return await plait.arun(
        task, model=bank.model(), tools=bank.TOOLS, approve="pause", store=db, run_id=run_id
    )


async def _resume(bank: ModuleType, db: str, run_id: str, approvals: Any) -> Any:
    return await plait.aresume(
        run_id, store=db, model=bank.model(), tools=bank.TOOLS, approvals=approvals
    )


@pytest.mark.anyio
async def test_an_approval_of_one_run_is_refused_on_another(bank: ModuleType, db: str) -> None:
    a = await _pause(bank, db, "a", "pay eve:500")
    await _pause(bank, db, "b", "pay eve:500")  # the same tool, call id and arguments
    granted = a.pending[0].approve()
    with pytest.raises(plait.ApprovalError, match="made for another call") as info:
        await _resume(bank, db, "b", {"t0": granted})
    assert info.value.run_id == "b"
    assert await _steps(db, "b") == ("paused", 3)  # nothing recorded, still paused
    assert bank.ledger() == []
    result = await _resume(bank, db, "a", {"t0": granted})  # where it belongs: applied
    assert result.status == "success" and bank.ledger() == ["eve 500"]


@pytest.mark.anyio
async def test_an_approval_of_one_call_is_refused_on_another(bank: ModuleType, db: str) -> None:
    result = await _pause(bank, db, "r", "pay eve:500 bob:5")
    small, big = result.pending[1], result.pending[0]
    with pytest.raises(plait.ApprovalError, match="made for another call"):
        await _resume(bank, db, "r", {big.call_id: small.approve()})
    forged = plait.Approval(True, "t0", '{"amount":5,"to":"eve"}', tool="transfer")
    with pytest.raises(plait.ApprovalError, match="made for another call"):
        await _resume(bank, db, "r", {"t0": forged})  # other arguments than were asked
    other_tool = plait.Approval(True, "t0", big.arguments, tool="refund")
    with pytest.raises(plait.ApprovalError, match="made for another call"):
        await _resume(bank, db, "r", {"t0": other_tool})
    assert await _steps(db, "r") == ("paused", 3)
    assert bank.ledger() == []
    done = await _resume(bank, db, "r", {"t0": big.deny("no"), "t1": small.approve()})
    assert done.status == "success" and bank.ledger() == ["bob 5"]


@pytest.mark.anyio
async def test_decisions_for_calls_that_are_not_pending_are_refused(
    bank: ModuleType, db: str
) -> None:
    await _pause(bank, db, "r", "pay eve:500")
    with pytest.raises(
        plait.ApprovalError, match=r"no call 'b' waiting for approval \(pending: t0"
    ):
        await _resume(bank, db, "r", {"b": plait.approve()})  # it ran: it needed none
    with pytest.raises(plait.ApprovalError, match="paused until its calls are approved"):
        await _resume(bank, db, "r", None)
    with pytest.raises(TypeError, match=r"must be plait\.approve"):
        await _resume(bank, db, "r", {"t0": "yes"})
    assert await _steps(db, "r") == ("paused", 3)


@pytest.mark.anyio
async def test_approvals_for_a_run_that_is_not_paused_are_refused(
    bank: ModuleType, db: str
) -> None:
    await plait.arun("pay", model=bank.model(), tools=bank.TOOLS, store=db, run_id="plain")
    with pytest.raises(plait.ApprovalError, match="'plain' is not paused \\(status 'success'\\)"):
        await _resume(bank, db, "plain", {"b": plait.approve()})


@pytest.mark.anyio
async def test_options_that_cannot_pause_are_refused_up_front(bank: ModuleType) -> None:
    with pytest.raises(ValueError, match="approve='pause' needs a recorded run"):
        await plait.arun("pay eve:1", model=bank.model(), tools=bank.TOOLS, approve="pause")
    with pytest.raises(ValueError, match="approve= takes an approver"):
        await plait.arun("pay eve:1", model=bank.model(), tools=bank.TOOLS, approve="later")
    with pytest.raises(ValueError, match=r"pass it to plait\.resume"):
        await plait.arun("pay", model=bank.model(), approvals={"t0": plait.approve()})
    with pytest.raises(TypeError, match="the arguments as a dict"):
        plait.edit(["amount", 5])  # type: ignore[arg-type]
    assert bank.ledger() == []


def test_a_paused_run_is_a_result_not_an_exception(bank: ModuleType, db: str) -> None:
    """``raise_on_failure`` (the default) does not raise for a pause: it is not a failure."""
    result = plait.run(
        "pay eve:2", model=bank.model(), tools=bank.TOOLS, approve="pause", store=db, run_id="s"
    )
    assert result.status == "paused"
    resumed = plait.resume(
        "s", store=db, model=bank.model(), tools=bank.TOOLS, approvals={"t0": True}
    )
    assert resumed.output == "sent 2 to eve; 1000"
