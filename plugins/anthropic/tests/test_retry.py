"""plait-anthropic under the kernel's one retry layer, driven through ``plait.arun``.

The model never retries by itself; these tests show that its errors carry what the
kernel needs to decide (class, ``retry_after``, ``partial``) and that runs using it
behave under retries, deadlines and cancellation.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest

import plait
from plait import RetryPolicy
from plait.provider import (
    ModelSettings,
    ProtocolError,
    ProviderError,
    RateLimited,
    Rejected,
    RequestParams,
    RequestTimeout,
    Unavailable,
    UserMessage,
)
from plait_anthropic.provider import AnthropicProvider

ASK = [UserMessage(content="hi")]
MESSAGE = {
    "id": "m",
    "model": "claude-x",
    "content": [{"type": "text", "text": "fine"}],
    "stop_reason": "end_turn",
    "usage": {"input_tokens": 1, "output_tokens": 1},
}


def overloaded() -> httpx.Response:
    return httpx.Response(
        529, json={"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )


def sse(*payloads: dict[str, Any]) -> httpx.Response:
    text = "".join(f"event: {p['type']}\ndata: {json.dumps(p)}\n\n" for p in payloads)
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode())


START = {
    "type": "message_start",
    "message": {"id": "m", "model": "c", "usage": {"input_tokens": 1}},
}
BLOCK = {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
DELTA = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}
STOP = [
    {"type": "content_block_stop", "index": 0},
    {"type": "message_delta", "delta": {"stop_reason": "end_turn"}, "usage": {"output_tokens": 2}},
    {"type": "message_stop"},
]
ERROR = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}


class Script:
    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls += 1
        return self.responses.pop(0)


def model_for(script: Any) -> Any:
    return AnthropicProvider(api_key="sk-ant-x-000000").model(
        "claude-x", transport=httpx.MockTransport(script)
    )


FAST = RetryPolicy(base_delay=0.0, jitter=0.0)
"""The default number of attempts, without the waits (tests must not sleep)."""


async def streamed(model: Any) -> tuple[list[str], Any]:
    """The text a streamed run showed, and its output (or the error it raised).

    The error is caught inside the ``async with``: leaving the block with it would wrap
    it in the stream's task group's ``ExceptionGroup``.
    """
    async with plait.stream("hi", model=model, retry_policy=FAST) as run:
        shown = [piece async for piece in run.text()]
        try:
            return shown, (await run.result()).output
        except ProviderError as error:
            return shown, error


@pytest.mark.anyio
async def test_overloaded_is_retried_by_the_kernel() -> None:
    script = Script(overloaded(), httpx.Response(200, json=MESSAGE))
    model = model_for(script)
    result = await plait.arun("hi", model=model, retry_policy=FAST)
    await model.aclose()
    assert result.output == "fine"
    assert script.calls == 2


@pytest.mark.anyio
async def test_retry_after_is_honoured() -> None:
    limited = httpx.Response(
        429,
        headers={"retry-after": "3"},
        json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
    )
    model = model_for(Script(limited))
    with pytest.raises(RateLimited) as info:
        await model.request(ASK, RequestParams())
    await model.aclose()
    assert info.value.retryable
    assert info.value.retry_after == 3.0
    wait = RetryPolicy().delay(1, info.value)
    assert wait is not None and wait >= 3.0


@pytest.mark.anyio
async def test_rejected_requests_are_not_retried() -> None:
    bad = httpx.Response(
        400, json={"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
    )
    script = Script(bad)
    model = model_for(script)
    with pytest.raises(Rejected):
        await plait.arun("hi", model=model, retry_policy=FAST)
    await model.aclose()
    assert script.calls == 1


@pytest.mark.anyio
async def test_stream_error_before_output_is_retried() -> None:
    script = Script(sse(START, ERROR), sse(START, BLOCK, DELTA, *STOP))
    model = model_for(script)
    shown, output = await streamed(model)
    await model.aclose()
    assert shown == ["Hi"]
    assert output == "Hi"
    assert script.calls == 2


@pytest.mark.anyio
async def test_stream_error_after_output_is_not_retried() -> None:
    script = Script(sse(START, BLOCK, DELTA, ERROR), sse(START, BLOCK, DELTA, *STOP))
    model = model_for(script)
    shown, error = await streamed(model)
    await model.aclose()
    assert shown == ["Hi"]
    assert isinstance(error, Unavailable)
    assert error.partial == "Hi"
    assert script.calls == 1


@pytest.mark.anyio
async def test_cut_stream_after_output_is_incomplete_not_success() -> None:
    script = Script(sse(START, BLOCK, DELTA))
    model = model_for(script)
    shown, error = await streamed(model)
    await model.aclose()
    assert shown == ["Hi"]
    assert isinstance(error, ProtocolError)
    assert error.partial == "Hi"


@pytest.mark.anyio
async def test_a_hanging_server_ends_at_the_deadline() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(30)
        return httpx.Response(200, json=MESSAGE)

    model = model_for(hang)
    with anyio.fail_after(5):
        with pytest.raises(RequestTimeout):
            await plait.arun(
                "hi",
                model=model,
                settings=ModelSettings(timeout=0.2),
                retry_policy=RetryPolicy(attempts=1),
            )
    await model.aclose()


@pytest.mark.anyio
async def test_rate_limit_error_event_maps_like_a_429() -> None:
    event = {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}}
    script = Script(sse(START, event))
    model = model_for(script)
    with pytest.raises(RateLimited):
        _ = [e async for e in model.stream(ASK, RequestParams())]
    await model.aclose()
