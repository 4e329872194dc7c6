"""The decoder and the grammar plan, without the model: every way of splitting the text."""

from __future__ import annotations

import pytest

from plait import (
    AssistantMessage,
    ModelSettings,
    Rejected,
    RequestParams,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)
from plait_local._decode import Decoder
from plait_local._grammar import Plan, call_prefix, plan
from plait_local._prompt import render

TOOLS = (
    ToolSpec("get_weather", "w", {"type": "object", "properties": {"city": {"type": "string"}}}),
    ToolSpec("get_time", "time", {"type": "object", "properties": {}}),
)
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "P}a\\"ris"} }\n</tool_call>'


def _feed(decoder: Decoder, text: str, cut: int) -> list[object]:
    return [*decoder.feed(text[:cut]), *decoder.feed(text[cut:])]


@pytest.mark.parametrize("cut", range(len(CALL) + 1))
def test_call_arguments_stream_exactly(cut: int) -> None:
    decoder = Decoder(Plan(grammar="g", tools=("get_weather", "get_time")))
    events = _feed(decoder, CALL, cut)
    assert all(isinstance(e, ToolCallDelta) for e in events)
    (call,) = decoder.message().tool_calls
    assert call.name == "get_weather"
    assert call.arguments == '{"city": "P}a\\"ris"}'
    args = "".join(e.arguments for e in events if isinstance(e, ToolCallDelta))
    assert args == call.arguments
    named = [e for e in events if isinstance(e, ToolCallDelta) and e.name]
    assert [(e.id, e.name) for e in named] == [(call.id, "get_weather")]
    assert decoder.call_complete


def test_a_call_cut_short_is_not_complete() -> None:
    decoder = Decoder(Plan(grammar="g", tools=("get_weather",)))
    decoder.feed(CALL[:60])
    assert not decoder.call_complete
    start = len(call_prefix("get_weather"))
    assert decoder.message().tool_calls[0].arguments == CALL[start:60]


@pytest.mark.parametrize("cut", range(12))
def test_stop_string_is_held_back_and_cut(cut: int) -> None:
    decoder = Decoder(Plan(grammar=None), stop=("END",))
    text = "Hello, ENDING"
    events = _feed(decoder, text, cut)
    assert decoder.stopped
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello, "
    assert decoder.message().text == "Hello, "


def test_text_when_tools_are_offered() -> None:
    decoder = Decoder(Plan(grammar="g", tools=("get_weather",)))
    events = decoder.feed("It is sunny.")
    assert events == [TextDelta("It is sunny.")]
    assert decoder.message().tool_calls == []


def test_no_tools_no_output_means_no_grammar() -> None:
    assert plan(RequestParams()).grammar is None
    none = RequestParams(tools=TOOLS, settings=ModelSettings(tool_choice="none"))
    assert plan(none) == Plan(grammar=None)


def test_plans_for_tool_choice() -> None:
    auto = plan(RequestParams(tools=TOOLS))
    assert auto.tools == ("get_weather", "get_time") and auto.free_text
    assert auto.grammar is not None and "root ::= tool-call | text" in auto.grammar
    required = plan(RequestParams(tools=TOOLS, settings=ModelSettings(tool_choice="required")))
    assert required.grammar is not None and "root ::= tool-call\n" in required.grammar
    assert not required.free_text
    named = plan(RequestParams(tools=TOOLS, settings=ModelSettings(tool_choice="get_time")))
    assert named.tools == ("get_time",)


def test_impossible_tool_choices_are_rejected() -> None:
    with pytest.raises(Rejected, match="offers no tools"):
        plan(RequestParams(settings=ModelSettings(tool_choice="required")))
    with pytest.raises(Rejected, match="'nope', which is not among"):
        plan(RequestParams(tools=TOOLS, settings=ModelSettings(tool_choice="nope")))


def test_strings_in_the_grammar_exclude_control_characters() -> None:
    grammar = plan(RequestParams(tools=TOOLS)).grammar
    assert grammar is not None
    (char,) = [line for line in grammar.splitlines() if line.startswith("char ::= ")]
    assert r"\x00-\x1F" in char


def test_prompt_is_chatml_with_tools_calls_and_results() -> None:
    messages = [
        SystemMessage(content="Be brief."),
        UserMessage(content="Weather?"),
        AssistantMessage(tool_calls=[ToolCall(id="c1", name="get_weather", arguments="{}")]),
        ToolResultMessage(tool_call_id="c1", name="get_weather", content="sunny"),
    ]
    params = RequestParams(tools=TOOLS)
    prompt = render(messages, params, plan(params))
    assert prompt.startswith("<|im_start|>system\nBe brief.\n\nYou can call these tools:")
    assert '"name": "get_time"' in prompt
    assert f"{call_prefix('get_weather')}{{}}}}\n</tool_call><|im_end|>" in prompt
    assert "<|im_start|>tool\n<tool_response>\nsunny\n</tool_response><|im_end|>\n" in prompt
    assert prompt.endswith("<|im_start|>assistant\n")
    assert render([UserMessage(content="hi")], RequestParams(), plan(RequestParams())).startswith(
        "<|im_start|>system\nYou are a helpful AI assistant named SmolLM"
    )


def test_a_call_cut_before_its_name_has_no_arguments() -> None:
    decoder = Decoder(Plan(grammar="g", tools=("get_weather",)))
    decoder.feed('<tool_call>\n{"name": "get_wea')
    (call,) = decoder.message().tool_calls
    assert (call.name, call.arguments) == ("", "")
    assert not decoder.call_complete


def test_max_string_length_caps_free_strings_only() -> None:
    schema = {
        "type": "object",
        "properties": {
            "free": {"type": "string"},
            "short": {"type": "string", "maxLength": 3},
            "choice": {"type": "string", "enum": ["a", "b"]},
            "items": {"type": "array", "items": {"type": "integer"}},
        },
    }
    params = RequestParams(tools=(ToolSpec("t", "", schema),))
    capped = plan(params, max_string_length=5).grammar
    assert capped is not None and capped != plan(params).grammar
    free_rule = next(line for line in capped.splitlines() if line.startswith("args0-free ::="))
    assert free_rule.count("char") == 5  # at most five characters
    assert "args0-choice ::= " in capped
    capped_items = plan(params, max_array_items=2).grammar
    assert capped_items is not None
    items_rule = next(r for r in capped_items.splitlines() if r.startswith("args0-items ::="))
    assert items_rule.count("integer") == 2  # at most two items
