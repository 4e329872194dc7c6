"""A call that needs approval after a handoff pauses the run; resumed, it continues as the
agent that took over and the call runs once."""

from __future__ import annotations

from typing import Any

import pytest

import plait
from plait.testing import ScriptedModel, call

pytestmark = pytest.mark.anyio


def _agents(refund: plait.Tool, *billing_turns: Any) -> plait.Agent[Any]:
    billing: plait.Agent[Any] = plait.Agent(
        name="billing", model=ScriptedModel(list(billing_turns)), tools=[refund]
    )
    triage: plait.Agent[Any] = plait.Agent(
        name="triage",
        model=ScriptedModel([call("transfer_to_billing", id="h1")]),
        handoffs=[billing],
    )
    return triage


async def test_a_paused_handoff_resumes_as_the_agent_that_took_over(db: str) -> None:
    runs: list[int] = []

    @plait.tool(requires_approval=True)
    def refund(amount: int) -> str:
        """Refund an amount."""
        runs.append(amount)
        return f"refunded {amount}"

    triage = _agents(refund, call("refund", amount=5, id="r1"))
    paused = await triage.arun("refund me 5", approve="pause", store=db, run_id="p1")
    assert (paused.status, paused.stop_reason, paused.last_agent) == (
        "paused",
        "approval",
        "billing",
    )
    assert [(p.tool, p.call_id, p.args) for p in paused.pending] == [
        ("refund", "r1", {"amount": 5})
    ]
    assert runs == []

    again = _agents(refund, "Refunded 5.")
    done = await again.arun(None, resume="p1", store=db, approvals={"r1": plait.approve()})
    assert (done.status, done.output, done.last_agent) == ("success", "Refunded 5.", "billing")
    assert runs == [5]
