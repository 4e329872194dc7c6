"""plait-openai against a real OpenAI-compatible server: llama.cpp's, on loopback.

One ``python -m llama_cpp.server`` per session serves SmolLM2-135M (the GGUF plait-local
ships) on one thread. The tests assert shapes and validity — parsed responses, usage,
tool calls whose arguments validate, JSON that matches its schema — never the meaning of
a 135M model's words. The server's two quirks are handled by the provider options
``json_schema_mode="json_object"`` and ``null_content_as_empty=True``; the tests also
pin that the server still needs them.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import pydantic
import pytest

import plait
from plait import (
    AssistantMessage,
    ModelResponse,
    ModelSettings,
    OutputSpec,
    ProviderError,
    RequestParams,
    ResponseDone,
    ServerError,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)
from plait_local._files import resolve, verify
from plait_openai.model import OpenAIModel
from plait_openai.provider import OpenAIProvider

from ._llama_server import MODEL_ALIAS, LlamaServer, ServerStartError, running_server

pytestmark = pytest.mark.slow

QUIRKS = {"json_schema_mode": "json_object", "null_content_as_empty": True}
SETTINGS = ModelSettings(max_tokens=24, temperature=0.0, seed=7)


class WeatherArgs(pydantic.BaseModel):
    """What a ``get_weather`` call's arguments must validate as."""

    model_config = pydantic.ConfigDict(extra="forbid")
    city: str
    unit: Literal["celsius", "fahrenheit"]


class Forecast(pydantic.BaseModel):
    """A structured output whose strings are enums (see ``test_json_schema_output``)."""

    model_config = pydantic.ConfigDict(extra="forbid")
    sky: Literal["sunny", "cloudy", "rainy"]
    temperature_c: int
    windy: bool


GET_WEATHER = ToolSpec(
    "get_weather",
    "The current weather in a city.",
    WeatherArgs.model_json_schema(),
)
FORECAST = OutputSpec("forecast", Forecast.model_json_schema())


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """llama.cpp's server for the session: the checksummed SmolLM2 GGUF, one thread."""
    model_file = resolve("smollm2")
    verify(model_file)
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    with running_server(model_file.path, log) as server:
        yield server


def make_model(server: LlamaServer, **options: Any) -> OpenAIModel:
    provider = OpenAIProvider("llama", base_url=server.base_url, options=QUIRKS)
    model = provider.model(MODEL_ALIAS, **options)
    assert isinstance(model, OpenAIModel)
    return model


@pytest.fixture
async def model(llama_server: LlamaServer) -> AsyncIterator[OpenAIModel]:
    made = make_model(llama_server)
    yield made
    await made.aclose()


async def collect(model: OpenAIModel, messages: list[Any], params: RequestParams) -> list[Any]:
    return [event async for event in model.stream(messages, params)]


def ask(text: str) -> list[Any]:
    return [UserMessage(content=text)]


def test_server_process(llama_server: LlamaServer) -> None:
    """Loopback only, the model under its alias, one thread, OpenMP threads that sleep."""
    assert llama_server.base_url == f"http://127.0.0.1:{llama_server.port}/v1"
    data = httpx.get(f"{llama_server.base_url}/models", timeout=5).json()
    assert [m["id"] for m in data["data"]] == [MODEL_ALIAS]
    proc = Path(f"/proc/{llama_server.pid}")
    if proc.exists():  # Linux: check what the process really got
        argv = (proc / "cmdline").read_bytes().split(b"\0")
        assert argv[argv.index(b"--n_threads") + 1] == b"1"
        assert b"OMP_WAIT_POLICY=PASSIVE" in (proc / "environ").read_bytes().split(b"\0")


def test_a_bad_model_file_fails_fast_with_the_server_log(tmp_path: Path) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"not a gguf file")
    log = tmp_path / "server.log"
    with (
        pytest.raises(ServerStartError, match="exited with status") as failed,
        running_server(bad, log, timeout=60),
    ):
        pytest.fail("a server started on a file that is not a model")
    assert str(bad) in str(failed.value)  # the log tail names the file it could not load


@pytest.mark.anyio
async def test_chat(model: OpenAIModel) -> None:
    response = await model.request(ask("Say hello."), RequestParams(settings=SETTINGS))
    assert isinstance(response, ModelResponse)
    assert response.message.text.strip()
    assert response.message.tool_calls == []
    assert response.finish_reason in ("stop", "length")
    assert response.response_id and response.response_id.startswith("chatcmpl-")
    assert response.model == MODEL_ALIAS
    usage = response.usage
    assert usage.requests == 1
    assert usage.input_tokens > 0
    assert 0 < usage.output_tokens <= 24


@pytest.mark.anyio
async def test_stream(model: OpenAIModel) -> None:
    events = await collect(model, ask("Say hello."), RequestParams(settings=SETTINGS))
    assert isinstance(events[-1], ResponseDone)
    assert all(isinstance(e, TextDelta) for e in events[:-1])
    assert len(events) > 2  # the text arrived in pieces, not at the end
    response = events[-1].response
    assert response.message.text == "".join(e.text for e in events[:-1])
    assert response.message.text.strip()
    assert response.finish_reason in ("stop", "length")
    assert response.usage.requests == 1


def check_weather_call(call: ToolCall) -> None:
    assert call.name == "get_weather"
    assert call.id
    WeatherArgs.model_validate_json(call.arguments)


FORCED = RequestParams(
    tools=[GET_WEATHER], settings=SETTINGS.merge(ModelSettings(tool_choice="get_weather"))
)


@pytest.mark.anyio
async def test_forced_tool_call(model: OpenAIModel) -> None:
    response = await model.request(ask("What is the weather in Paris?"), FORCED)
    assert response.finish_reason == "tool_calls"
    assert len(response.message.tool_calls) == 1
    check_weather_call(response.message.tool_calls[0])


