"""Planning mode (zyx's ``plan``, ``planning_interval``, ``max_steps``): the model writes a
plan, works through it with its tools, and revises it every two steps.

A function stands in for the LLM, so it runs offline: it plans one price lookup per shop,
follows its own plan, marks what is done when the loop asks for a review, and marks the
last step done itself before it answers.

Run it:  python examples/planning.py
"""

from __future__ import annotations

import json
from typing import Any

import plait
from plait.testing import FunctionModel, call

PRICES = {"north": 4.20, "south": 3.90, "east": 4.50}


def price(shop: str) -> str:
    """The price of a loaf of bread at a shop."""
    return f"{shop}: {PRICES[shop]:.2f} EUR"


def known(messages: list[plait.Message]) -> dict[str, float]:
    """The prices the tool has given so far."""
    found = {}
    for m in messages:
        if isinstance(m, plait.ToolResultMessage) and m.name == "price":
            shop, amount = m.content.split(": ")
            found[shop] = float(amount.split()[0])
    return found


def my_plan(messages: list[plait.Message]) -> list[dict[str, str]]:
    """The steps of the last plan the model wrote."""
    calls = [c for m in messages if isinstance(m, plait.AssistantMessage) for c in m.tool_calls]
    return list(json.loads([c for c in calls if c.name == "update_plan"][-1].arguments)["steps"])


def planner(messages: list[plait.Message], params: plait.RequestParams) -> Any:
    """Stands in for an LLM that plans before it acts."""
    prices = known(messages)
    steps = [
        {"title": f"price at {shop}", "status": "done" if shop in prices else "pending"}
        for shop in PRICES
    ]
    if params.settings.tool_choice == "update_plan":  # the loop asks for a (revised) plan
        return call("update_plan", steps=steps, note=f"{len(prices)} prices known")
    plan = my_plan(messages)
    todo = [s["title"].removeprefix("price at ") for s in plan if s["status"] != "done"]
    todo = [shop for shop in todo if shop not in prices]
    if todo:  # the first step of its plan still to do
        return call("price", shop=todo[0])
    if any(s["status"] != "done" for s in plan):  # revised by its own choice
        return call("update_plan", steps=steps, note="every price is known")
    cheapest = min(prices, key=prices.__getitem__)
    return f"The cheapest bread is at {cheapest} ({prices[cheapest]:.2f} EUR)."


def show(event: plait.Event) -> None:
    if event.kind in ("plan.created", "plan.revised"):
        marks = " ".join(f"[{s['status']}] {s['title']};" for s in event.data["steps"])
        print(f"{event.kind} (revision {event.data['revision']}): {marks}")
    elif event.kind == "plan.step":
        print(f"step {event.data['done']} done")


result = plait.run(
    "Where is bread cheapest: north, south or east?",
    tools=[price],
    model=FunctionModel(planner),
    plan=True,  # the first turn writes the plan
    planning_interval=2,  # a review (a forced update_plan) every two steps
    max_steps=10,  # and never more than ten steps
    handlers=[show],
)
print(result.output)
plan = result.plan
assert plan is not None
done = sum(s.status == "done" for s in plan.steps)
print(f"plan revision {plan.revision}: {done}/{len(plan.steps)} steps done")
