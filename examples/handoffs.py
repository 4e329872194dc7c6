"""Handoffs: a triage agent passes the conversation to billing (the OpenAI Agents SDK's
``handoffs=``), with an input filter and an ``on_handoff`` callback; then marvin's shape,
``plait.run(task, agents=[...])``.

Run it:  python examples/handoffs.py
"""

from __future__ import annotations

from typing import Any

import plait
from plait.testing import ScriptedModel, call


def refund(order: str, amount: float) -> str:
    """Refund an amount on an order."""
    return f"refunded {amount:.2f} EUR on {order}"


def only_the_customer(messages: list[plait.Message]) -> list[plait.Message]:
    """What billing sees of the conversation: the customer's words, not triage's tools."""
    return [m for m in messages if m.role == "user"]


def log_handoff(ctx: plait.Context[Any]) -> None:
    print(f"handoff from {ctx.agent} (call {ctx.tool_call_id})")


billing = plait.Agent("billing", instructions="You handle refunds.", tools=[refund])
triage = plait.Agent(
    "triage",
    instructions="Find out what the customer needs and hand over.",
    handoffs=[plait.handoff(billing, input_filter=only_the_customer, on_handoff=log_handoff)],
)

model = ScriptedModel(
    [
        call("transfer_to_billing", id="h1"),
        call("refund", order="A-17", amount=12.5, id="r1"),
        "Done: 12.50 EUR are on their way back to you.",
    ]
)
result = triage.run("I was charged twice for order A-17 (12.50 EUR).", model=model)
print(f"{result.agent} -> {result.last_agent}: {result.output}")

# marvin's shape: start as the first agent; any of them may hand over to any other
writer = plait.Agent("writer", instructions="Write.")
editor = plait.Agent("editor", instructions="Edit.")
model = ScriptedModel([call("transfer_to_editor", id="h2"), "Edited and done."])
result = plait.run("Write a haiku about tides.", agents=[writer, editor], model=model)
print(f"{result.agent} -> {result.last_agent}: {result.output}")
