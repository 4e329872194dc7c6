"""plait-anthropic passes plait's provider conformance suite (``plait.testing``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pytest

from plait.provider import Model, ToolCall
from plait.testing import CONFORMANCE_KEY, ErrorKind, ProviderConformance, Reply
from plait_anthropic.provider import AnthropicProvider

ERROR_TYPES: Mapping[ErrorKind, tuple[str, str]] = {
    "invalid_request": ("invalid_request_error", "messages: field required"),
    "authentication": ("authentication_error", "invalid x-api-key"),
    "permission": ("permission_error", "not allowed"),
    "not_found": ("not_found_error", "model: claude-nope"),
    "rate_limit": ("rate_limit_error", "Number of requests has exceeded your rate limit"),
    "quota": ("billing_error", "Your credit balance is too low"),
    "context_length": (
        "invalid_request_error",
        "prompt is too long: 210000 tokens > 200000 maximum",
    ),
    "server": ("api_error", "Internal server error"),
    "overloaded": ("overloaded_error", "Overloaded"),
}


def _event(payload: dict[str, Any]) -> str:
    return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n"


def _pieces(text: str, size: int = 8) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


class AnthropicWire:
    """Canned Messages API answers, in the wire format the real API uses."""

    def _message(
        self, content: list[dict[str, Any]], stop: str, usage: dict[str, int]
    ) -> dict[str, Any]:
        return {
            "id": "msg_conformance",
            "type": "message",
            "role": "assistant",
            "model": "claude-conformance",
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": usage,
        }

    def _start(self, input_tokens: int) -> str:
        message = self._message([], "end_turn", {"input_tokens": input_tokens, "output_tokens": 1})
        message["stop_reason"] = None
        return _event({"type": "message_start", "message": message})

    def _end(self, stop: str, output_tokens: int) -> list[str]:
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop},
            "usage": {"output_tokens": output_tokens},
        }
        return [_event(delta), _event({"type": "message_stop"})]

    def _text_events(self, index: int, text: str) -> list[str]:
        block = {
            "type": "content_block_start",
            "index": index,
            "content_block": {"type": "text", "text": ""},
        }
        out = [_event(block)]
        for piece in _pieces(text):
            delta = {"type": "text_delta", "text": piece}
            out.append(_event({"type": "content_block_delta", "index": index, "delta": delta}))
        return out

    def text(self, text: str, *, stream: bool, input_tokens: int, output_tokens: int) -> Reply:
        if not stream:
            content = [{"type": "text", "text": text}]
            usage = {"input_tokens": input_tokens, "output_tokens": output_tokens}
            return Reply.json(self._message(content, "end_turn", usage))
        events = [self._start(input_tokens), *self._text_events(0, text)]
        events.append(_event({"type": "content_block_stop", "index": 0}))
        return Reply.sse([*events, *self._end("end_turn", output_tokens)])

    def tool_calls(
        self, calls: Sequence[ToolCall], *, stream: bool, input_tokens: int, output_tokens: int
    ) -> Reply:
        if not stream:
            content = [
                {"type": "tool_use", "id": c.id, "name": c.name, "input": c.parsed_arguments()}
                for c in calls
            ]
            usage = {"input_tokens": input_tokens, "output_tokens": output_tokens}
            return Reply.json(self._message(content, "tool_use", usage))
        events = [self._start(input_tokens)]
        for index, call in enumerate(calls):
            block = {"type": "tool_use", "id": call.id, "name": call.name, "input": {}}
            events.append(
                _event({"type": "content_block_start", "index": index, "content_block": block})
            )
            for piece in _pieces(call.arguments, 5):
                delta = {"type": "input_json_delta", "partial_json": piece}
                events.append(
                    _event({"type": "content_block_delta", "index": index, "delta": delta})
                )
            events.append(_event({"type": "content_block_stop", "index": index}))
        return Reply.sse([*events, *self._end("tool_use", output_tokens)])

    def error(self, status: int, kind: ErrorKind, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        kind_name, message = ERROR_TYPES[kind]
        body = {
            "type": "error",
            "error": {"type": kind_name, "message": message},
            "request_id": "req_1",
        }
        return Reply.json(body, status, headers)

    def stream_error(self, kind: ErrorKind, *, after_text: str) -> Reply:
        events = [self._start(1)]
        if after_text:
            events += self._text_events(0, after_text)
        kind_name, message = ERROR_TYPES[kind]
        events.append(_event({"type": "error", "error": {"type": kind_name, "message": message}}))
        return Reply.sse(events)

    def truncated_stream(self, text: str) -> Reply:
        return Reply.sse([self._start(1), *self._text_events(0, text)])

    def malformed_stream(self) -> Reply:
        return Reply.sse(
            [self._start(1), 'event: content_block_start\ndata: {"type": "content_bl\n\n']
        )

    def empty(self) -> Reply:
        # An empty ``content`` list is a valid (empty) answer on this API; a message
        # without any ``content`` is not.
        message = self._message([], "end_turn", {"input_tokens": 1, "output_tokens": 0})
        del message["content"]
        return Reply.json(message)

    def output_schema(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        schema: Mapping[str, Any] | None = (
            body.get("output_config", {}).get("format", {}).get("schema")
        )
        return schema

    def tool_names(self, body: Mapping[str, Any]) -> list[str]:
        return [tool["name"] for tool in body.get("tools", [])]


class TestAnthropicConformance(ProviderConformance):
    @pytest.fixture
    def provider(self) -> AnthropicProvider:
        return AnthropicProvider(environ={})

    @pytest.fixture
    def make_model(self) -> Callable[[str], Model]:
        def make(base_url: str) -> Model:
            return AnthropicProvider(environ={}).model(
                "claude-x", base_url=base_url, api_key=CONFORMANCE_KEY
            )

        return make

    @pytest.fixture
    def wire(self) -> AnthropicWire:
        return AnthropicWire()
