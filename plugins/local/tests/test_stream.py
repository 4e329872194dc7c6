"""Streaming, usage, limits, stop strings and cancellation with the real model."""

from __future__ import annotations

import json
from contextlib import aclosing

import anyio
import pytest

from plait import (
    AssistantMessage,
    ModelSettings,
    RequestParams,
    ResponseDone,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)
from plait_local import LocalModel, LocalProvider

pytestmark = [pytest.mark.anyio, pytest.mark.slow]

HELLO = [UserMessage(content="Say hello.")]
WEATHER = ToolSpec(
    "get_weather",
    "Get the weather of a city.",
    {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
)


async def test_text_stream_ends_with_response_done(smollm2: LocalModel) -> None:
    params = RequestParams(settings=ModelSettings(max_tokens=16, seed=1))
    events = [e async for e in smollm2.stream(HELLO, params)]
    *deltas, done = events
    assert isinstance(done, ResponseDone)
    assert deltas and all(isinstance(d, TextDelta) for d in deltas)
    response = done.response
    assert "".join(d.text for d in deltas if isinstance(d, TextDelta)) == response.message.text
    assert response.usage.input_tokens > 0
    assert 0 < response.usage.output_tokens <= 16
    assert response.usage.requests == 1
    assert response.finish_reason in ("stop", "length")
    assert response.model == "local:smollm2"


async def test_max_tokens_ends_with_length(smollm2: LocalModel) -> None:
    params = RequestParams(settings=ModelSettings(max_tokens=3, seed=1))
    response = await smollm2.request([UserMessage(content="Write a long story.")], params)
    assert response.finish_reason == "length"
    assert response.usage.output_tokens == 3


async def test_tool_call_stream_deltas_add_up_to_the_call(smollm2: LocalModel) -> None:
    settings = ModelSettings(max_tokens=64, seed=2, tool_choice="required")
    params = RequestParams(tools=[WEATHER], settings=settings)
    events = [e async for e in smollm2.stream([UserMessage(content="Weather in Oslo?")], params)]
    *deltas, done = events
    assert isinstance(done, ResponseDone)
    assert all(isinstance(d, ToolCallDelta) and d.index == 0 for d in deltas)
    first = deltas[0]
    assert isinstance(first, ToolCallDelta)
    (call,) = done.response.message.tool_calls
    assert (first.id, first.name) == (call.id, "get_weather")
    streamed = "".join(d.arguments for d in deltas if isinstance(d, ToolCallDelta))
    assert streamed == call.arguments
    assert len(deltas) > 2  # the arguments arrive in pieces, not at the end
    assert isinstance(json.loads(call.arguments)["city"], str)
    assert done.response.finish_reason == "tool_calls"


async def test_a_tool_result_goes_back_and_the_model_answers(smollm2: LocalModel) -> None:
    history = [
        UserMessage(content="Weather in Oslo?"),
        AssistantMessage(
            tool_calls=[ToolCall(id="call_1", name="get_weather", arguments='{"city": "Oslo"}')]
        ),
        ToolResultMessage(tool_call_id="call_1", name="get_weather", content="rain, 4 C"),
    ]
    settings = ModelSettings(max_tokens=24, seed=3, tool_choice="none")
    response = await smollm2.request(history, RequestParams(tools=[WEATHER], settings=settings))
    assert response.message.text and response.message.tool_calls == []
    assert response.usage.input_tokens > 50  # the call and its result were in the prompt


async def test_stop_string_cuts_the_text(smollm2: LocalModel) -> None:
    params = RequestParams(settings=ModelSettings(seed=5, max_tokens=24))
    base = await smollm2.request(HELLO, params)
    text = base.message.text
    assert len(text) > 4
    stop = text[2:4]
    settings = ModelSettings(seed=5, max_tokens=24, stop=(stop,))
    events = [e async for e in smollm2.stream(HELLO, RequestParams(settings=settings))]
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.message.text == text[: text.index(stop)]
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == text[: text.index(stop)]
    assert done.response.finish_reason == "stop"


async def test_cancel_stops_between_tokens_and_frees_the_model(smollm2: LocalModel) -> None:
    params = RequestParams(settings=ModelSettings(max_tokens=400, seed=1))
    seen = 0
    with anyio.move_on_after(5) as scope:
        async for _ in smollm2.stream([UserMessage(content="Tell a long story.")], params):
            seen += 1
            if seen == 3:
                scope.cancel()
    assert scope.cancelled_caught
    assert seen == 3
    # The lock was released: the model answers the next request at once.
    with anyio.fail_after(30):
        response = await smollm2.request(HELLO, RequestParams(settings=ModelSettings(max_tokens=4)))
    assert response.usage.output_tokens > 0


async def test_closing_a_stream_early_frees_the_model(smollm2: LocalModel) -> None:
    params = RequestParams(settings=ModelSettings(max_tokens=400, seed=1))
    async with aclosing(smollm2.stream([UserMessage(content="Count to 100.")], params)) as events:
        async for _ in events:
            break
    with anyio.fail_after(30):
        response = await smollm2.request(HELLO, RequestParams(settings=ModelSettings(max_tokens=4)))
    assert response.usage.output_tokens > 0


async def test_concurrent_requests_are_serialised(smollm2: LocalModel) -> None:
    params = RequestParams(settings=ModelSettings(max_tokens=6, seed=4))
    results: list[int] = []

    async def ask() -> None:
        response = await smollm2.request(HELLO, params)
        results.append(response.usage.output_tokens)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(ask)
    assert len(results) == 3 and all(n > 0 for n in results)


@pytest.mark.parametrize("anyio_backend", ["trio"])
async def test_works_on_trio(provider: LocalProvider) -> None:
    model = provider.model("smollm2")
    try:
        response = await model.request(HELLO, RequestParams(settings=ModelSettings(max_tokens=4)))
        assert response.usage.output_tokens > 0
    finally:
        await model.aclose()
