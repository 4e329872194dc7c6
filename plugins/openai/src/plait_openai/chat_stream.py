"""Chat Completions streams: ``chat.completion.chunk`` events into deltas and a response."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from json import loads as _loads
from typing import Any

from plait import (
    ModelResponse,
    ProtocolError,
    TextDelta,
    Thinking,
    ThinkingDelta,
    ToolCall,
    ToolCallDelta,
)
from plait.provider import ServerSentEvent, error_from_payload

from ._common import new_call_id
from .chat import _REASONING_FIELDS, _text_of, finish_response, parse_usage

__all__ = ["StreamParser"]


class _Call:
    __slots__ = ("args", "id", "name", "pos")

    def __init__(self, pos: int, call_id: str | None, name: str | None) -> None:
        self.pos = pos
        self.id = call_id
        self.name = name
        self.args: list[str] = []


class StreamParser:
    """Turns ``chat.completion.chunk`` events into deltas, then one ``ModelResponse``.

    The stream is complete at ``data: [DONE]``, or once both the finish reason and the
    usage arrived; ``result()`` on anything less raises ``ProtocolError`` (incomplete),
    so a cut stream never passes for an answer and half-streamed tool arguments are
    never executed.
    """

    def __init__(self, *, provider: str, secrets: Sequence[str] = ()) -> None:
        self.provider = provider
        self.secrets = secrets
        self.finished = False
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._reasoning_field: str | None = None
        self._details: list[Any] = []
        self._refusal: list[str] = []
        self._calls: dict[Any, _Call] = {}
        self._finish: Any = None
        self._usage: Any = None
        self._model: Any = None
        self._id: Any = None

    def partial_text(self) -> str:
        return "".join(self._text)

    def feed(self, event: ServerSentEvent) -> list[Any]:
        data = event.data
        if data == "[DONE]":
            self.finished = True
            return []
        if not data or event.event == "ping":
            return []
        try:
            chunk = _loads(data)
        except ValueError:
            raise ProtocolError(
                f"malformed JSON in the event stream: {data[:80]!r}", provider=self.provider
            ) from None
        if type(chunk) is not dict:
            raise ProtocolError("a stream chunk is not a JSON object", provider=self.provider)
        if chunk.get("error"):
            raise error_from_payload(chunk, provider=self.provider, secrets=self.secrets)
        if self._id is None:
            self._id = chunk.get("id")
            self._model = chunk.get("model")
        usage = chunk.get("usage")
        if usage is None and "x_groq" in chunk:
            usage = (chunk["x_groq"] or {}).get("usage")
        if usage:
            self._usage = usage
        out: list[Any] = []
        for choice in chunk.get("choices") or ():
            if choice.get("index", 0) != 0:
                continue
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if len(delta) == 1 and type(content) is str:  # a plain text piece, kept fast
                if content:
                    self._text.append(content)
                    out.append(TextDelta(content))
            else:
                self._delta(delta, out)
            if choice.get("finish_reason"):
                self._finish = choice["finish_reason"]
        if self._finish is not None and self._usage is not None:
            self.finished = True
        return out

    def _delta(self, delta: Mapping[str, Any], out: list[Any]) -> None:
        text = delta.get("content")
        if text:
            text = _text_of(text)
            self._text.append(text)
            out.append(TextDelta(text))
        for name in _REASONING_FIELDS:
            thought = delta.get(name)
            if isinstance(thought, str) and thought:
                self._reasoning_field = self._reasoning_field or name
                self._reasoning.append(thought)
                out.append(ThinkingDelta(thought))
                break
        if delta.get("reasoning_details"):
            self._details.extend(delta["reasoning_details"])
        if delta.get("refusal"):
            self._refusal.append(delta["refusal"])
        if delta.get("tool_calls"):
            self._tool_calls(delta["tool_calls"], out)

    def _tool_calls(self, calls: Iterable[Any], out: list[Any]) -> None:
        for piece in calls:
            fn = piece.get("function") or {}
            key = piece.get("index")
            if key is None:  # some hosts omit the index: the id, or a new call, names it
                key = piece.get("id") or len(self._calls)
            call = self._calls.get(key)
            new_id = new_name = None
            if call is None:
                call = self._calls[key] = _Call(len(self._calls), piece.get("id"), fn.get("name"))
                new_id, new_name = call.id, call.name
            else:
                if call.id is None and piece.get("id"):
                    call.id = new_id = piece["id"]
                if call.name is None and fn.get("name"):
                    call.name = new_name = fn["name"]
            args = fn.get("arguments") or ""
            if args:
                call.args.append(args)
            out.append(ToolCallDelta(call.pos, new_id, new_name, args))

    def _thinking(self) -> list[Thinking]:
        data: dict[str, Any] = {}
        if self._reasoning_field:
            data["field"] = self._reasoning_field
        if self._details:
            data["reasoning_details"] = self._details
        if not data:
            return []
        return [Thinking(text="".join(self._reasoning), provider_data=data)]

    def result(self) -> ModelResponse:
        if not self.finished:
            raise ProtocolError(
                "the stream ended before its last chunk (incomplete)",
                provider=self.provider,
                partial=self.partial_text(),
            )
        calls = [
            ToolCall(id=c.id or new_call_id(), name=c.name or "", arguments="".join(c.args) or "{}")
            for c in self._calls.values()
        ]
        return finish_response(
            text="".join(self._text),
            tool_calls=calls,
            thinking=self._thinking(),
            refusal="".join(self._refusal) or None,
            raw_finish=self._finish,
            usage=parse_usage(self._usage),
            model=self._model,
            response_id=self._id,
            provider=self.provider,
        )
