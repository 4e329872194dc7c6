"""Wire adapters for plait's provider conformance suite: canned OpenAI answers.

``ChatWire`` renders Chat Completions responses and ``ResponsesWire`` Responses API
responses (JSON and SSE) as ``plait.testing`` loopback ``Reply`` objects. They are used
by this plugin's tests and benchmark, and by anyone testing an OpenAI-compatible setup.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from plait import ToolCall
from plait.testing import ErrorKind, Reply

__all__ = ["ChatWire", "ResponsesWire", "error_body", "split_text"]

_ERRORS: dict[str, tuple[str, str]] = {
    "invalid_request": ("invalid_request_error", "invalid_value"),
    "authentication": ("invalid_request_error", "invalid_api_key"),
    "permission": ("permission_error", "unsupported_country"),
    "not_found": ("invalid_request_error", "model_not_found"),
    "rate_limit": ("requests", "rate_limit_exceeded"),
    "quota": ("insufficient_quota", "insufficient_quota"),
    "context_length": ("invalid_request_error", "context_length_exceeded"),
    "server": ("server_error", "server_error"),
    "overloaded": ("server_error", "overloaded"),
}


def error_body(kind: ErrorKind) -> dict[str, Any]:
    """OpenAI's error object for ``kind``."""
    kind_type, code = _ERRORS[kind]
    return {
        "error": {
            "message": f"scripted {kind} error",
            "type": kind_type,
            "param": None,
            "code": code,
        }
    }


def split_text(text: str) -> list[str]:
    """``text`` in word-sized pieces, as a model would stream it."""
    return re.findall(r"\S+\s*|\s+", text) or [text]


def _sse(payload: Any) -> str:
    return f"data: {json.dumps(payload, separators=(',', ':'))}\n\n"


