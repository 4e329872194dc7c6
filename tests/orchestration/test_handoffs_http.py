"""A handoff end to end over HTTP: triage → billing against a loopback OpenAI-compatible
server (plait-openai, Chat Completions), streamed, as a user would run it."""

from __future__ import annotations

import json
from typing import Any

import pytest

import plait
from plait import ToolCall
from plait.testing import LoopbackServer, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
async def test_triage_to_billing_over_http(stream: bool) -> None:
    from plait_openai.provider import OpenAIProvider
    from plait_openai.testing import ChatWire

    wire = ChatWire()
    usage = {"stream": stream, "input_tokens": 20, "output_tokens": 5}
    replies = [
        wire.tool_calls([ToolCall(id="call_h", name="transfer_to_billing")], **usage),
        wire.tool_calls([ToolCall(id="call_r", name="refund", arguments='{"amount": 5}')], **usage),
        wire.text("Refunded 5 EUR.", **usage),
    ]
    refunds: list[int] = []

    @plait.tool
    def refund(amount: int) -> str:
        """Refund an amount."""
        refunds.append(amount)
        return f"refunded {amount}"

    async with LoopbackServer(replies) as server:
        model = OpenAIProvider("openai", api="chat").model(
            "gpt-test", base_url=server.base_url, api_key="sk-test-0123456789abcdef"
        )
        kernel = make_kernel()
        billing = plait.Agent("billing", instructions="You handle billing.", tools=[refund],
                              kernel=kernel)  # fmt: skip
        triage = plait.Agent("triage", instructions="Route the customer.", handoffs=[billing],
                             kernel=kernel, model=model)  # fmt: skip
        events: list[plait.Event] = []
        settings = plait.ModelSettings(stream=stream)
        result = await triage.arun("refund please", handlers=[events.append], settings=settings)
        await model.aclose()
        bodies: list[dict[str, Any]] = [json.loads(r.body) for r in server.requests]
    assert result.status == "success" and result.output == "Refunded 5 EUR."
    assert result.last_agent == "billing" and refunds == [5]
    assert [t["function"]["name"] for t in bodies[0]["tools"]] == ["transfer_to_billing"]
    assert [t["function"]["name"] for t in bodies[1]["tools"]] == ["refund"]
    assert bodies[1]["messages"][0] == {"role": "system", "content": "You handle billing."}
    assert any(e.kind == "agent.switch" for e in events)
