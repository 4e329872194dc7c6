"""Task graphs: marvin's ``run_tasks`` — independent tasks side by side, dependents get
their upstream results, every task's events on one stream.

Run it:  python examples/task_graph.py
(offline: a function model stands in for a real one; pass model="openai:gpt-4o-mini" to
use a real model instead)
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from pydantic import BaseModel

import plait
from plait.testing import FunctionModel, complete


class Trip(BaseModel):
    city: str
    nights: int
    budget: int


async def offline_model(messages: list[plait.Message], params: Any) -> Any:
    """Answers each task after a short pause (so the side-by-side tasks show)."""
    prompt = next(m for m in messages if isinstance(m, plait.UserMessage)).content
    await anyio.sleep(0.2)
    if prompt.startswith("Find flights"):
        return "AF 1234, Paris to Oslo, 180 EUR"
    if prompt.startswith("Find hotels"):
        return "Hotel Bristol, 3 nights, 540 EUR"
    return complete(result={"city": "Oslo", "nights": 3, "budget": 720})


async def main() -> None:
    flights = plait.Task("Find flights to Oslo", name="flights")
    hotels = plait.Task("Find hotels in Oslo", name="hotels")
    plan = plait.Task(
        "Plan the trip from the flights and hotels found",
        name="plan",
        output=Trip,
        depends_on=[flights, hotels],
        context={"traveller": "Ada", "max_budget": 1000},
    )
    began = time.perf_counter()
    model = FunctionModel(offline_model)
    async with plait.stream_tasks([flights, hotels, plan], model=model) as s:
        async for event in s:
            if event.kind in ("task.start", "task.end"):
                at = time.perf_counter() - began
                status = event.data.get("status", "")
                print(f"{at:4.1f}s {event.kind:10} {event.data['task']} {status}")
        graph = await s.result()
    # flights and hotels ran side by side: about 0.4 s in all, not 0.6 s
    print(f"graph {graph.status} in {graph.duration:.1f}s: {graph.counts()}")
    trip = graph.output("plan")
    print(f"plan: {trip.nights} nights in {trip.city} for {trip.budget} EUR")


if __name__ == "__main__":
    anyio.run(main)
