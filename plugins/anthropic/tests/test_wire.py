"""The request body plait sends to the Messages API, built without a network."""

from __future__ import annotations

import json
from typing import Any

import pytest

from plait.provider import (
    AssistantMessage,
    Message,
    ModelSettings,
    OutputSpec,
    RequestParams,
    SystemMessage,
    Thinking,
    ToolCall,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)
from plait_anthropic.response import parse_message
from plait_anthropic.wire import DEFAULT_MAX_TOKENS, build_body

TOOL = ToolSpec(
    "get_weather",
    "Weather of a city",
    {"type": "object", "properties": {"city": {"type": "string"}}},
)


def body(messages: list[Message] | None = None, **params: Any) -> dict[str, Any]:
    return build_body("claude-x", messages or [UserMessage(content="hi")], RequestParams(**params))


def test_minimal_body_has_what_the_api_requires() -> None:
    got = body()
    assert got == {
        "model": "claude-x",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}],
    }


def test_max_tokens_from_settings_then_model_defaults() -> None:
    assert body(settings=ModelSettings(max_tokens=77))["max_tokens"] == 77
    made = build_body("m", [UserMessage(content="x")], RequestParams(), defaults={"max_tokens": 9})
    assert made["max_tokens"] == 9


def test_settings_are_mapped() -> None:
    settings = ModelSettings(
        temperature=0.2, top_p=0.9, stop=("END", "STOP"), seed=3, extra={"top_k": 5}
    )
    got = body(settings=settings)
    assert got["temperature"] == 0.2
    assert got["top_p"] == 0.9
    assert got["stop_sequences"] == ["END", "STOP"]
    assert got["top_k"] == 5
    assert "seed" not in got  # no Anthropic equivalent


def test_extra_wins_over_everything() -> None:
    got = body(
        settings=ModelSettings(
            max_tokens=10, extra={"max_tokens": 20, "metadata": {"user_id": "u"}}
        )
    )
    assert got["max_tokens"] == 20
    assert got["metadata"] == {"user_id": "u"}


@pytest.mark.parametrize(
    ("choice", "wire"),
    [
        ("auto", {"type": "auto"}),
        ("none", {"type": "none"}),
        ("required", {"type": "any"}),
        ("get_weather", {"type": "tool", "name": "get_weather"}),
    ],
)
def test_tool_choice(choice: str, wire: dict[str, Any]) -> None:
    got = body(tools=[TOOL], settings=ModelSettings(tool_choice=choice))
    assert got["tool_choice"] == wire
    assert got["tools"] == [
        {
            "name": "get_weather",
            "description": "Weather of a city",
            "input_schema": dict(TOOL.parameters),
        }
    ]


def test_parallel_tool_calls_false_disables_parallel_use() -> None:
    got = body(tools=[TOOL], settings=ModelSettings(parallel_tool_calls=False))
    assert got["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    got = body(
        tools=[TOOL], settings=ModelSettings(parallel_tool_calls=False, tool_choice="required")
    )
    assert got["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}


def test_no_tools_no_tool_choice() -> None:
    assert "tool_choice" not in body(settings=ModelSettings(tool_choice="auto"))


def test_strict_tools_are_marked() -> None:
    strict = ToolSpec("t", "d", {"type": "object", "properties": {}}, strict=True)
    assert body(tools=[strict])["tools"][0]["strict"] is True


def test_native_structured_output() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    got = body(output=OutputSpec("City", schema))
    assert got["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert "tools" not in got


def test_structured_output_through_a_forced_tool() -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}}}
    got = build_body(
        "m",
        [UserMessage(content="x")],
        RequestParams(tools=[TOOL], output=OutputSpec("City", schema)),
        output_mode="tool",
    )
    assert [t["name"] for t in got["tools"]] == ["get_weather", "City"]
    assert got["tools"][1]["input_schema"] == schema
    assert got["tool_choice"] == {"type": "tool", "name": "City"}
    assert "output_config" not in got


def test_system_messages_go_to_the_top_level() -> None:
    got = body(
        [
            SystemMessage(content="Be brief."),
            UserMessage(content="hi"),
            SystemMessage(content="Use French."),
        ]
    )
    assert got["system"] == "Be brief.\n\nUse French."
    assert [t["role"] for t in got["messages"]] == ["user"]


