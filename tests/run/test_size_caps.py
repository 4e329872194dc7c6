"""A runaway answer is cut at the output cap; the run ends with a typed error (issue 12,
rule 2).

The retry layer counts the characters of every text, thinking and tool-call delta (one
addition each) and stops the stream with ``ResponseTooLarge`` once they pass
``Limits.output_chars``, closing the provider's generator; an unstreamed answer over the
cap is refused the same way. The run then fails like on any provider error, promptly and
with bounded memory. The run's limits reach the provider (``current_limits``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

import plait
from plait._json import decode_arguments
from plait._retry import RetryPolicy
from plait._stack import _stricter
from plait.provider import (
    ModelResponse,
    RequestParams,
    ResponseTooLarge,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    current_limits,
)
from plait.testing import FunctionModel, make_kernel

CAP = 50_000
STREAM = plait.ModelSettings(stream=True)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Runaway:
    """A model whose stream never ends: ``piece`` forever. Records what it saw."""

    provider = "runaway"

    def __init__(self, piece: StreamEvent) -> None:
        self.name = "runaway:model"
        self.piece = piece
        self.closed = False
        self.sent = 0
        self.limits: list[plait.Limits] = []
        self.requests = 0

    async def request(self, messages: Sequence[Any], params: RequestParams) -> ModelResponse:
        self.requests += 1
        self.limits.append(current_limits())
        return ModelResponse(message=plait.AssistantMessage(text="y" * (CAP + 1)))

    async def stream(
        self, messages: Sequence[Any], params: RequestParams
    ) -> AsyncIterator[StreamEvent]:
        self.limits.append(current_limits())
        try:
            while True:
                self.sent += 1
                yield self.piece
                await anyio.lowlevel.checkpoint()
        finally:
            self.closed = True

    async def aclose(self) -> None:
        pass


PIECES = [
    TextDelta("x" * 1000),
    ThinkingDelta("t" * 1000),
    ToolCallDelta(0, "c1", "f", '"' + "a" * 999),
]


@pytest.mark.anyio
@pytest.mark.parametrize("piece", PIECES, ids=["text", "thinking", "arguments"])
async def test_an_endless_stream_stops_at_the_cap_and_the_run_fails(piece: StreamEvent) -> None:
    model = Runaway(piece)
    limits = plait.Limits(output_chars=CAP)
    with anyio.fail_after(20):
        result = await plait.arun(
            "go",
            model=model,
            settings=STREAM,
            limits=limits,
            kernel=make_kernel(),
            raise_on_failure=False,
        )
    assert result.status == "failed" and result.stop_reason == "model_error"
    assert "ResponseTooLarge" in (result.error or "")
    assert model.closed  # the provider's generator was closed, not left running
    assert model.sent == CAP // 1000 + 1  # stopped at the delta that passed the cap
    assert model.limits == [limits]  # the run's limits reached the provider


@pytest.mark.anyio
async def test_a_watched_run_raises_the_typed_error_and_shows_at_most_the_cap() -> None:
    shown: list[str] = []
    model = Runaway(TextDelta("x" * 1000))

    async def watch() -> None:
        limits = plait.Limits(output_chars=CAP)
        async with plait.stream("go", model=model, limits=limits, kernel=make_kernel()) as s:
            async for event in s:
                if event.kind == "text.delta":
                    shown.append(event.data["text"])
            await s.result()

    with anyio.fail_after(20), pytest.raises(ResponseTooLarge) as info:
        await watch()
    assert (info.value.cap, info.value.limit) == ("output_chars", CAP)
    assert info.value.provider == "runaway"
    assert sum(map(len, shown)) <= CAP and len(info.value.partial or "") <= CAP


def test_an_unstreamed_answer_over_the_cap_is_refused() -> None:
    model = Runaway(TextDelta(""))
    limits = plait.Limits(output_chars=CAP)
    with pytest.raises(ResponseTooLarge) as info:
        plait.run("go", model=model, limits=limits, kernel=make_kernel())
    assert info.value.cap == "output_chars"
    assert model.limits == [limits] and model.requests == 1  # never retried
    # within the cap it is an answer like any other
    result = plait.run("go", model=model, limits=plait.Limits(output_chars=CAP + 1))
    assert result.output == "y" * (CAP + 1)


def test_a_too_large_answer_is_not_retried() -> None:
    calls: list[int] = []

    def answer(messages: Any, params: Any) -> str:
        calls.append(1)
        raise ResponseTooLarge("huge", cap="response_bytes", limit=1, provider="f")

    with pytest.raises(ResponseTooLarge):
        plait.run(
            "go",
            model=FunctionModel(answer),
            kernel=make_kernel(),
            retry_policy=RetryPolicy(attempts=3, base_delay=0.0),
        )
    assert len(calls) == 1


def test_a_recursion_error_out_of_a_model_is_a_typed_error() -> None:
    def answer(messages: Any, params: Any) -> str:
        return json.loads("[" * 100_000)  # type: ignore[no-any-return]

    result = plait.run(
        "go", model=FunctionModel(answer), kernel=make_kernel(), raise_on_failure=False
    )
    assert result.status == "failed" and "ResponseTooLarge" in (result.error or "")


def _sse_forever() -> AsyncIterator[bytes]:
    async def chunks() -> AsyncIterator[bytes]:
        delta = {"choices": [{"index": 0, "delta": {"content": "z" * 500}}]}
        line = b"data: " + json.dumps({"id": "c", "model": "m", **delta}).encode() + b"\n\n"
        while True:
            yield line * 8
            await anyio.lowlevel.checkpoint()

    return chunks()


# Stopping an endless body abandons httpx's nested byte generators; trio warns when they
# are collected (the response itself is closed: nothing leaks but the warning).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
@pytest.mark.anyio
async def test_a_server_that_streams_text_forever_is_cut_at_the_cap() -> None:
    from plait_openai.provider import OpenAIProvider

    headers = {"content-type": "text/event-stream"}
    transport = httpx.MockTransport(
        lambda r: httpx.Response(200, headers=headers, content=_sse_forever())
    )
    model = OpenAIProvider("openai", api="chat").model(
        "m", base_url="http://h/v1", api_key="sk-test-0123456789", transport=transport
    )
    with anyio.fail_after(20):
        result = await plait.arun(
            "go",
            model=model,
            settings=STREAM,
            limits=plait.Limits(output_chars=CAP),
            kernel=make_kernel(),
            raise_on_failure=False,
        )
    await model.aclose()
    assert result.status == "failed" and "ResponseTooLarge" in (result.error or "")


# --- configuration and tool arguments ------------------------------------------------------


def test_a_stack_enforces_the_stricter_caps() -> None:
    enforced = plait.Limits(output_chars=1000, json_depth=64)
    given = plait.Limits(output_chars=5000, json_depth=32)
    both = _stricter(enforced, given)
    assert (both.output_chars, both.json_depth) == (1000, 32)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ("", {}),
        ('{"a": "' + "y" * 60_000 + '"}', "too long"),
        ("{" * 50_000, "not valid JSON"),
        ('{"a":' * 5000 + "1" + "}" * 5000, "nested too deeply"),
        ('{"a": ' + "[" * 20 + "]" * 20 + "}", "nested too deeply"),
        ('{"a": "' + "[" * 20 + '"}', {"a": "[" * 20}),
        ("[1]", "must be a JSON object"),
    ],
)
def test_tool_arguments_are_decoded_or_explained_to_the_model(text: str, expected: Any) -> None:
    got = decode_arguments(text, max_chars=60_000, max_depth=10)
    if isinstance(expected, dict):
        assert got == expected
    else:
        assert isinstance(got, str) and expected in got


def test_tool_arguments_default_to_the_published_limits() -> None:
    assert decode_arguments("{}") == {}
    assert decode_arguments("[" * 200 + "]" * 200) == (
        "the arguments are nested too deeply (at most 128 levels)"
    )
