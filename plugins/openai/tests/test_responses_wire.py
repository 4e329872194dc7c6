"""Responses API: input items, reasoning round trip, finish reasons, stream events."""

from __future__ import annotations

import json
from typing import Any

import pytest

from plait import (
    AssistantMessage,
    ContentFiltered,
    ModelSettings,
    OutputSpec,
    ProtocolError,
    RateLimited,
    RequestParams,
    ToolCall,
    ToolCallDelta,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)
from plait.provider import ServerSentEvent
from plait_openai import responses, responses_stream
from plait_openai.options import Options

REASONING = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "plan"}],
    "encrypted_content": "gAAA",
}
CALL = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "f",
    "arguments": '{"a":1}',
}


def test_reasoning_items_are_kept_and_sent_back_before_calls() -> None:
    r = responses.parse_response(
        {"status": "completed", "output": [REASONING, CALL], "usage": {}}, provider="p"
    )
    assert r.finish_reason == "tool_calls"
    assert r.message.thinking[0].text == "plan"
    history = [
        UserMessage(content="q"),
        r.message,
        ToolResultMessage(tool_call_id="call_1", name="f", content="1"),
    ]
    body = responses.build_request(
        "m", history, RequestParams(), Options(store=False), stream=False
    )
    assert body["input"][1] == {
        "type": "reasoning",
        "id": "rs_1",
        "summary": REASONING["summary"],
        "encrypted_content": "gAAA",
    }
    assert body["input"][2] == {
        "type": "function_call",
        "call_id": "call_1",
        "name": "f",
        "arguments": '{"a":1}',
    }
    assert body["input"][3] == {"type": "function_call_output", "call_id": "call_1", "output": "1"}
    assert body["store"] is False
    assert body["include"] == ["reasoning.encrypted_content"]


def test_request_fields() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    params = RequestParams(
        tools=[ToolSpec("f", "d", {"type": "object"})],
        output=OutputSpec("out", schema),
        settings=ModelSettings(max_tokens=9, tool_choice="f", temperature=0.1),
    )
    body = responses.build_request("m", [UserMessage(content="q")], params, Options(), stream=True)
    assert body["tools"] == [
        {"type": "function", "name": "f", "description": "d", "parameters": {"type": "object"}}
    ]
    assert body["text"] == {
        "format": {"type": "json_schema", "name": "out", "schema": schema, "strict": True}
    }
    assert (body["max_output_tokens"], body["temperature"], body["stream"]) == (9, 0.1, True)
    assert body["tool_choice"] == {"type": "function", "name": "f"}
    assert "store" not in body


def test_usage_incomplete_refusal_and_failures() -> None:
    usage = {
        "input_tokens": 10,
        "output_tokens": 5,
        "input_tokens_details": {"cached_tokens": 4},
        "output_tokens_details": {"reasoning_tokens": 3},
    }
    message = {"type": "message", "content": [{"type": "output_text", "text": "Hi"}]}
    r = responses.parse_response(
        {"status": "completed", "output": [message], "usage": usage}, provider="p"
    )
    assert (
        r.usage.input_tokens,
        r.usage.output_tokens,
        r.usage.cache_read_tokens,
        r.usage.reasoning_tokens,
    ) == (10, 5, 4, 3)
    cut = {
        "status": "incomplete",
        "incomplete_details": {"reason": "max_output_tokens"},
        "output": [message],
    }
    assert responses.parse_response(cut, provider="p").finish_reason == "length"
    filtered = {
        "status": "incomplete",
        "incomplete_details": {"reason": "content_filter"},
        "output": [],
    }
    with pytest.raises(ContentFiltered):
        responses.parse_response(filtered, provider="p")
    refusal = {"type": "message", "content": [{"type": "refusal", "refusal": "No."}]}
    r = responses.parse_response({"status": "completed", "output": [refusal]}, provider="p")
    assert (r.message.refusal, r.finish_reason) == ("No.", "refusal")
    with pytest.raises(RateLimited):
        responses.parse_response(
            {"status": "failed", "error": {"code": "rate_limit_exceeded", "message": "x"}},
            provider="p",
        )
    with pytest.raises(ProtocolError):
        responses.parse_response({"status": "completed"}, provider="p")


def sse(kind: str, **data: Any) -> ServerSentEvent:
    return ServerSentEvent(event=kind, data=json.dumps({"type": kind, **data}))


def test_stream_tool_call_pieces_and_incomplete_end() -> None:
    parser = responses_stream.StreamParser(provider="p")
    out = parser.feed(
        sse("response.output_item.added", output_index=0, item={**CALL, "arguments": ""})
    )
    out += parser.feed(
        sse("response.function_call_arguments.delta", output_index=0, item_id="fc_1", delta='{"a"')
    )
    assert out == [ToolCallDelta(0, "call_1", "f", ""), ToolCallDelta(0, None, None, '{"a"')]
    with pytest.raises(ProtocolError, match="incomplete"):
        parser.result()
    parser.feed(sse("response.output_item.done", output_index=0, item=CALL))
    parser.feed(
        sse(
            "response.completed",
            response={"status": "completed", "output": [], "usage": {"input_tokens": 1}},
        )
    )
    assert parser.finished
    result = parser.result()
    assert result.message.tool_calls == [ToolCall(id="call_1", name="f", arguments='{"a":1}')]


def test_stream_failure_event() -> None:
    parser = responses_stream.StreamParser(provider="p")
    with pytest.raises(RateLimited):
        parser.feed(
            sse(
                "response.failed",
                response={
                    "status": "failed",
                    "error": {"code": "rate_limit_exceeded", "message": "m"},
                },
            )
        )


def test_assistant_text_is_an_output_text_message() -> None:
    body = responses.build_request(
        "m", [AssistantMessage(text="hello")], RequestParams(), Options(), stream=False
    )
    assert body["input"] == [
        {
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": "hello"}],
        }
    ]
