"""One model request, streamed or not, its pieces turned into events.

A turn is streamed (``plait._retry.stream_with_retry``) when somebody watches the run
(a sink: ``plait.stream``, ``plait.start``, event handlers) or ``ModelSettings.stream``
is true; otherwise it is one unstreamed request (``request_with_retry``), which costs
less CPU and memory per turn. Watchers see the same events either way: an unstreamed
answer arrives as one delta of each kind. Only a complete response becomes history.

When a watched run has output guardrails, a turn's events are held back
(``Emitter.hold``) until it is known what the turn is: a turn that calls tools is
released at once; an answer (text, or the completion call) waits for the output
guardrails. They pass: it is shown (``show_answer``; a rewritten output replaces the
held text). Anything else (a block, a retry, a failed verification, the end of the run):
its content — text, thinking and call deltas, the text of ``model.response``, the
completion summary — is dropped and only the other events are shown (``drop_answer``).

Stream guardrails (``_stream_checks``, imported only by runs that have them) sit between
the model's text and the events: a text delta is shown when they allowed it, a block
cuts the turn (``CUT``: the run is finished, nothing becomes history); an unwatched,
unstreamed turn is checked once, whole (``_checked``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any

from .._contracts import RequestParams
from .._messages import (
    Message,
    ModelResponse,
    ResponseDone,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from .._redact import StreamRedactor
from .._retry import request_with_retry, stream_with_retry
from ._answer import masked, unique_call_ids, used_call_ids
from ._budget import charge_usage
from ._completion import COMPLETE
from ._options import DEFAULT_LIMITS
from ._state import PartialOutput, RunState

if TYPE_CHECKING:
    from ._stream_checks import StreamGuard

__all__ = ["answered", "ask_model", "drop_answer", "show_answer", "usage_data"]

CONTENT_KINDS = frozenset({"text.delta", "thinking.delta", "tool_call.delta"})
"""Events that carry what the model wrote, piece by piece."""


def usage_data(st: RunState) -> dict[str, Any]:
    u = st.usage
    return {
        "requests": u.requests,
        "input_tokens": u.input_tokens,
        "output_tokens": u.output_tokens,
        "tool_calls": st.tool_calls,
    }


def ask_model(
    st: RunState, messages: Sequence[Message], params: RequestParams
) -> Awaitable[ModelResponse]:
    """Ask the model once (with retries); await it, then pass the answer to ``answered``.

    Not a coroutine itself: an unwatched, unstreamed turn awaits the retry layer
    directly, one coroutine frame less held per run in flight.
    """
    if st.partial is not None:
        st.partial.reset()
    emitter = st.emitter
    if emitter.answer_held:  # the last answer never passed the output guardrails
        drop_answer(st)
    emitter.emit(
        "model.request", {"turn": st.turns, "messages": len(messages), "tools": len(params.tools)}
    )
    settings = params.settings
    if emitter.sinks or settings.stream:
        if emitter.sinks and "output" in st.guardrails:  # shown once they pass
            emitter.hold()
            emitter.answer_held = True
        return _watched(st, messages, params)
    if st.guardrails and "stream" in st.guardrails:  # checked once, on the whole text
        return _checked(st, messages, params)
    return request_with_retry(
        st.model,
        messages,
        params,
        policy=st.retry_policy,
        limits=None if st.limits is DEFAULT_LIMITS else st.limits,  # defaults: published already
        deadline=settings.timeout,  # absolute, all attempts; the run's deadline caps it
    )


async def _checked(
    st: RunState, messages: Sequence[Message], params: RequestParams
) -> ModelResponse:
    """An unwatched, unstreamed turn under stream guardrails: the complete text is
    checked once (policy never depends on whether somebody watches)."""
    from ._stream_checks import check_whole

    response = await request_with_retry(
        st.model,
        messages,
        params,
        policy=st.retry_policy,
        limits=None if st.limits is DEFAULT_LIMITS else st.limits,
        deadline=params.settings.timeout,
    )
    return await check_whole(st, response)


def answered(st: RunState, response: ModelResponse) -> ModelResponse:
    """Charge the answer's usage (to every run above too), make it safe to keep
    (``_answer``: secrets masked, tool calls with ids of their own) and announce it."""
    charge_usage(st, response.usage)
    if st.redact is not None:
        response = masked(response, st.redact)
    if response.message.tool_calls:
        if st.call_ids is None:
            st.call_ids = used_call_ids(st.messages)
        response = unique_call_ids(response, st.call_ids)
    if not st.emitter.sinks or st.status is not None:  # nobody watches; a cut turn
        return response
    msg = response.message
    st.emitter.emit(
        "model.response",
        {
            "turn": st.turns,
            "finish_reason": response.finish_reason,
            "text": msg.text,
            "tool_calls": [{"id": c.id, "name": c.name} for c in msg.tool_calls],
            "usage": usage_data(st),
        },
    )
    if st.emitter.answer_held and not _is_answer(st, response):
        st.emitter.answer_held = False  # a turn that calls tools: not the output
        st.emitter.release()
    return response


def _is_answer(st: RunState, response: ModelResponse) -> bool:
    """The turn may be the run's output: text, or a call of the completion tool."""
    calls = response.message.tool_calls
    if not calls:
        return True
    return st.completion_mode != "off" and any(c.name == COMPLETE for c in calls)


