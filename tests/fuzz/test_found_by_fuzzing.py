"""The crashes the fuzz targets found, minimized: each is now a typed error or a sane value.

Before the fix each of these raised ``TypeError``, ``AttributeError``, ``ValueError``,
``RecursionError``... out of a decoder, or returned a malformed value (a non-string in a
delta, a count past 2**63).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from plait.provider import (
    ProtocolError,
    ProviderError,
    ServerError,
    ServerSentEvent,
    ToolCallDelta,
    UserMessage,
    error_from_payload,
)
from plait_anthropic.response import parse_message
from plait_anthropic.stream import StreamState
from plait_anthropic.wire import convert_messages
from plait_openai import chat, responses, responses_stream
from plait_openai.chat_stream import StreamParser

CHOICE = {"index": 0, "finish_reason": "stop"}


@pytest.mark.parametrize(
    "message",
    [
        ["not", "an", "object"],
        {"tool_calls": [{"id": "c", "function": ["name"]}]},
        {"tool_calls": [{"id": "c", "function": {"name": ["f"]}}]},
        {"tool_calls": [{"id": 7, "function": {"name": "f"}}]},
        {"tool_calls": {"id": "c"}},
        {"content": [{"type": "text", "text": ["x"]}], "refusal": 3},
        {"content": 12},
    ],
)
def test_chat_response_with_a_field_of_the_wrong_type(message: Any) -> None:
    body = {"choices": [{**CHOICE, "message": message}]}
    with pytest.raises(ProtocolError, match="malformed response"):
        chat.parse_response(body, provider="p")


def test_chat_arguments_sent_as_an_object_and_absurd_counts() -> None:
    call = {"id": "c", "function": {"name": "f", "arguments": {"q": 1}}}
    usage = {"prompt_tokens": -5, "completion_tokens": 2**64}
    body = {"choices": [{**CHOICE, "message": {"tool_calls": [call]}}], "usage": usage}
    response = chat.parse_response(body, provider="p")
    assert json.loads(response.message.tool_calls[0].arguments) == {"q": 1}
    assert (response.usage.input_tokens, response.usage.output_tokens) == (0, 0)


@pytest.mark.parametrize(
    "chunk",
    [
        {"x_groq": ["usage"]},
        {"choices": [["not a choice"]]},
        {"choices": [{"index": 0, "delta": ["x"]}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"index": [0]}]}}]},
        {"choices": [{"index": 0, "delta": {"tool_calls": [{"function": {"name": 5}}]}}]},
        {"choices": [{"index": 0, "delta": {"refusal": ["no"]}}]},
    ],
)
def test_chat_stream_chunk_with_a_field_of_the_wrong_type(chunk: dict[str, Any]) -> None:
    parser = StreamParser(provider="p")
    with pytest.raises(ProtocolError):
        parser.feed(ServerSentEvent(data=json.dumps(chunk)))


def test_chat_stream_json_nested_too_deep_is_a_typed_error() -> None:
    with pytest.raises(ProtocolError):
        StreamParser(provider="p").feed(ServerSentEvent(data="[" * 100_000))


@pytest.mark.parametrize(
    "item",
    [
        {"type": "function_call", "call_id": ["c"], "name": "f"},
        {"type": "function_call", "call_id": "c", "name": {"n": 1}},
        {"type": "message", "content": [{"type": "refusal", "refusal": 1}]},
        {"type": "message", "content": "text"},
    ],
)
def test_responses_output_item_with_a_field_of_the_wrong_type(item: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError, match="malformed response"):
        responses.parse_response({"output": [item]}, provider="p")


@pytest.mark.parametrize(
    "event",
    [
        {"type": ["response.completed"]},
        {"type": "response.output_text.delta", "delta": ["x"]},
        {"type": "response.function_call_arguments.delta", "output_index": [0]},
        {"type": "response.output_item.added", "item": ["function_call"]},
        {"type": "response.completed", "response": ["done"]},
    ],
)
def test_responses_stream_event_with_a_field_of_the_wrong_type(event: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError):
        responses_stream.StreamParser(provider="p").feed(ServerSentEvent(data=json.dumps(event)))


def test_responses_reasoning_part_without_string_text_is_skipped() -> None:
    item = {"type": "reasoning", "summary": [{"text": ["x"]}, {"text": "kept"}]}
    response = responses.parse_response({"output": [item]}, provider="p")
    assert response.message.thinking[0].text == "kept"


def test_responses_stream_item_done_without_a_usable_index() -> None:
    parser = responses_stream.StreamParser(provider="p")
    for event in (
        {"type": "response.output_item.done", "output_index": "", "item": {"type": "x"}},
        {"type": "response.completed", "response": {"status": "completed"}},
    ):
        parser.feed(ServerSentEvent(data=json.dumps(event)))
    assert parser.result().message.provider_data == {"items": [{"type": "x"}]}


START = {"type": "message_start", "message": {"id": "m", "model": "x", "usage": {}}}


@pytest.mark.parametrize(
    "event",
    [
        {"type": ["message_start"]},
        {"type": "content_block_start", "index": "", "content_block": {"type": "text"}},
        {"type": "content_block_start", "index": 0, "content_block": "text"},
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": 1}},
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": ["t"], "name": "f"}},
        {"type": "message_delta", "delta": {"stop_reason": ["end_turn"]}},
    ],
)  # fmt: skip
def test_anthropic_stream_event_with_a_field_of_the_wrong_type(event: dict[str, Any]) -> None:
    state = StreamState(provider="p")
    state.feed(json.dumps(START))
    with pytest.raises(ProtocolError):
        state.feed(json.dumps(event))


def test_anthropic_text_delta_that_is_not_a_string() -> None:
    state = StreamState(provider="p")
    state.feed(json.dumps(START))
    block = {"type": "content_block_start", "index": 0, "content_block": {"type": "text"}}
    state.feed(json.dumps(block))
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta"}}
    with pytest.raises(ProtocolError, match="malformed"):
        state.feed(json.dumps({**delta, "delta": {"type": "text_delta", "text": [1]}}))


def test_anthropic_tool_input_nested_too_deep_is_kept_as_streamed() -> None:
    state = StreamState(provider="p")
    deep = "[" * 100_000
    for event in (
        START,
        {"type": "content_block_start", "index": 0,
         "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {}}},
        {"type": "content_block_delta", "index": 0,
         "delta": {"type": "input_json_delta", "partial_json": deep}},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": "tool_use"}, "usage": {}},
        {"type": "message_stop"},
    ):  # fmt: skip
        deltas = state.feed(json.dumps(event))
        assert all(not isinstance(d, ToolCallDelta) or d.index == 0 for d in deltas)
    assert state.finish().message.tool_calls[0].arguments == deep


def test_anthropic_absurd_usage_counts_are_not_counted() -> None:
    usage = {"input_tokens": 48, "cache_creation_input_tokens": 2**63, "output_tokens": -1}
    body = {"content": [], "usage": usage, "stop_reason": "end_turn"}
    response = parse_message(body, provider="p")
    assert (response.usage.input_tokens, response.usage.output_tokens) == (48, 0)


def test_anthropic_text_block_with_null_text_can_be_sent_back() -> None:
    body = {
        "content": [{"type": "text", "text": None, "citations": []}, {"type": "mystery"}],
        "stop_reason": "end_turn",
    }
    message = parse_message(body, provider="p").message
    _, turns = convert_messages([UserMessage(content="hi"), message])
    assert turns[-1]["role"] == "assistant"


@pytest.mark.parametrize("code", ["²", "1" * 5000, "٣٠٠"])
def test_error_payload_with_a_code_that_only_looks_numeric(code: str) -> None:
    error = error_from_payload({"error": {"message": "m", "code": code}}, provider="p")
    assert isinstance(error, ServerError)
    assert error.status_code is None


def test_every_error_above_is_a_provider_error() -> None:
    assert issubclass(ProtocolError, ProviderError)
