"""One model request: streamed through the kernel's retry layer, deltas turned into events.

The loop always asks the model for a stream (``plait._retry.stream_with_retry``): every
entry point then sees the same events in the same order, and streamed structured output
can be shown partially. Only a complete ``ResponseDone`` becomes part of the history.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._contracts import RequestParams
from .._messages import (
    Message,
    ModelResponse,
    ResponseDone,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from .._redact import StreamRedactor
from .._retry import stream_with_retry
from ._budget import charge_usage
from ._completion import COMPLETE
from ._state import RunState

__all__ = ["ask_model", "usage_data"]


def usage_data(st: RunState) -> dict[str, Any]:
    u = st.usage
    return {
        "requests": u.requests,
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "tool_calls": st.tool_calls,
    }


async def ask_model(
    st: RunState, messages: Sequence[Message], params: RequestParams
) -> ModelResponse:
    """Ask the model once (with retries) and return its complete response."""
    emit = st.emitter.emit
    partial = st.partial
    partial.reset()
    emit("model.request", {"turn": st.turns, "messages": len(messages), "tools": len(params.tools)})
    response: ModelResponse | None = None
    settings = params.settings
    stream = stream_with_retry(
        st.model,
        messages,
        params,
        policy=st.retry_policy,
        deadline=settings.timeout,  # absolute, all attempts; the run's deadline caps it
        first_event_timeout=settings.first_event_timeout,
    )
    # a secret split across deltas is caught whole: pieces are held back until safe
    held = _HeldDeltas(st) if st.redact is not None and st.emitter.sinks else None
    try:
        async for event in stream:
            kind = type(event)
            if kind is TextDelta:
                partial.text.append(event.text)  # type: ignore[union-attr]
                if held is None:
                    emit("text.delta", {"text": event.text})  # type: ignore[union-attr]
                else:
                    held.text("text.delta", event.text)  # type: ignore[union-attr]
            elif kind is ToolCallDelta:
                _tool_delta(st, event, held)  # type: ignore[arg-type]
            elif kind is ThinkingDelta:
                if held is None:
                    emit("thinking.delta", {"text": event.text})  # type: ignore[union-attr]
                else:
                    held.text("thinking.delta", event.text)  # type: ignore[union-attr]
            elif kind is ResponseDone:
                response = event.response  # type: ignore[union-attr]
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    assert response is not None  # stream_with_retry raises ProtocolError otherwise
    if held is not None:
        held.flush()
    charge_usage(st, response.usage)  # and every run above a sub-run
    msg = response.message
    if not st.emitter.sinks:
        return response
    emit(
        "model.response",
        {
            "turn": st.turns,
            "finish_reason": response.finish_reason,
            "text": msg.text,
            "tool_calls": [{"id": c.id, "name": c.name} for c in msg.tool_calls],
            "usage": usage_data(st),
        },
    )
    return response


def _tool_delta(st: RunState, delta: ToolCallDelta, held: _HeldDeltas | None) -> None:
    partial = st.partial
    parts = partial.calls.setdefault(delta.index, [])
    if delta.name == COMPLETE:
        partial.complete_index = delta.index
    parts.append(delta.arguments)
    arguments = delta.arguments if held is None else held.arguments(delta.index, delta.arguments)
    st.emitter.emit(
        "tool_call.delta",
        {"index": delta.index, "id": delta.id, "name": delta.name, "arguments": arguments},
    )


class _HeldDeltas:
    """Streamed pieces under the run's redaction policy, one ``StreamRedactor`` each."""

    __slots__ = ("emit", "policy", "streams")

    def __init__(self, st: RunState) -> None:
        assert st.redact is not None
        self.policy = st.redact
        self.emit = st.emitter.emit
        self.streams: dict[str | int, StreamRedactor] = {}

    def _stream(self, key: str | int) -> StreamRedactor:
        stream = self.streams.get(key)
        if stream is None:
            stream = self.streams[key] = StreamRedactor(self.policy)
        return stream

    def text(self, kind: str, text: str) -> None:
        safe = self._stream(kind).feed(text)
        if safe:
            self.emit(kind, {"text": safe})

    def arguments(self, index: int, piece: str) -> str:
        return self._stream(index).feed(piece)

    def flush(self) -> None:
        """Show what was held back, in order (the stream is complete)."""
        for key, stream in self.streams.items():
            rest = stream.flush()
            if not rest:
                continue
            if isinstance(key, int):
                data = {"index": key, "id": None, "name": None, "arguments": rest}
                self.emit("tool_call.delta", data)
            else:
                self.emit(key, {"text": rest})