class ChatWire:
    """Chat Completions (``POST /chat/completions``)."""

    model = "gpt-test"

    def _usage(self, input_tokens: int, output_tokens: int) -> dict[str, Any]:
        return {
            "prompt_tokens": input_tokens,
            "completion_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return _sse(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion.chunk",
                "model": self.model,
                "choices": [choice],
            }
        )

    def _end(self, finish: str, input_tokens: int, output_tokens: int) -> list[str]:
        usage = {
            "id": "chatcmpl-1",
            "choices": [],
            "usage": self._usage(input_tokens, output_tokens),
        }
        return [self._chunk({}, finish), _sse(usage), "data: [DONE]\n\n"]

    def completion(
        self, message: dict[str, Any], finish: str, input_tokens: int, output_tokens: int
    ) -> Reply:
        return Reply.json(
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "model": self.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", **message},
                        "finish_reason": finish,
                    }
                ],
                "usage": self._usage(input_tokens, output_tokens),
            }
        )

    def text(self, text: str, *, stream: bool, input_tokens: int, output_tokens: int) -> Reply:
        if not stream:
            return self.completion({"content": text}, "stop", input_tokens, output_tokens)
        events = [self._chunk({"role": "assistant", "content": ""})]
        events += [self._chunk({"content": piece}) for piece in split_text(text)]
        return Reply.sse(events + self._end("stop", input_tokens, output_tokens))

    def tool_calls(
        self, calls: Sequence[ToolCall], *, stream: bool, input_tokens: int, output_tokens: int
    ) -> Reply:
        wire = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in calls
        ]
        if not stream:
            return self.completion(
                {"content": None, "tool_calls": wire}, "tool_calls", input_tokens, output_tokens
            )
        events = []
        for index, call in enumerate(calls):
            head = {
                "index": index,
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": ""},
            }
            events.append(self._chunk({"tool_calls": [head]}))
            half = len(call.arguments) // 2
            for piece in (call.arguments[:half], call.arguments[half:]):
                events.append(
                    self._chunk(
                        {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
                    )
                )
        return Reply.sse(events + self._end("tool_calls", input_tokens, output_tokens))

    def error(self, status: int, kind: ErrorKind, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        return Reply.json(error_body(kind), status=status, headers=headers)

    def stream_error(self, kind: ErrorKind, *, after_text: str) -> Reply:
        events = (
            [self._chunk({"content": piece}) for piece in split_text(after_text)]
            if after_text
            else []
        )
        return Reply.sse([*events, _sse(error_body(kind))])

    def truncated_stream(self, text: str) -> Reply:
        return Reply.sse([self._chunk({"content": piece}) for piece in split_text(text)])

    def malformed_stream(self) -> Reply:
        return Reply.sse([self._chunk({"content": "ok"}), 'data: {"choices": [{"delta": \n\n'])

    def empty(self) -> Reply:
        return Reply.json(
            {"id": "chatcmpl-1", "object": "chat.completion", "choices": [], "usage": None}
        )

    def output_schema(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        fmt = body.get("response_format") or {}
        return (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema")

    def tool_names(self, body: Mapping[str, Any]) -> list[str]:
        return [t["function"]["name"] for t in body.get("tools") or []]


class ResponsesWire:
    """The Responses API (``POST /responses``)."""

    model = "gpt-test"

    def _response(
        self, output: list[Any], input_tokens: int, output_tokens: int, status: str = "completed"
    ) -> dict[str, Any]:
        usage = {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "total_tokens": input_tokens + output_tokens,
        }
        return {
            "id": "resp_1",
            "object": "response",
            "status": status,
            "model": self.model,
            "output": output,
            "usage": usage,
        }

    def _message(self, text: str) -> dict[str, Any]:
        content = [{"type": "output_text", "text": text, "annotations": []}]
        return {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "completed",
            "content": content,
        }

    def _calls(self, calls: Sequence[ToolCall]) -> list[dict[str, Any]]:
        return [
            {
                "type": "function_call",
                "id": f"fc_{i}",
                "call_id": c.id,
                "name": c.name,
                "arguments": c.arguments,
                "status": "completed",
            }
            for i, c in enumerate(calls)
        ]

    def _event(self, kind: str, **data: Any) -> str:
        return f"event: {kind}\n" + _sse({"type": kind, **data})

    def _text_events(self, text: str) -> list[str]:
        added = {
            "type": "message",
            "id": "msg_1",
            "role": "assistant",
            "status": "in_progress",
            "content": [],
        }
        events = [self._event("response.output_item.added", output_index=0, item=added)]
        events += [
            self._event(
                "response.output_text.delta",
                item_id="msg_1",
                output_index=0,
                content_index=0,
                delta=piece,
            )
            for piece in split_text(text)
        ]
        return events

    def text(self, text: str, *, stream: bool, input_tokens: int, output_tokens: int) -> Reply:
        final = self._response([self._message(text)], input_tokens, output_tokens)
        if not stream:
            return Reply.json(final)
        events = [
            self._event(
                "response.created", response={**final, "status": "in_progress", "output": []}
            )
        ]
        events += self._text_events(text)
        events.append(
            self._event("response.output_item.done", output_index=0, item=self._message(text))
        )
        events.append(self._event("response.completed", response=final))
        return Reply.sse(events)

    def tool_calls(
        self, calls: Sequence[ToolCall], *, stream: bool, input_tokens: int, output_tokens: int
    ) -> Reply:
        items = self._calls(calls)
        final = self._response(items, input_tokens, output_tokens)
        if not stream:
            return Reply.json(final)
        events = []
        for index, item in enumerate(items):
            events.append(
                self._event(
                    "response.output_item.added", output_index=index, item={**item, "arguments": ""}
                )
            )
            half = len(item["arguments"]) // 2
            for piece in (item["arguments"][:half], item["arguments"][half:]):
                events.append(
                    self._event(
                        "response.function_call_arguments.delta",
                        item_id=item["id"],
                        output_index=index,
                        delta=piece,
                    )
                )
            events.append(self._event("response.output_item.done", output_index=index, item=item))
        events.append(self._event("response.completed", response=final))
        return Reply.sse(events)

    def error(self, status: int, kind: ErrorKind, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        return Reply.json(error_body(kind), status=status, headers=headers)

    def stream_error(self, kind: ErrorKind, *, after_text: str) -> Reply:
        events = self._text_events(after_text) if after_text else []
        error = error_body(kind)["error"]
        return Reply.sse(
            [
                *events,
                self._event("error", code=error["code"], message=error["message"], param=None),
            ]
        )

    def truncated_stream(self, text: str) -> Reply:
        return Reply.sse(self._text_events(text))

    def malformed_stream(self) -> Reply:
        return Reply.sse(
            [*self._text_events("ok"), 'event: response.output_text.delta\ndata: {"delta": \n\n']
        )

    def empty(self) -> Reply:
        return Reply.json({"id": "resp_1", "object": "response", "status": "completed"})

    def output_schema(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        return ((body.get("text") or {}).get("format") or {}).get("schema")

    def tool_names(self, body: Mapping[str, Any]) -> list[str]:
        return [t["name"] for t in body.get("tools") or []]
