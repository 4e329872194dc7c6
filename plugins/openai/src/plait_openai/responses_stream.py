"""Responses API streams: ``response.*`` events into deltas and a response."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from plait import (
    ModelResponse,
    ProtocolError,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from plait.provider import ServerSentEvent, error_from_payload

from ._common import arguments_text, as_object, as_str, loads_chunk
from .responses import parse_response

__all__ = ["StreamParser"]


_TERMINAL = frozenset({"response.completed", "response.incomplete"})
_THINKING_DELTAS = frozenset(
    {"response.reasoning_summary_text.delta", "response.reasoning_text.delta"}
)


class StreamParser:
    """Turns Responses stream events into deltas, then one ``ModelResponse``.

    Complete only at ``response.completed`` / ``response.incomplete``;
    ``response.failed`` and ``error`` events raise the mapped error; anything less is a
    ``ProtocolError`` (incomplete) from ``result()``.
    """

    def __init__(self, *, provider: str, secrets: Sequence[str] = ()) -> None:
        self.provider = provider
        self.secrets = secrets
        self.finished = False
        self._text: list[str] = []
        self._calls: dict[int | str | None, int] = {}  # output_index, item id -> call position
        self._n_calls = 0
        self._items: dict[int, Any] = {}
        self._final: Mapping[str, Any] | None = None

    def partial_text(self) -> str:
        return "".join(self._text)

    def feed(self, event: ServerSentEvent) -> list[Any]:
        if not event.data or event.data == "[DONE]":
            return []
        data = loads_chunk(event.data, provider=self.provider)
        if type(data) is not dict:
            raise ProtocolError("a stream event is not a JSON object", provider=self.provider)
        kind = data.get("type") or event.event
        if kind is None:
            return []  # no type at all: nothing to read
        if type(kind) is not str:
            raise ProtocolError("a stream event's type is not a string", provider=self.provider)
        if kind == "response.output_text.delta":
            delta = self._str(data.get("delta"), "delta")
            if delta:
                self._text.append(delta)
                return [TextDelta(delta)]
            return []
        if kind == "response.function_call_arguments.delta":
            pos = self._calls.get(self._key(data.get("output_index")))
            if pos is None:
                pos = self._calls.get(self._key(data.get("item_id")))
            if pos is None:
                raise ProtocolError(
                    "arguments for an unknown function call", provider=self.provider
                )
            return [ToolCallDelta(pos, None, None, self._str(data.get("delta"), "delta") or "")]
        if kind in _THINKING_DELTAS:
            thought = self._str(data.get("delta"), "delta")
            return [ThinkingDelta(thought)] if thought else []
        return self._lifecycle(kind, data)

    def _str(self, value: Any, where: str) -> str | None:
        return as_str(value, where, provider=self.provider)

    @staticmethod
    def _key(value: Any) -> int | str | None:
        """An ``output_index`` or item id usable as a key; anything else matches nothing."""
        return value if type(value) is int or type(value) is str else None

    def _lifecycle(self, kind: str, data: Mapping[str, Any]) -> list[Any]:
        if kind == "response.output_item.added":
            item = as_object(data.get("item"), "item", provider=self.provider)
            if item.get("type") == "function_call":
                pos = self._n_calls
                self._n_calls += 1
                for key in (self._key(data.get("output_index")), self._key(item.get("id"))):
                    if key is not None:
                        self._calls[key] = pos
                call_id = self._str(item.get("call_id"), "item.call_id")
                name = self._str(item.get("name"), "item.name")
                arguments = arguments_text(
                    item.get("arguments"), "item.arguments", provider=self.provider
                )
                return [ToolCallDelta(pos, call_id, name, arguments)]
        elif kind == "response.output_item.done":
            index = data.get("output_index")
            self._items[index if type(index) is int else len(self._items)] = data.get("item")
        elif kind in _TERMINAL:
            self._final = as_object(data.get("response"), "response", provider=self.provider)
            self.finished = True
        elif kind == "response.failed":
            response = as_object(data.get("response"), "response", provider=self.provider)
            error = response.get("error") or {}
            raise error_from_payload({"error": error}, provider=self.provider, secrets=self.secrets)
        elif kind == "error":
            raise error_from_payload(data, provider=self.provider, secrets=self.secrets)
        return []

    def result(self) -> ModelResponse:
        if self._final is None:
            raise ProtocolError(
                "the stream ended before response.completed (incomplete)",
                provider=self.provider,
                partial=self.partial_text(),
            )
        final = dict(self._final)
        if not final.get("output") and self._items:
            final["output"] = [self._items[k] for k in sorted(self._items)]
        final.setdefault("output", [])
        return parse_response(final, provider=self.provider)
