"""Chat Completions: the request plait builds and the answers it understands."""

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
    RequestParams,
    SystemMessage,
    Thinking,
    ToolCall,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)
from plait.provider import ServerSentEvent
from plait_openai import chat, chat_stream
from plait_openai.options import Options

TOOL = ToolSpec(
    "lookup", "Look a word up.", {"type": "object", "properties": {"q": {"type": "string"}}}
)
HISTORY = [
    SystemMessage(content="sys"),
    UserMessage(content="hi"),
    AssistantMessage(
        tool_calls=[ToolCall(id="c1", name="lookup", arguments='{"q":"x"}')],
        thinking=[Thinking(text="let me think", provider_data={"field": "reasoning_content"})],
    ),
    ToolResultMessage(tool_call_id="c1", name="lookup", content="found"),
]


def build(
    params: RequestParams, options: Options | None = None, stream: bool = False
) -> dict[str, Any]:
    return chat.build_request("m", HISTORY, params, options or Options(), stream=stream)


def test_messages_tools_and_stream_flag() -> None:
    body = build(RequestParams(tools=[TOOL]), stream=True)
    assert body["model"] == "m"
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "tool"]
    assistant = body["messages"][2]
    assert assistant["content"] is None
    assert assistant["tool_calls"] == [
        {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": '{"q":"x"}'}}
    ]
    assert assistant["reasoning_content"] == "let me think"  # sent back under its own field
    assert body["messages"][3] == {"role": "tool", "tool_call_id": "c1", "content": "found"}
    assert body["tools"][0]["function"]["name"] == "lookup"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_null_content_as_empty_for_quirky_servers() -> None:
    body = build(RequestParams(), Options(null_content_as_empty=True))
    assert body["messages"][2]["content"] == ""


def test_settings_are_mapped() -> None:
    settings = ModelSettings(
        temperature=0.2,
        max_tokens=50,
        top_p=0.9,
        seed=7,
        stop=("END",),
        tool_choice="lookup",
        parallel_tool_calls=False,
        extra={"logprobs": True, "temperature": 0.3},
    )
    body = build(
        RequestParams(tools=[TOOL], settings=settings),
        Options(max_tokens_field="max_completion_tokens"),
    )
    assert body["temperature"] == 0.3  # extra wins: it is merged last
    assert body["max_completion_tokens"] == 50
    assert (body["top_p"], body["seed"], body["stop"]) == (0.9, 7, ["END"])
    assert body["tool_choice"] == {"type": "function", "function": {"name": "lookup"}}
    assert body["parallel_tool_calls"] is False
    assert body["logprobs"] is True
    assert (
        build(RequestParams(settings=ModelSettings(tool_choice="required")))["tool_choice"]
        == "required"
    )
    assert "parallel_tool_calls" not in build(
        RequestParams(settings=ModelSettings(parallel_tool_calls=True))
    )


def test_structured_output_strict_only_when_the_schema_allows() -> None:
    closed = {
        "type": "object",
        "properties": {"a": {"type": "string"}},
        "required": ["a"],
        "additionalProperties": False,
    }
    open_ = {"type": "object", "properties": {"a": {"type": "string"}}}
    fmt = build(RequestParams(output=OutputSpec("out", closed)))["response_format"]
    assert fmt == {
        "type": "json_schema",
        "json_schema": {"name": "out", "schema": closed, "strict": True},
    }
    assert (
        build(RequestParams(output=OutputSpec("out", open_)))["response_format"]["json_schema"][
            "strict"
        ]
        is False
    )
    quirky = build(
        RequestParams(output=OutputSpec("out", closed)), Options(json_schema_mode="json_object")
    )
    assert quirky["response_format"] == {"type": "json_object", "schema": closed}


def completion(message: dict[str, Any], finish: str | None, usage: Any = None) -> dict[str, Any]:
    return {
        "id": "x",
        "model": "m",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": usage,
    }


def test_usage_with_cached_and_reasoning_tokens() -> None:
    usage = {
        "prompt_tokens": 100,
        "completion_tokens": 40,
        "prompt_tokens_details": {"cached_tokens": 64},
        "completion_tokens_details": {"reasoning_tokens": 30},
    }
    r = chat.parse_response(completion({"content": "ok"}, "stop", usage), provider="p")
    assert (r.usage.input_tokens, r.usage.output_tokens) == (100, 40)
    assert (r.usage.cache_read_tokens, r.usage.reasoning_tokens, r.usage.requests) == (64, 30, 1)


def test_length_keeps_truncated_tool_arguments_invalid() -> None:
    call = {
        "id": "c",
        "type": "function",
        "function": {"name": "lookup", "arguments": '{"q": "abc'},
    }
    r = chat.parse_response(
        completion({"content": None, "tool_calls": [call]}, "length"), provider="p"
    )
    assert r.finish_reason == "length"
    assert r.message.tool_calls[0].arguments == '{"q": "abc'
    with pytest.raises(json.JSONDecodeError):
        r.message.tool_calls[0].parsed_arguments()
    text = chat.parse_response(completion({"content": "cut sho"}, "length"), provider="p")
    assert (text.finish_reason, text.message.text) == ("length", "cut sho")


def test_invalid_tool_json_is_kept_for_the_model_to_correct() -> None:
    call = {"id": "c", "type": "function", "function": {"name": "lookup", "arguments": "{q: 1}"}}
    r = chat.parse_response(completion({"tool_calls": [call]}, "tool_calls"), provider="p")
    assert r.message.tool_calls[0].arguments == "{q: 1}"


def test_empty_choices_and_filtered_answers_are_typed_errors() -> None:
    with pytest.raises(ProtocolError):
        chat.parse_response({"id": "x", "choices": []}, provider="p")
    with pytest.raises(ProtocolError):
        chat.parse_response({"id": "x"}, provider="p")
    with pytest.raises(ContentFiltered):
        chat.parse_response(completion({"content": None}, "content_filter"), provider="p")
    partial = chat.parse_response(completion({"content": "Some"}, "content_filter"), provider="p")
    assert partial.finish_reason == "content_filter"


def test_refusal_and_reasoning() -> None:
    r = chat.parse_response(
        completion({"content": None, "refusal": "I can't."}, "stop"), provider="p"
    )
    assert (r.message.refusal, r.finish_reason) == ("I can't.", "refusal")
    r = chat.parse_response(completion({"content": "4", "reasoning": "2+2"}, "stop"), provider="p")
    assert r.message.thinking[0].text == "2+2"
    assert r.message.thinking[0].provider_data == {"field": "reasoning"}


def events(*chunks: Any) -> list[ServerSentEvent]:
    return [ServerSentEvent(data=c if isinstance(c, str) else json.dumps(c)) for c in chunks]


def test_stream_cut_in_a_tool_call_never_yields_arguments_as_empty() -> None:
    parser = chat_stream.StreamParser(provider="p")
    head = {"index": 0, "id": "c", "function": {"name": "lookup", "arguments": '{"q": '}}
    for e in events({"choices": [{"index": 0, "delta": {"tool_calls": [head]}}]}):
        parser.feed(e)
    with pytest.raises(ProtocolError, match="incomplete"):
        parser.result()


def test_stream_error_object_and_malformed_json() -> None:
    parser = chat_stream.StreamParser(provider="p")
    with pytest.raises(ProtocolError, match="not valid JSON"):
        parser.feed(ServerSentEvent(data='{"choices": ['))
    from plait import RateLimited

    with pytest.raises(RateLimited):
        parser.feed(
            ServerSentEvent(data='{"error": {"type": "rate_limit_error", "message": "slow"}}')
        )


def test_stream_of_a_host_without_indexes_and_with_groq_usage() -> None:
    parser = chat_stream.StreamParser(provider="p")
    out = []
    for e in events(
        {"id": "g", "choices": [{"index": 0, "delta": {"reasoning": "hmm"}}]},
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [{"id": "a", "function": {"name": "f", "arguments": "{}"}}]
                    },
                }
            ]
        },
        {
            "choices": [
                {
                    "index": 0,
                    "delta": {
                        "tool_calls": [{"id": "b", "function": {"name": "g", "arguments": "{}"}}]
                    },
                }
            ]
        },
        {
            "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}],
            "x_groq": {"usage": {"prompt_tokens": 5, "completion_tokens": 6}},
        },
        "[DONE]",
    ):
        out += parser.feed(e)
    r = parser.result()
    assert [(c.id, c.name) for c in r.message.tool_calls] == [("a", "f"), ("b", "g")]
    assert (r.usage.input_tokens, r.usage.output_tokens) == (5, 6)
    assert r.message.thinking[0].text == "hmm"
