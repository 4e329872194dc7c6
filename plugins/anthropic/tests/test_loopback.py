"""plait-anthropic over real sockets: a loopback server on 127.0.0.1 (``plait.testing``).

A recorded stream cut into tiny chunks, a connection reset mid-stream, a server that
never answers (cancelled), and many concurrent runs through one pooled client.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
import pytest

from plait.provider import ConnectionFailed, RequestParams, ResponseDone, TextDelta, UserMessage
from plait.testing import LoopbackServer, Reply
from plait_anthropic.provider import AnthropicProvider

DATA = (
    Path(__file__).resolve().parents[3]
    / "tests"
    / "data"
    / "provider-traffic"
    / "anthropic-messages"
)
ASK = [UserMessage(content="hi")]


def recorded_stream() -> tuple[str, dict[str, Any]]:
    """The first recorded event stream with text, and its final message in the recording's words."""
    for path in sorted(DATA.glob("*.json")):
        for interaction in json.loads(path.read_text())["interactions"]:
            sse = interaction["response"].get("sse")
            if sse and "text_delta" in sse:
                return sse, interaction["request"]["body"]
    raise AssertionError("no recorded stream")


def text_of(sse: str) -> str:
    pieces = []
    for line in sse.splitlines():
        if line.startswith("data:"):
            event = json.loads(line[5:])
            if event.get("delta", {}).get("type") == "text_delta":
                pieces.append(event["delta"]["text"])
    return "".join(pieces)


def model_at(server: LoopbackServer) -> Any:
    return AnthropicProvider(api_key="sk-ant-loop-000000", base_url=server.base_url).model(
        "claude-x"
    )


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_recorded_stream_in_tiny_chunks(anyio_backend: str) -> None:
    sse, _ = recorded_stream()
    raw = sse.encode()
    chunks = [raw[i : i + 7] for i in range(0, len(raw), 7)]
    async with LoopbackServer([Reply.sse(chunks)]) as server:
        model = model_at(server)
        events = [e async for e in model.stream(ASK, RequestParams())]
        await model.aclose()
    done = events[-1]
    assert isinstance(done, ResponseDone)
    assert done.response.message.text == text_of(sse)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == text_of(sse)
    sent = server.requests[0]
    assert sent.path.startswith("/v1/messages")
    assert sent.headers["x-api-key"] == "sk-ant-loop-000000"
    assert sent.json()["stream"] is True


@pytest.mark.anyio
async def test_reset_mid_stream_is_a_read_failure_with_the_partial_text() -> None:
    start = {
        "type": "message_start",
        "message": {"id": "m", "model": "c", "usage": {"input_tokens": 1}},
    }
    block = {
        "type": "content_block_start",
        "index": 0,
        "content_block": {"type": "text", "text": ""},
    }
    delta = {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "so far"},
    }
    events = [f"data: {json.dumps(e)}\n\n" for e in (start, block, delta)] + ["data: {}\n\n"]
    async with LoopbackServer([Reply.sse(events, reset_after=3)]) as server:
        model = model_at(server)
        with pytest.raises(ConnectionFailed) as info:
            _ = [e async for e in model.stream(ASK, RequestParams())]
        await model.aclose()
    assert info.value.phase == "read"
    assert info.value.partial == "so far"


@pytest.mark.anyio
async def test_cancelling_a_hanging_request_is_prompt_and_the_model_still_works() -> None:
    ok = {
        "id": "m",
        "model": "c",
        "content": [{"type": "text", "text": "back"}],
        "stop_reason": "end_turn",
        "usage": {"input_tokens": 1, "output_tokens": 1},
    }
    async with LoopbackServer([Reply.hanging(), Reply.json(ok)]) as server:
        model = model_at(server)
        with anyio.move_on_after(0.3) as scope:
            await model.request(ASK, RequestParams())
        assert scope.cancelled_caught
        response = await model.request(ASK, RequestParams())
        await model.aclose()
    assert response.message.text == "back"


@pytest.mark.anyio
async def test_many_concurrent_streams_share_one_pool() -> None:
    sse, _ = recorded_stream()
    provider = AnthropicProvider(api_key="sk-ant-loop-000000")
    results: list[str] = []
    async with LoopbackServer([Reply.sse([sse])], repeat_last=True) as server:
        provider.base_url = server.base_url
        model = provider.model("claude-x")

        async def one() -> None:
            async for event in model.stream(ASK, RequestParams()):
                if isinstance(event, ResponseDone):
                    results.append(event.response.message.text)

        async with anyio.create_task_group() as tg:
            for _ in range(100):
                tg.start_soon(one)
        await provider.aclose()
    assert results == [text_of(sse)] * 100
