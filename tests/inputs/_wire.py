"""Models of the three wire formats on an ``httpx.MockTransport`` that keeps every body.

Each model answers "A cat." (or, for ``Capture.calls``, first calls a tool), streamed or
not as asked; ``Capture.bodies`` holds the JSON of every request sent, so a test can say
exactly what went on the wire, and that nothing did.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from plait import ToolCall
from plait.testing import Reply

TRAFFIC = Path(__file__).resolve().parents[1] / "data" / "provider-traffic"
KEY = "sk-test-0123456789abcdef0123"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(64))
PDF = b"%PDF-1.4\n% test document\n%%EOF\n"
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32)


def _anthropic(stream: bool, calls: list[ToolCall]) -> Reply:
    if calls:
        content: list[dict[str, Any]] = [
            {"type": "tool_use", "id": c.id, "name": c.name, "input": c.parsed_arguments()}
            for c in calls
        ]
        stop = "tool_use"
    else:
        content, stop = [{"type": "text", "text": "A cat."}], "end_turn"
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 5, "output_tokens": 2},
    }
    if not stream:
        return Reply.json(message)

    def ev(payload: dict[str, Any]) -> str:
        return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n"

    start = {**message, "content": [], "stop_reason": None}
    events = [ev({"type": "message_start", "message": start})]
    for i, block in enumerate(content):
        if block["type"] == "text":
            events.append(
                ev(
                    {
                        "type": "content_block_start",
                        "index": i,
                        "content_block": {"type": "text", "text": ""},
                    }
                )
            )
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            head = {**block, "input": {}}
            events.append(ev({"type": "content_block_start", "index": i, "content_block": head}))
            delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
        events.append(ev({"type": "content_block_delta", "index": i, "delta": delta}))
        events.append(ev({"type": "content_block_stop", "index": i}))
    end = {"type": "message_delta", "delta": {"stop_reason": stop}, "usage": {"output_tokens": 2}}
    events += [ev(end), ev({"type": "message_stop"})]
    return Reply.sse(events)


def _openai(api: str, stream: bool, calls: list[ToolCall]) -> Reply:
    from plait_openai.testing import ChatWire, ResponsesWire

    wire: Any = ChatWire() if api == "chat" else ResponsesWire()
    tokens = {"stream": stream, "input_tokens": 5, "output_tokens": 2}
    return wire.tool_calls(calls, **tokens) if calls else wire.text("A cat.", **tokens)


@dataclass
class Capture:
    """A mock transport for one API; ``calls`` are answered first, one per request."""

    api: str  # "chat", "responses" or "anthropic"
    calls: list[ToolCall] = field(default_factory=list)
    bodies: list[dict[str, Any]] = field(default_factory=list)

    def handle(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        calls = [self.calls.pop(0)] if self.calls else []
        stream = bool(body.get("stream"))
        reply = (
            _anthropic(stream, calls)
            if self.api == "anthropic"
            else _openai(self.api, stream, calls)
        )
        return httpx.Response(
            reply.status, headers=list(reply.headers), content=b"".join(reply.chunks)
        )

    def model(self, model_id: str | None = None) -> Any:
        """A model of this API whose requests come here (never the network)."""
        transport = httpx.MockTransport(self.handle)
        if self.api == "anthropic":
            from plait_anthropic import AnthropicProvider

            return AnthropicProvider(environ={}).model(
                model_id or "claude-sonnet-4-5", api_key=KEY, transport=transport
            )
        from plait_openai.provider import OpenAIProvider

        provider = OpenAIProvider(
            "openai" if self.api == "chat" else "openai-responses", api=self.api
        )
        return provider.model(
            model_id or "gpt-4.1",
            base_url="https://api.openai.com/v1",  # OpenAI's own: what a model takes is known
            api_key=KEY,
            transport=transport,
        )

    def user_content(self, index: int = 0) -> Any:
        """The content of the first user message of request ``index``."""
        body = self.bodies[index]
        items = body["messages"] if "messages" in body else body["input"]
        return next(m["content"] for m in items if m.get("role") == "user")


def recorded(api: str, name: str) -> list[dict[str, Any]]:
    """The request bodies of one recording in tests/data/provider-traffic."""
    data = json.loads((TRAFFIC / api / f"{name}.json").read_text())
    return [i["request"]["body"] for i in data["interactions"]]


def shape(value: Any) -> Any:
    """The structure of a JSON value with its strings, numbers and booleans as types:
    two parts have the same shape when they have the same keys, nested the same way."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(v) for v in value]
    return type(value).__name__
