"""plait-anthropic under the kernel's one retry layer (``plait._retry``).

The model never retries by itself; these tests show that its errors carry what the
kernel needs to decide (class, ``retry_after``, ``partial``) and that it behaves under
deadlines and cancellation.
"""

from __future__ import annotations

import json
from typing import Any

import anyio
import httpx
import pytest

from plait._contracts import RequestParams
from plait._errors import ProtocolError, RateLimited, Rejected, RequestTimeout, Unavailable
from plait._messages import ResponseDone, TextDelta, UserMessage
from plait._retry import RetryPolicy, request_with_retry, stream_with_retry
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


class Sleeper:
    """Records the waits the retry layer asks for instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.mark.anyio
async def test_overloaded_is_retried_by_the_kernel() -> None:
    script = Script(overloaded(), httpx.Response(200, json=MESSAGE))
    model = model_for(script)
    response = await request_with_retry(model, ASK, RequestParams(), sleep=Sleeper())
    await model.aclose()
    assert response.message.text == "fine"
    assert script.calls == 2


@pytest.mark.anyio
async def test_retry_after_is_honoured() -> None:
    limited = httpx.Response(
        429,
        headers={"retry-after": "3"},
        json={"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}},
    )
    script = Script(limited, httpx.Response(200, json=MESSAGE))
    model = model_for(script)
    sleeper = Sleeper()
    await request_with_retry(model, ASK, RequestParams(), sleep=sleeper)
    await model.aclose()
    assert sleeper.waits and sleeper.waits[0] >= 3.0


@pytest.mark.anyio
async def test_rejected_requests_are_not_retried() -> None:
    bad = httpx.Response(
        400, json={"type": "error", "error": {"type": "invalid_request_error", "message": "bad"}}
    )
    script = Script(bad)
    model = model_for(script)
    with pytest.raises(Rejected):
        await request_with_retry(model, ASK, RequestParams(), sleep=Sleeper())
    await model.aclose()
    assert script.calls == 1


@pytest.mark.anyio
async def test_stream_error_before_output_is_retried() -> None:
    script = Script(sse(START, ERROR), sse(START, BLOCK, DELTA, *STOP))
    model = model_for(script)
    events = [e async for e in stream_with_retry(model, ASK, RequestParams(), sleep=Sleeper())]
    await model.aclose()
    assert events[0] == TextDelta("Hi")
    assert isinstance(events[-1], ResponseDone)
    assert script.calls == 2


@pytest.mark.anyio
async def test_stream_error_after_output_is_not_retried() -> None:
    script = Script(sse(START, BLOCK, DELTA, ERROR), sse(START, BLOCK, DELTA, *STOP))
    model = model_for(script)
    seen: list[Any] = []

    async def consume() -> None:
        async for event in stream_with_retry(model, ASK, RequestParams(), sleep=Sleeper()):
            seen.append(event)

    with pytest.raises(Unavailable) as info:
        await consume()
    await model.aclose()
    assert seen == [TextDelta("Hi")]
    assert info.value.partial == "Hi"
    assert script.calls == 1


@pytest.mark.anyio
async def test_cut_stream_after_output_is_incomplete_not_success() -> None:
    script = Script(sse(START, BLOCK, DELTA))
    model = model_for(script)
    with pytest.raises(ProtocolError) as info:
        _ = [e async for e in stream_with_retry(model, ASK, RequestParams(), sleep=Sleeper())]
    await model.aclose()
    assert info.value.partial == "Hi"


@pytest.mark.anyio
async def test_a_hanging_server_ends_at_the_deadline() -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(30)
        return httpx.Response(200, json=MESSAGE)

    model = model_for(hang)
    with anyio.fail_after(5):
        with pytest.raises(RequestTimeout):
            await request_with_retry(
                model, ASK, RequestParams(), deadline=0.2, policy=RetryPolicy(attempts=1)
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