def _tool_round() -> list[Message]:
    return [
        UserMessage(content="weather?"),
        AssistantMessage(
            text="Let me look.",
            thinking=[
                Thinking(text="need tool", signature="sig-1"),
                Thinking(redacted=True, provider_data={"data": "opaque"}),
            ],
            tool_calls=[
                ToolCall(id="t1", name="get_weather", arguments='{"city": "Paris"}'),
                ToolCall(id="t2", name="get_weather", arguments='{"city": "Rome"}'),
            ],
        ),
        ToolResultMessage(tool_call_id="t1", name="get_weather", content="sunny"),
        ToolResultMessage(tool_call_id="t2", name="get_weather", content="boom", is_error=True),
        UserMessage(content="and tomorrow?"),
    ]


def test_tool_round_trip_alternates_and_keeps_thinking_first() -> None:
    turns = body(_tool_round())["messages"]
    assert [t["role"] for t in turns] == ["user", "assistant", "user"]
    assert turns[1]["content"] == [
        {"type": "thinking", "thinking": "need tool", "signature": "sig-1"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "Let me look."},
        {"type": "tool_use", "id": "t1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "t2", "name": "get_weather", "input": {"city": "Rome"}},
    ]
    # Consecutive tool results merge into one user turn, before the user's next text.
    assert turns[2]["content"] == [
        {"type": "tool_result", "tool_use_id": "t1", "content": "sunny"},
        {"type": "tool_result", "tool_use_id": "t2", "content": "boom", "is_error": True},
        {"type": "text", "text": "and tomorrow?"},
    ]


def test_unsigned_thinking_and_empty_turns_are_not_sent() -> None:
    messages: list[Message] = [
        UserMessage(content="a"),
        AssistantMessage(thinking=[Thinking(text="from another provider")]),
        UserMessage(content="b"),
    ]
    turns = body(messages)["messages"]
    assert turns == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    ]


def test_invalid_tool_arguments_are_sent_back_as_an_object() -> None:
    messages: list[Message] = [
        UserMessage(content="a"),
        AssistantMessage(tool_calls=[ToolCall(id="t", name="f", arguments='{"x": ')]),
        ToolResultMessage(tool_call_id="t", name="f", content="invalid arguments", is_error=True),
    ]
    use = body(messages)["messages"][1]["content"][0]
    assert use["input"] == {"_invalid_json": '{"x": '}


SERVER_TOOL_RESPONSE = {
    "id": "msg_1",
    "model": "claude",
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 5, "output_tokens": 3},
    "content": [
        {"type": "text", "text": "Searching."},
        {"type": "server_tool_use", "id": "srv1", "name": "web_search", "input": {"query": "x"}},
        {
            "type": "web_search_tool_result",
            "tool_use_id": "srv1",
            "content": [{"type": "web_search_result", "url": "u"}],
        },
        {
            "type": "text",
            "text": "Found",
            "citations": [{"type": "web_search_result_location", "url": "u"}],
        },
    ],
}


def test_server_tool_blocks_are_replayed_unchanged() -> None:
    response = parse_message(SERVER_TOOL_RESPONSE, provider="anthropic")
    assert response.message.text == "Searching.Found"
    assert response.message.tool_calls == []
    turns = body([UserMessage(content="q"), response.message, UserMessage(content="thanks")])[
        "messages"
    ]
    assert turns[1]["content"] == SERVER_TOOL_RESPONSE["content"]


def test_edited_message_falls_back_to_its_own_content() -> None:
    response = parse_message(SERVER_TOOL_RESPONSE, provider="anthropic")
    edited = response.message.model_copy(update={"text": "[redacted]"})
    turns = body([UserMessage(content="q"), edited])["messages"]
    assert turns[1]["content"] == [{"type": "text", "text": "[redacted]"}]


def test_history_round_trips_through_json() -> None:
    """A stored history (JSON) rebuilds the same request."""
    response = parse_message(SERVER_TOOL_RESPONSE, provider="anthropic")
    stored = json.loads(response.message.model_dump_json())
    again = AssistantMessage.model_validate(stored)
    assert body([UserMessage(content="q"), again]) == body(
        [UserMessage(content="q"), response.message]
    )


def test_server_tools_are_added_to_function_tools() -> None:
    search = {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}
    fetch = {"type": "web_fetch_20250910", "name": "web_fetch"}
    got = build_body(
        "m",
        [UserMessage(content="x")],
        RequestParams(tools=[TOOL], settings=ModelSettings(extra={"tools": [fetch]})),
        defaults={"tools": [search]},
    )
    assert [t["name"] for t in got["tools"]] == ["get_weather", "web_search", "web_fetch"]
    only_server = body(settings=ModelSettings(tool_choice="auto", extra={"tools": [search]}))
    assert only_server["tools"] == [search]
    assert only_server["tool_choice"] == {"type": "auto"}
