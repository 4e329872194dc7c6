"""Models for tests and examples: ``ScriptedModel`` and ``FunctionModel`` (no network).

``ScriptedModel`` answers each request with the next scripted ``Turn`` (text, tool calls,
a completion call, an error); ``FunctionModel`` asks a function. Both stream in chunks
when ``chunk_size`` is set, and record every request they received in ``requests``.
They are also registered by the built-in ``test`` provider (``test:scripted``,
``test:function``, ``test:echo``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, TypeAlias

import anyio

from .._call import maybe_await
from .._contracts import RequestParams
from .._errors import ProviderError
from .._messages import (
    AssistantMessage,
    FinishReason,
    Message,
    ModelResponse,
    ResponseDone,
    StreamEvent,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    Usage,
    UserMessage,
)

__all__ = ["FunctionModel", "ScriptedModel", "ScriptedRequest", "Turn", "call", "complete"]


@dataclass(frozen=True, slots=True)
class Turn:
    """One scripted answer. ``error`` is raised instead of answering; ``delay`` seconds are
    waited before answering (between chunks when streamed)."""

    text: str = ""
    calls: tuple[ToolCall, ...] = ()
    usage: Usage | None = None
    finish_reason: FinishReason | None = None
    error: BaseException | None = None
    delay: float = 0.0


TurnLike: TypeAlias = Turn | str | ToolCall | Sequence[ToolCall] | BaseException | ModelResponse
"""What a script may hold: a ``Turn`` or a shorthand (text, one call, calls, an error)."""


@dataclass(frozen=True, slots=True)
class ScriptedRequest:
    """One request a test model received."""

    messages: list[Message]
    params: RequestParams


def call(
    name: str, args: dict[str, Any] | str | None = None, /, *, id: str | None = None, **kwargs: Any
) -> ToolCall:
    """A tool call: ``call("add", a=1, b=2)``; ``args`` may be raw (even invalid) JSON text."""
    raw = args if isinstance(args, str) else json.dumps({**(args or {}), **kwargs})
    return ToolCall.model_construct(id=id or "", name=name, arguments=raw)


def complete(
    result: Any = None,
    *,
    status: str = "success",
    summary: str = "",
    evidence: Sequence[str] = (),
    id: str | None = None,
) -> ToolCall:
    """A call of the completion tool (``complete``), ending the run."""
    args = {"status": status, "summary": summary, "result": result, "evidence": list(evidence)}
    return call("complete", json.dumps(args, default=str), id=id)


def _as_turn(item: TurnLike) -> Turn | ModelResponse:
    if isinstance(item, Turn | ModelResponse):
        return item
    if isinstance(item, str):
        return Turn(text=item)
    if isinstance(item, ToolCall):
        return Turn(calls=(item,))
    if isinstance(item, BaseException):
        return Turn(error=item)
    return Turn(calls=tuple(item))


def _response(turn: Turn | ModelResponse, number: int, model: str) -> ModelResponse:
    if isinstance(turn, ModelResponse):
        return turn
    calls = [
        c
        if c.id
        else ToolCall.model_construct(id=f"call_{number}_{i}", name=c.name, arguments=c.arguments)
        for i, c in enumerate(turn.calls)
    ]
    # model_construct with every field given: filling defaults is the slow part of it
    usage = turn.usage or Usage.model_construct(
        requests=1,
        input_tokens=10,
        output_tokens=max(1, len(turn.text) // 4) + 5 * len(calls),
        cache_read_tokens=0,
        cache_write_tokens=0,
        reasoning_tokens=0,
        tool_calls=0,
    )
    message = AssistantMessage.model_construct(
        role="assistant",
        text=turn.text,
        tool_calls=calls,
        thinking=[],
        refusal=None,
        provider_data=None,
    )
    return ModelResponse.model_construct(
        message=message,
        usage=usage,
        finish_reason=turn.finish_reason or ("tool_calls" if calls else "stop"),
        raw_finish_reason=None,
        model=model,
        response_id=f"resp_{number}",
    )


def _chunks(text: str, size: int) -> Iterable[str]:
    return (text[i : i + size] for i in range(0, len(text), size))


async def _stream(
    response: ModelResponse, size: int | None, delay: float
) -> AsyncGenerator[StreamEvent, None]:
    if size:
        for piece in _chunks(response.message.text, size):
            if delay:
                await anyio.sleep(delay)
            yield TextDelta(piece)
        for index, tc in enumerate(response.message.tool_calls):
            pieces = list(_chunks(tc.arguments, size)) or [""]
            for n, piece in enumerate(pieces):
                if delay:
                    await anyio.sleep(delay)
                first = n == 0
                yield ToolCallDelta(
                    index, tc.id if first else None, tc.name if first else None, piece
                )
    yield ResponseDone(response)


class _TestModel:
    """Shared request/stream plumbing: subclasses produce the next ``Turn``.

    ``input_modalities`` declares what the model takes (``{"text", "image"}``, ...; the
    kernel refuses other parts before any request); ``None``, the default: anything.
    """

    def __init__(
        self,
        name: str,
        chunk_size: int | None,
        input_modalities: Iterable[str] | None = None,
        url_inputs: Iterable[str] | None = None,
    ) -> None:
        self.name = name
        self.chunk_size = chunk_size
        if input_modalities is not None:  # set only when given: the default is the contract's
            self.input_modalities = frozenset(input_modalities)
        if url_inputs is not None:
            self.url_inputs = frozenset(url_inputs)
        self.requests: list[ScriptedRequest] = []
        self.closed = False

    async def _next(
        self, messages: Sequence[Message], params: RequestParams
    ) -> Turn | ModelResponse:
        raise NotImplementedError

    async def _answer(
        self, messages: Sequence[Message], params: RequestParams
    ) -> tuple[ModelResponse, float]:
        self.requests.append(ScriptedRequest(list(messages), params))
        turn = await self._next(messages, params)
        delay = turn.delay if isinstance(turn, Turn) else 0.0
        if isinstance(turn, Turn) and turn.error is not None:
            if delay:
                await anyio.sleep(delay)
            raise turn.error
        return _response(turn, len(self.requests), self.name), delay

    async def request(self, messages: Sequence[Message], params: RequestParams) -> ModelResponse:
        response, delay = await self._answer(messages, params)
        if delay:
            await anyio.sleep(delay)
        return response

    async def stream(
        self, messages: Sequence[Message], params: RequestParams
    ) -> AsyncIterator[StreamEvent]:
        response, delay = await self._answer(messages, params)
        if delay and not self.chunk_size:
            await anyio.sleep(delay)
        async with aclosing(_stream(response, self.chunk_size, delay)) as events:
            async for event in events:
                yield event

    async def aclose(self) -> None:
        self.closed = True


class ScriptedModel(_TestModel):
    """Answers the n-th request with the n-th scripted turn; running out is an error.

    >>> ScriptedModel([call("add", a=1, b=2), complete(result=3)])
    """

    def __init__(
        self,
        turns: Iterable[TurnLike],
        *,
        chunk_size: int | None = None,
        name: str = "test:scripted",
        input_modalities: Iterable[str] | None = None,
        url_inputs: Iterable[str] | None = None,
    ) -> None:
        super().__init__(name, chunk_size, input_modalities, url_inputs)
        self.turns = [_as_turn(t) for t in turns]

    async def _next(
        self, messages: Sequence[Message], params: RequestParams
    ) -> Turn | ModelResponse:
        index = len(self.requests) - 1
        if index >= len(self.turns):
            raise ProviderError(
                f"scripted model ran out of turns ({len(self.turns)} scripted, "
                f"request {index + 1})",
                provider="test",
            )
        return self.turns[index]


ModelFunction = Callable[[list[Message], RequestParams], TurnLike | Awaitable[TurnLike]]


class FunctionModel(_TestModel):
    """Asks ``fn(messages, params)`` (sync or async) for each turn; it returns a ``TurnLike``."""

    def __init__(
        self,
        fn: ModelFunction,
        *,
        chunk_size: int | None = None,
        name: str = "test:function",
        input_modalities: Iterable[str] | None = None,
        url_inputs: Iterable[str] | None = None,
    ) -> None:
        super().__init__(name, chunk_size, input_modalities, url_inputs)
        self.fn = fn

    async def _next(
        self, messages: Sequence[Message], params: RequestParams
    ) -> Turn | ModelResponse:
        item: TurnLike = await maybe_await(self.fn(list(messages), params))
        return _as_turn(item)


def _said(message: UserMessage | None) -> str:
    if message is None:
        return ""
    content = message.content
    return content if isinstance(content, str) else message.text


def echo(messages: list[Message], params: RequestParams) -> TurnLike:
    """The ``test:echo`` model: answer with the last user message."""
    last = next((m for m in reversed(messages) if isinstance(m, UserMessage)), None)
    return Turn(text=_said(last))


def slow_echo(delay: float) -> ModelFunction:
    """The ``test:slow`` model: ``echo``, after ``delay`` seconds."""

    def answer(messages: list[Message], params: RequestParams) -> TurnLike:
        last = next((m for m in reversed(messages) if isinstance(m, UserMessage)), None)
        return Turn(text=_said(last), delay=delay)

    return answer
