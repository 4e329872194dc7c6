"""Shared test helpers: hand-written Anthropic event streams served by ``httpx.MockTransport``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from plait.provider import ModelResponse, RequestParams, ResponseDone, StreamEvent, UserMessage
from plait_anthropic.provider import AnthropicProvider

KEY = "sk-ant-api03-SECRETSECRETSECRET0123456789"
ASK = [UserMessage(content="hi")]


def event(payload: dict[str, Any]) -> str:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n"


START = event(
    {
        "type": "message_start",
        "message": {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-x",
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 10, "output_tokens": 1},
        },
    }
)


def text_block(index: int, *pieces: str) -> str:
    out = event(
        {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        }
    )
    for piece in pieces:
        out += event(
            {
                "type": "content_block_delta",
                "index": index,
                "delta": {"type": "text_delta", "text": piece},
            }
        )
    return out + event({"type": "content_block_stop", "index": index})


def tool_block(index: int, ident: str, *pieces: str, stop: bool = True) -> str:
    block = {"type": "tool_use", "id": ident, "name": "f", "input": {}}
    out = event({"type": "content_block_start", "index": index, "content_block": block})
    for piece in pieces:
        delta = {"type": "input_json_delta", "partial_json": piece}
        out += event({"type": "content_block_delta", "index": index, "delta": delta})
    return out + (event({"type": "content_block_stop", "index": index}) if stop else "")


def end(stop_reason: str = "end_turn", output_tokens: int = 5) -> str:
    delta = {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason},
        "usage": {"output_tokens": output_tokens},
    }
    return event(delta) + event({"type": "message_stop"})


def error_event(kind: str, message: str = "boom") -> str:
    return event({"type": "error", "error": {"type": kind, "message": message}})


def sse(text: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode())


def error_body(
    status: int, kind: str, message: str = "nope", headers: dict[str, str] | None = None
) -> httpx.Response:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return httpx.Response(status, json=body, headers=headers)


def model_for(handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    provider = AnthropicProvider(api_key=KEY, options={"transport": httpx.MockTransport(handler)})
    return provider.model("claude-x")


async def collect(handler: Callable[[httpx.Request], httpx.Response]) -> list[StreamEvent]:
    model = model_for(handler)
    try:
        return [e async for e in model.stream(ASK, RequestParams())]
    finally:
        await model.aclose()


async def request(handler: Callable[[httpx.Request], httpx.Response]) -> ModelResponse:
    model = model_for(handler)
    try:
        response: ModelResponse = await model.request(ASK, RequestParams())
        return response
    finally:
        await model.aclose()


def final(events: list[StreamEvent]) -> ModelResponse:
    assert isinstance(events[-1], ResponseDone)
    return events[-1].response
