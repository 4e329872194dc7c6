"""Task graphs and planning end to end over HTTP: plait-openai (Chat Completions)
against a loopback OpenAI-compatible server, as a user would run them."""

from __future__ import annotations

import json
from typing import Any

import anyio
import pytest

import plait
from plait import ToolCall
from plait.testing import LoopbackServer, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _model(server: LoopbackServer) -> Any:
    from plait_openai.provider import OpenAIProvider

    return OpenAIProvider("openai", api="chat").model(
        "gpt-test", base_url=server.base_url, api_key="sk-test-0123456789abcdef"
    )


def _wire() -> Any:
    from plait_openai.testing import ChatWire

    return ChatWire()


TOKENS = {"stream": False, "input_tokens": 10, "output_tokens": 3}


@pytest.mark.anyio
async def test_marvins_three_task_graph_over_http() -> None:
    wire = _wire()
    replies = [wire.text("found it", **TOKENS) for _ in range(2)]
    replies.append(wire.text("3 nights in Oslo", **TOKENS))
    flights = plait.Task("Find flights to Oslo", name="flights")
    hotels = plait.Task("Find hotels in Oslo", name="hotels")
    plan = plait.Task("Plan the trip", name="plan", depends_on=[flights, hotels])
    async with LoopbackServer(replies) as server:
        model = _model(server)
        with anyio.fail_after(20):
            graph = await plait.arun_tasks(
                [flights, hotels, plan], model=model, kernel=make_kernel(), max_concurrency=2
            )
        await model.aclose()
        bodies = [json.loads(r.body) for r in server.requests]
    assert graph.ok and graph.output("plan") == "3 nights in Oslo"
    assert graph.usage.requests == 3
    last = bodies[-1]["messages"][-1]["content"]
    assert "Plan the trip" in last and last.count("found it") == 2  # both upstream results
    firsts = {b["messages"][-1]["content"].split("\n")[0] for b in bodies[:2]}
    assert firsts == {"Find flights to Oslo", "Find hotels in Oslo"}


@pytest.mark.anyio
async def test_a_planned_run_over_http() -> None:
    wire = _wire()
    steps = json.dumps({"steps": [{"title": "look it up", "status": "pending"}]})
    replies = [
        wire.tool_calls([ToolCall(id="p1", name="update_plan", arguments=steps)], **TOKENS),
        wire.tool_calls([ToolCall(id="l1", name="lookup", arguments='{"q": "tides"}')], **TOKENS),
        wire.text("Tides follow the moon.", **TOKENS),
    ]

    @plait.tool
    def lookup(q: str) -> str:
        """Look it up."""
        return f"{q}: the moon"

    async with LoopbackServer(replies) as server:
        model = _model(server)
        with anyio.fail_after(20):
            result = await plait.arun(
                "Explain tides", model=model, tools=[lookup], plan=True, kernel=make_kernel()
            )
        await model.aclose()
        bodies = [json.loads(r.body) for r in server.requests]
    assert result.status == "success" and result.output == "Tides follow the moon."
    assert result.plan is not None and [s.title for s in result.plan.steps] == ["look it up"]
    assert bodies[0]["tool_choice"] == {"type": "function", "function": {"name": "update_plan"}}
    assert "update_plan" in [t["function"]["name"] for t in bodies[1]["tools"]]
