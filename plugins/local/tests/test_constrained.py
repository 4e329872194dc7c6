"""Constrained decoding against the real model: every call parses and validates."""

from __future__ import annotations

from typing import Any, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field

from plait import ModelSettings, OutputSpec, RequestParams, ToolSpec, UserMessage
from plait_local import LocalModel, LocalProvider

pytestmark = [pytest.mark.anyio, pytest.mark.slow]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Weather(_Strict):
    city: str
    unit: Literal["celsius", "fahrenheit"] = "celsius"


class Arithmetic(_Strict):
    a: float
    b: int
    op: Literal["add", "sub", "mul"]


class Address(_Strict):
    street: str
    zip_code: str


class Person(_Strict):
    name: str
    age: int = Field(ge=0, le=150)
    address: Address


class Shopping(_Strict):
    items: list[str]
    quantities: list[int]
    urgent: bool


class Search(_Strict):
    query: str
    limit: int | None = None
    tags: list[str] = Field(default_factory=list)


class Reminder(_Strict):
    when: Literal["today", "tomorrow"]
    note: str | None = None


class NoArguments(_Strict):
    pass


SCHEMAS: dict[str, tuple[type[_Strict], str]] = {
    "get_time": (NoArguments, "What time is it?"),
    "get_weather": (Weather, "What is the weather in Paris?"),
    "calculate": (Arithmetic, "What is 2.5 times 4?"),
    "add_person": (Person, "Add Alice, 30, who lives at 1 Main Street, 12345."),
    "shopping_list": (Shopping, "I need 2 apples and 3 pears, quickly."),
    "search": (Search, "Search the web for llama recipes."),
    "remind": (Reminder, "Remind me tomorrow to call Bob."),
}


def _spec(name: str, model: type[_Strict]) -> ToolSpec:
    return ToolSpec(name, f"The {name.replace('_', ' ')} tool.", model.model_json_schema())


def _params(tools: list[ToolSpec], **settings: Any) -> RequestParams:
    values = {"max_tokens": 160, "seed": 7, **settings}
    return RequestParams(tools=tools, settings=ModelSettings(**values))


@pytest.mark.parametrize("name", sorted(SCHEMAS))
async def test_required_call_validates_against_the_tool_schema(
    smollm2: LocalModel, name: str
) -> None:
    model, prompt = SCHEMAS[name]
    params = _params([_spec(name, model)], tool_choice="required")
    response = await smollm2.request([UserMessage(content=prompt)], params)
    assert response.finish_reason == "tool_calls"
    (call,) = response.message.tool_calls
    assert call.name == name
    assert call.id.startswith("call_")
    model.model_validate_json(call.arguments)  # raises if the arguments do not validate
    assert response.usage.tool_calls == 1


async def test_named_tool_choice_forces_that_tool(smollm2: LocalModel) -> None:
    tools = [_spec(n, m) for n, (m, _) in SCHEMAS.items()]
    params = _params(tools, tool_choice="remind")
    response = await smollm2.request([UserMessage(content="What is the weather?")], params)
    (call,) = response.message.tool_calls
    assert call.name == "remind"
    Reminder.model_validate_json(call.arguments)


async def test_auto_gives_text_or_a_valid_call(smollm2: LocalModel) -> None:
    tools = [_spec(n, m) for n, (m, _) in SCHEMAS.items()]
    for seed in range(2):
        params = _params(tools, seed=seed, max_tokens=48)
        response = await smollm2.request([UserMessage(content="Weather in Rome?")], params)
        if response.message.tool_calls:
            (call,) = response.message.tool_calls
            SCHEMAS[call.name][0].model_validate_json(call.arguments)
        else:
            assert response.message.text
            assert not response.message.text.startswith("<")


async def test_tool_choice_none_forbids_calls(smollm2: LocalModel) -> None:
    params = _params([_spec("get_weather", Weather)], tool_choice="none", max_tokens=24)
    response = await smollm2.request([UserMessage(content="Weather in Paris?")], params)
    assert response.message.tool_calls == []
    assert response.message.text


class Forecast(_Strict):
    city: str
    temperature_c: float
    conditions: Literal["sunny", "cloudy", "rainy", "snowy"]
    hourly: list[int] = Field(max_length=3)


async def test_structured_output_validates_against_the_output_schema(
    smollm2: LocalModel,
) -> None:
    output = OutputSpec("forecast", Forecast.model_json_schema())
    params = RequestParams(output=output, settings=ModelSettings(max_tokens=128, seed=3))
    response = await smollm2.request([UserMessage(content="Forecast for Oslo.")], params)
    assert response.finish_reason == "stop"
    assert response.message.tool_calls == []
    Forecast.model_validate_json(response.message.text)


async def test_output_with_tools_is_a_call_or_the_output(smollm2: LocalModel) -> None:
    output = OutputSpec("forecast", Forecast.model_json_schema())
    for seed in range(2):
        params = RequestParams(
            tools=[_spec("get_weather", Weather)],
            output=output,
            settings=ModelSettings(max_tokens=128, seed=seed),
        )
        response = await smollm2.request([UserMessage(content="Forecast for Oslo.")], params)
        if response.message.tool_calls:
            Weather.model_validate_json(response.message.tool_calls[0].arguments)
        else:
            Forecast.model_validate_json(response.message.text)


async def test_model_options_require_calls_and_cap_strings(provider: LocalProvider) -> None:
    model = provider.model(
        "smollm2", tool_choice="required", max_string_length=12, max_array_items=2
    )
    try:
        params = RequestParams(tools=[_spec("search", Search)], settings=ModelSettings(seed=1))
        prompt = [UserMessage(content="Search the web for a very long list of llama recipes.")]
        response = await model.request(prompt, params)
    finally:
        await model.aclose()
    (call,) = response.message.tool_calls  # no tool_choice in the request: the option's
    args = Search.model_validate_json(call.arguments)
    assert len(args.query) <= 12 and all(len(tag) <= 12 for tag in args.tags)
    assert len(args.tags) <= 2
