"""Stream behaviour at the edges: invalid tool input JSON, a ``max_tokens`` stop, stop
reasons, pings and unknown events, tool-call deltas, structured output through a tool.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from plait.provider import OutputSpec, RequestParams, TextDelta, ToolCallDelta
from plait_anthropic.provider import AnthropicProvider

from ._wire_helpers import (
    ASK,
    KEY,
    START,
    collect,
    end,
    event,
    final,
    request,
    sse,
    text_block,
    tool_block,
)


@pytest.mark.anyio
async def test_invalid_tool_input_json_is_kept_raw_not_emptied() -> None:
    body = START + tool_block(0, "t1", '{"city": ', "Paris}") + end("tool_use")
    response = final(await collect(lambda r: sse(body)))
    (call,) = response.message.tool_calls
    assert call.arguments == '{"city": Paris}'
    with pytest.raises(ValueError, match="Expecting value"):
        call.parsed_arguments()


@pytest.mark.anyio
async def test_max_tokens_stop_marks_text_truncated_and_drops_the_cut_tool_call() -> None:
    body = START + text_block(0, "Let me") + tool_block(1, "t1", '{"ci') + end("max_tokens")
    events = await collect(lambda r: sse(body))
    response = final(events)
    assert response.finish_reason == "length"
    assert response.raw_finish_reason == "max_tokens"
    assert response.message.text == "Let me"
    assert response.message.tool_calls == []
    # Non-streamed: the same rule.
    message = {
        "id": "m",
        "model": "claude-x",
        "stop_reason": "max_tokens",
        "usage": {"input_tokens": 1, "output_tokens": 2},
        "content": [
            {"type": "text", "text": "Long"},
            {"type": "tool_use", "id": "t", "name": "f", "input": {}},
        ],
    }
    response = await request(lambda r: httpx.Response(200, json=message))
    assert response.finish_reason == "length"
    assert response.message.tool_calls == []


@pytest.mark.anyio
async def test_complete_tool_calls_before_a_max_tokens_stop_are_kept() -> None:
    body = START + tool_block(0, "t1", '{"a": 1}') + text_block(1, "and") + end("max_tokens")
    response = final(await collect(lambda r: sse(body)))
    assert [c.id for c in response.message.tool_calls] == ["t1"]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("tool_use", "tool_calls"),
        ("refusal", "refusal"),
        ("pause_turn", "incomplete"),
    ],
)
async def test_stop_reasons_are_normalised(raw: str, normalised: str) -> None:
    response = final(await collect(lambda r: sse(START + text_block(0, "x") + end(raw))))
    assert response.finish_reason == normalised
    assert response.raw_finish_reason == raw
    if raw == "refusal":
        assert response.message.refusal == "x"


@pytest.mark.anyio
async def test_pings_unknown_events_and_events_after_the_end_are_ignored() -> None:
    body = START + "event: ping\ndata: \n\n" + event({"type": "future_event", "x": 1})
    body += text_block(0, "ok") + end() + event({"type": "content_block_start", "index": 5})
    events = await collect(lambda r: sse(body))
    assert events[0] == TextDelta("ok")
    assert final(events).message.text == "ok"


@pytest.mark.anyio
async def test_stream_request_answered_with_a_plain_message() -> None:
    """A proxy that ignores ``stream: true``: the JSON message is still understood."""
    message = {
        "id": "m",
        "model": "claude-x",
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 2},
        "content": [{"type": "text", "text": "whole"}],
    }
    events = await collect(lambda r: httpx.Response(200, json=message))
    assert events[0] == TextDelta("whole")
    assert final(events).message.text == "whole"


@pytest.mark.anyio
async def test_tool_call_deltas_carry_id_and_name_first() -> None:
    body = START + tool_block(0, "t1", '{"a"', ": 1}") + tool_block(1, "t2", "") + end("tool_use")
    events = await collect(lambda r: sse(body))
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert deltas == [
        ToolCallDelta(0, id="t1", name="f"),
        ToolCallDelta(0, arguments='{"a"'),
        ToolCallDelta(0, arguments=": 1}"),
        ToolCallDelta(1, id="t2", name="f"),
    ]
    calls = final(events).message.tool_calls
    assert [(c.id, c.arguments) for c in calls] == [("t1", '{"a": 1}'), ("t2", "{}")]


@pytest.mark.anyio
async def test_structured_output_through_a_forced_tool_comes_back_as_text() -> None:
    output = OutputSpec("City", {"type": "object", "properties": {"name": {"type": "string"}}})
    params = RequestParams(output=output)
    message = {
        "id": "m",
        "model": "claude-x",
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 2},
        "content": [{"type": "tool_use", "id": "t", "name": "City", "input": {"name": "Paris"}}],
    }
    sent: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        if sent[-1].get("stream"):
            body = START + tool_block(0, "t", '{"name"', ': "Paris"}').replace('"f"', '"City"')
            return sse(body + end("tool_use"))
        return httpx.Response(200, json=message)

    provider = AnthropicProvider(api_key=KEY, options={"transport": httpx.MockTransport(answer)})
    model = provider.model("claude-x", output_mode="tool")
    response = await model.request(ASK, params)
    events = [e async for e in model.stream(ASK, params)]
    await model.aclose()
    assert sent[0]["tool_choice"] == {"type": "tool", "name": "City"}
    assert json.loads(response.message.text) == {"name": "Paris"}
    assert response.message.tool_calls == []
    assert response.finish_reason == "stop"
    streamed = final(events)
    assert [e for e in events if isinstance(e, TextDelta)] == [
        TextDelta('{"name"'),
        TextDelta(': "Paris"}'),
    ]
    assert not any(isinstance(e, ToolCallDelta) for e in events)
    assert json.loads(streamed.message.text) == {"name": "Paris"}
    assert streamed.finish_reason == "stop"
