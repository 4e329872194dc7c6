"""Chat Completions streams: ``chat.completion.chunk`` events into deltas and a response."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
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

from ._common import arguments_text, as_list, as_object, as_str, loads_chunk, new_call_id
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
        chunk = loads_chunk(data, provider=self.provider)
        if type(chunk) is not dict:
            raise ProtocolError("a stream chunk is not a JSON object", provider=self.provider)
        if chunk.get("error"):
            raise error_from_payload(chunk, provider=self.provider, secrets=self.secrets)
        if self._id is None:
            self._id = chunk.get("id")
            self._model = chunk.get("model")
        usage = chunk.get("usage")
        if usage is None and "x_groq" in chunk:
            usage = self._object(chunk["x_groq"], "x_groq").get("usage")
        if usage:
            self._usage = usage
        out: list[Any] = []
        for choice in as_list(chunk.get("choices"), "choices", provider=self.provider):
            choice = self._object(choice, "choices[]")
            if choice.get("index", 0) != 0:
                continue
            delta = self._object(choice.get("delta"), "choices[].delta")
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

    def _object(self, value: Any, where: str) -> Mapping[str, Any]:
        return as_object(value, where, provider=self.provider)

    def _str(self, value: Any, where: str) -> str | None:
        return as_str(value, where, provider=self.provider)

    def _delta(self, delta: Mapping[str, Any], out: list[Any]) -> None:
        text = delta.get("content")
        if text:
            text = _text_of(text, provider=self.provider)
            self._text.append(text)
            out.append(TextDelta(text))
        for name in _REASONING_FIELDS:
            thought = delta.get(name)
            if isinstance(thought, str) and thought:
                self._reasoning_field = self._reasoning_field or name
                self._reasoning.append(thought)
                out.append(ThinkingDelta(thought))
                break
        details = delta.get("reasoning_details")
        if details:
            if type(details) is list:
                self._details.extend(details)
            else:
                self._details.append(details)
        refusal = self._str(delta.get("refusal"), "delta.refusal")
        if refusal:
            self._refusal.append(refusal)
        if delta.get("tool_calls"):
            self._tool_calls(
                as_list(delta["tool_calls"], "delta.tool_calls", provider=self.provider), out
            )

    def _tool_calls(self, calls: Iterable[Any], out: list[Any]) -> None:
        for piece in calls:
            piece = self._object(piece, "delta.tool_calls[]")
            fn = self._object(piece.get("function"), "delta.tool_calls[].function")
            piece_id = self._str(piece.get("id"), "delta.tool_calls[].id")
            piece_name = self._str(fn.get("name"), "delta.tool_calls[].function.name")
            key = piece.get("index")
            if key is None:  # some hosts omit the index: the id, or a new call, names it
                key = piece_id or len(self._calls)
            elif type(key) is not int:
                raise ProtocolError(
                    "malformed response: delta.tool_calls[].index is "
                    f"{type(key).__name__}, not an integer",
                    provider=self.provider,
                )
            call = self._calls.get(key)
            new_id = new_name = None
            if call is None:
                call = self._calls[key] = _Call(len(self._calls), piece_id, piece_name)
                new_id, new_name = call.id, call.name
            else:
                if call.id is None and piece_id:
                    call.id = new_id = piece_id
                if call.name is None and piece_name:
                    call.name = new_name = piece_name
            args = arguments_text(
                fn.get("arguments"), "delta.tool_calls[].function.arguments", provider=self.provider
            )
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