@pytest.mark.anyio
async def test_forced_tool_call_streamed(model: OpenAIModel) -> None:
    events = await collect(model, ask("What is the weather in Paris?"), FORCED)
    done = events[-1]
    assert isinstance(done, ResponseDone)
    deltas = [e for e in events if isinstance(e, ToolCallDelta)]
    assert len(deltas) > 1  # the arguments arrived in pieces
    assert deltas[0].name == "get_weather"
    assert deltas[0].id
    assert {d.index for d in deltas} == {0}
    (call,) = done.response.message.tool_calls
    assert call.arguments == "".join(d.arguments for d in deltas)
    assert done.response.finish_reason == "tool_calls"
    check_weather_call(call)


@pytest.mark.anyio
async def test_tool_result_round_trip(model: OpenAIModel) -> None:
    """A call and its result go back to the server; it answers in text."""
    call = ToolCall(id="call_1", name="get_weather", arguments='{"city":"Paris","unit":"celsius"}')
    history = [
        *ask("What is the weather in Paris?"),
        AssistantMessage(tool_calls=[call]),
        ToolResultMessage(tool_call_id="call_1", name="get_weather", content="sunny, 21 C"),
    ]
    params = RequestParams(tools=[GET_WEATHER], settings=SETTINGS)
    response = await model.request(history, params)
    assert response.usage.input_tokens > 0
    assert response.message.text or response.message.tool_calls


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True], ids=["request", "stream"])
async def test_json_schema_output(model: OpenAIModel, stream: bool) -> None:
    """``response_format`` is sent as ``json_object`` + ``schema``: the JSON validates.

    The schema has no free-form strings: the server's schema grammar lets raw control
    characters into JSON strings, which strict JSON parsers reject (see the docs).
    """
    params = RequestParams(settings=SETTINGS.merge(ModelSettings(max_tokens=48)), output=FORECAST)
    messages = ask("Describe the weather in Paris as JSON.")
    if stream:
        events = await collect(model, messages, params)
        response = events[-1].response
        assert "".join(e.text for e in events[:-1]) == response.message.text
    else:
        response = await model.request(messages, params)
    assert response.finish_reason == "stop"
    Forecast.model_validate_json(response.message.text)


@pytest.mark.anyio
async def test_server_still_needs_the_quirk_options(llama_server: LlamaServer) -> None:
    """Without the options the server rejects the request (as a 500, not a 4xx)."""
    plain = make_model(llama_server, json_schema_mode="json_schema", null_content_as_empty=False)
    call = ToolCall(id="call_1", name="get_weather", arguments='{"city":"Paris","unit":"celsius"}')
    json_params = RequestParams(settings=SETTINGS, output=FORECAST)
    null_content = [
        *ask("Weather?"),
        AssistantMessage(tool_calls=[call]),
        ToolResultMessage(tool_call_id="call_1", name="get_weather", content="sunny"),
    ]
    try:
        with pytest.raises(ProviderError, match="json_object") as rejected:
            await plain.request(ask("JSON please."), json_params)
        assert isinstance(rejected.value, ServerError)
        assert rejected.value.status_code == 500
        with pytest.raises(ProviderError, match="'messages', 1") as rejected:  # content: null
            await plain.request(null_content, RequestParams(settings=SETTINGS))
        assert isinstance(rejected.value, ServerError)
        assert rejected.value.status_code == 500
    finally:
        await plain.aclose()


def get_weather(city: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> str:
    """The current weather in a city."""
    return json.dumps({"city": city, "sky": "sunny", "temperature": 21, "unit": unit})


async def run_agent(
    model: OpenAIModel, tool_choice: str | None, max_tokens: int
) -> plait.Result[Forecast]:
    return await plait.arun(
        "What is the weather in Paris? Use get_weather, then report it.",
        model=model,
        tools=[get_weather],
        output=Forecast,
        settings=ModelSettings(
            max_tokens=max_tokens, temperature=0.0, seed=7, tool_choice=tool_choice
        ),
        max_turns=6,
        raise_on_failure=False,
    )


@pytest.mark.anyio
async def test_agent_run_forced_to_complete(model: OpenAIModel) -> None:
    """A real run whose every turn names the completion tool ends through ``complete``.

    Its arguments are constrained by the server's grammar, so the run ends with a
    validated ``Forecast`` (what greedy decoding gives here) — or, should the model
    itself report ``status: "failed"``, with that clearly defined status and no output.
    """
    # room for the completion's free-text summary: a cut call is invalid JSON
    result = await run_agent(model, "complete", max_tokens=256)
    assert result.stop_reason == "completion"
    assert result.completion is not None
    if result.completion.status == "success":
        assert result.status == "success"
        assert isinstance(result.output, Forecast)
        assert result.completion.result == result.output
    else:
        assert result.status == "failed"
        assert result.output is None
    assert 1 <= result.usage.requests <= 1 + plait.Limits().output_retries


@pytest.mark.anyio
async def test_agent_run_when_the_server_ignores_required(model: OpenAIModel) -> None:
    """The kernel asks for ``tool_choice="required"``; this server ignores it, the model
    answers in text, and the run ends cleanly: ``failed`` after ``Limits.output_retries``.
    """
    result = await run_agent(model, None, max_tokens=32)
    assert result.status == "failed"
    assert result.stop_reason == "output_retries"
    assert result.output is None
    assert result.usage.requests == 1 + plait.Limits().output_retries
    answers = [m for m in result.messages if isinstance(m, AssistantMessage)]
    assert len(answers) == result.usage.requests
    assert all(m.text and not m.tool_calls for m in answers)