def _without_content(kind: str, data: dict[str, Any]) -> dict[str, Any] | None:
    if kind in CONTENT_KINDS:
        return None
    if kind == "model.response":
        return {**data, "text": None}
    if kind == "completion":
        return {**data, "summary": None}
    return data


def drop_answer(st: RunState) -> None:
    """The held answer did not pass the output guardrails: show all but its content."""
    emitter = st.emitter
    if not emitter.answer_held:
        return
    emitter.answer_held = False
    emitter.release(edit=_without_content)
    if st.partial is not None:
        st.partial.reset()  # ``partial()`` must not show it either


def show_answer(st: RunState, output: Any, replaced: bool) -> None:
    """The output guardrails passed ``output``: show the held answer, or, when they
    rewrote it, the held events without the original content and the new text."""
    emitter = st.emitter
    if not emitter.answer_held:
        return
    emitter.answer_held = False
    if not replaced:
        emitter.release()
        return
    held = emitter.held
    assert held is not None  # answer_held: a hold is in place
    kept: list[tuple[str, dict[str, Any]]] = []
    at = None  # where the original text was: the new text takes its place
    for kind, data in held:
        new = _without_content(kind, data)
        if new is not None:
            kept.append((kind, new))
        elif at is None and kind == "text.delta":
            at = len(kept)
    if st.plan.is_text and isinstance(output, str) and output:
        kept.insert(len(kept) if at is None else at, ("text.delta", {"text": output}))
    held[:] = kept
    emitter.release()


async def _watched(
    st: RunState, messages: Sequence[Message], params: RequestParams
) -> ModelResponse:
    """A turn somebody watches (or ``stream=True``): its pieces become delta events."""
    if st.partial is None:
        st.partial = PartialOutput()
    # a secret split across deltas is caught whole: pieces are held back until safe
    held = _HeldDeltas(st) if st.redact is not None and st.emitter.sinks else None
    guard = None
    if st.guardrails and "stream" in st.guardrails:  # text shown as the guardrails allow it
        from ._stream_checks import StreamGuard

        guard = StreamGuard(st, lambda text: _text(st, text, held))
    settings = params.settings
    if settings.stream is not False:
        if guard is None:
            response = await _streamed(st, messages, params, held, None)
        else:
            response = await guard.around(lambda: _streamed(st, messages, params, held, guard))
    else:
        response = await request_with_retry(
            st.model,
            messages,
            params,
            policy=st.retry_policy,
            limits=None if st.limits is DEFAULT_LIMITS else st.limits,
            deadline=settings.timeout,  # absolute, all attempts; the run's deadline caps it
        )
        for event in _as_deltas(response):
            _show(st, event, held, guard)
        if guard is not None:
            response = await guard.close(response)
    if held is not None and st.status is None:  # a blocked turn shows nothing more
        held.flush()
    return response


async def _streamed(
    st: RunState,
    messages: Sequence[Message],
    params: RequestParams,
    held: _HeldDeltas | None,
    guard: StreamGuard | None,
) -> ModelResponse:
    settings = params.settings
    stream = stream_with_retry(
        st.model,
        messages,
        params,
        policy=st.retry_policy,
        limits=None if st.limits is DEFAULT_LIMITS else st.limits,
        deadline=settings.timeout,  # absolute, all attempts; the run's deadline caps it
        first_event_timeout=settings.first_event_timeout,
    )
    response: ModelResponse | None = None
    try:
        async for event in stream:
            if type(event) is ResponseDone:
                response = event.response
            else:
                _show(st, event, held, guard)
    finally:
        await stream.aclose()  # type: ignore[attr-defined]
    assert response is not None  # stream_with_retry raises ProtocolError otherwise
    return response


def _as_deltas(response: ModelResponse) -> list[StreamEvent]:
    """An unstreamed answer as the deltas a stream would have carried, one of each."""
    msg = response.message
    events: list[StreamEvent] = [ThinkingDelta(t.text) for t in msg.thinking if t.text]
    if msg.text:
        events.append(TextDelta(msg.text))
    events.extend(ToolCallDelta(i, c.id, c.name, c.arguments) for i, c in enumerate(msg.tool_calls))
    return events


def _show(
    st: RunState, event: StreamEvent, held: _HeldDeltas | None, guard: StreamGuard | None
) -> None:
    """Record one delta for ``partial()`` and emit it (through the stream guardrails and
    the redaction hold)."""
    kind = type(event)
    if kind is TextDelta:
        if guard is None:
            _text(st, event.text, held)  # type: ignore[union-attr]
        else:
            guard.feed(event.text)  # type: ignore[union-attr]
    elif kind is ToolCallDelta:
        _tool_delta(st, event, held)  # type: ignore[arg-type]
    elif kind is ThinkingDelta:
        if held is None:
            st.emitter.emit("thinking.delta", {"text": event.text})  # type: ignore[union-attr]
        else:
            held.text("thinking.delta", event.text)  # type: ignore[union-attr]


def _text(st: RunState, text: str, held: _HeldDeltas | None) -> None:
    """Answer text that may be shown: for ``partial()``, and as a ``text.delta``."""
    assert st.partial is not None  # made by _watched
    st.partial.text.append(text)
    if held is None:
        st.emitter.emit("text.delta", {"text": text})
    else:
        held.text("text.delta", text)


def _tool_delta(st: RunState, delta: ToolCallDelta, held: _HeldDeltas | None) -> None:
    partial = st.partial
    assert partial is not None  # made by _watched
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
