"""The kernel's one retry layer for model requests, with absolute deadlines.

Models never retry; the run loop asks them through ``request_with_retry`` or
``stream_with_retry``, which:

* retry only errors whose class says ``retryable`` (rate limits, 5xx, unavailable,
  connection failures, attempt timeouts), at most ``policy.attempts`` attempts in all;
* wait with exponential backoff and jitter, or as long as the server's ``retry_after``
  asked (capped at ``max_retry_after``, jitter only lengthens it);
* never retry a stream once an event was handed to the caller (the error then carries
  the text received so far in ``partial``);
* keep everything inside ``deadline``: seconds from the call for the whole request, all
  attempts and waits included, enforced as an absolute point in time (not per socket
  read). Passing it raises ``RequestTimeout``; a retry whose wait would end after it is
  not attempted (``RequestTimeout``, with the last error as its cause);
* for streams, ``first_event_timeout`` bounds the wait for the first event of each
  attempt; missing it is an ``AttemptTimeout`` (retried like any other);
* bound the answer's size: ``limits`` (the run's ``Limits``) are published to the model
  (``current_limits``) while it is asked, and an answer whose text, thinking and
  tool-call arguments pass ``limits.output_chars`` ends with ``ResponseTooLarge`` — a
  stream as soon as its deltas pass the cap (one addition per delta), the provider's
  generator closed. Like every ``ProtocolError`` it is not retried: asked again, a
  runaway model would most likely run away again, at the same cost. A ``RecursionError``
  out of a model (JSON nested too deeply for its decoder) becomes one too.

``sleep`` can be injected (tests must not sleep for real); it defaults to ``anyio.sleep``.
"""

from __future__ import annotations

import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from ._contracts import optional_attribute
from ._errors import (
    AttemptTimeout,
    ProtocolError,
    ProviderError,
    RequestTimeout,
    ResponseTooLarge,
)
from ._messages import (
    AssistantMessage,
    ModelResponse,
    ResponseDone,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)
from ._settings import _LIMITS, Limits, current_limits

if TYPE_CHECKING:
    from ._contracts import Model, RequestParams
    from ._messages import Message

__all__ = [
    "DEFAULT_RETRY_POLICY",
    "NO_RETRY",
    "RetryPolicy",
    "current_deadline",
    "request_with_retry",
    "stream_with_retry",
]

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently a failed model request is tried again.

    ``attempts`` counts the first try (``1`` disables retries). Backoff before attempt
    ``n + 1`` is ``base_delay * 2 ** (n - 1)`` capped at ``max_delay``, spread by
    ``±jitter`` (a fraction). A server's ``retry_after`` replaces the backoff, capped at
    ``max_retry_after`` and lengthened by up to ``jitter``.
    """

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 20.0
    max_retry_after: float = 60.0
    jitter: float = 0.25

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("RetryPolicy.attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.max_retry_after) < 0:
            raise ValueError("RetryPolicy delays must not be negative")
        if not 0 <= self.jitter <= 1:
            raise ValueError("RetryPolicy.jitter must be between 0 and 1")

    def delay(
        self, attempt: int, error: BaseException, *, rand: float | None = None
    ) -> float | None:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), or ``None``
        when ``error`` must not be retried. ``rand`` in [0, 1) replaces the random draw."""
        if attempt >= self.attempts or not getattr(error, "retryable", False):
            return None
        r = random.random() if rand is None else rand
        hint = getattr(error, "retry_after", None)
        if isinstance(hint, int | float) and math.isfinite(hint) and hint >= 0:
            wait = min(float(hint), self.max_retry_after)
            return wait * (1.0 + self.jitter * r)
        backoff = min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1))
        return backoff * (1.0 - self.jitter + 2.0 * self.jitter * r)


DEFAULT_RETRY_POLICY = RetryPolicy()
NO_RETRY = RetryPolicy(attempts=1)


_DEADLINE: ContextVar[float | None] = ContextVar("plait_request_deadline", default=None)


def current_deadline() -> float | None:
    """The absolute deadline (``anyio.current_time()`` clock) of the stream being started.

    A model that sets ``enforces_deadline = True`` reads this when its stream starts and
    stops waiting for the network once it passes (raising ``AttemptTimeout``): the retry
    layer then needs no cancel scope per event, which would cost more than the event.
    """
    return _DEADLINE.get()


class _Expired(Exception):
    """Internal: a deadline cancelled the wait for the model."""


def _provider(model: Model) -> str:
    return str(optional_attribute(model, "provider") or model.name)


def _answer_chars(message: AssistantMessage) -> int:
    """Characters of an answer that count against ``Limits.output_chars``."""
    size = len(message.text)
    for thinking in message.thinking:
        size += len(thinking.text)
    for call in message.tool_calls:
        size += len(call.arguments)
    return size


def _too_long(model: Model, limit: int) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"the answer is longer than {limit:,} characters (Limits.output_chars)",
        cap="output_chars",
        limit=limit,
        provider=_provider(model),
    )


def _too_deep(model: Model, exc: RecursionError) -> ResponseTooLarge:
    """A ``RecursionError`` out of a model: a response nested too deeply to decode."""
    limit = current_limits().json_depth
    return ResponseTooLarge(
        f"the response is nested too deeply to decode ({exc})",
        cap="json_depth",
        limit=limit,
        provider=_provider(model),
    )


def _checked(model: Model, response: ModelResponse, limit: int) -> ModelResponse:
    if _answer_chars(response.message) > limit:
        raise _too_long(model, limit)
    return response


def _checked_done(model: Model, event: ResponseDone, limit: int) -> ResponseDone:
    _checked(model, event.response, limit)
    return event


def _end_of(seconds: float | None) -> float | None:
    return None if seconds is None else anyio.current_time() + seconds


def _timeout(
    model: Model, deadline: float | None, attempts: int, partial: str | None = None
) -> RequestTimeout:
    tries = f"{attempts} attempt{'s' if attempts != 1 else ''}"
    return RequestTimeout(
        f"request deadline of {deadline:g}s passed ({tries})",
        provider=_provider(model),
        partial=partial,
    )


def _next_delay(
    policy: RetryPolicy,
    attempt: int,
    err: ProviderError,
    end: float | None,
    deadline: float | None,
    model: Model,
) -> float | None:
    """The wait before the next attempt; ``None`` to give up with ``err`` itself."""
    delay = policy.delay(attempt, err)
    if delay is None:
        return None
    if end is not None and anyio.current_time() + delay >= end:
        timeout = _timeout(model, deadline, attempt)
        timeout.message += f"; last error: {type(err).__name__}: {err.message}"
        raise timeout from err
    return delay


async def request_with_retry(
    model: Model,
    messages: Sequence[Message],
    params: RequestParams,
    *,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    deadline: float | None = None,
    sleep: Sleep | None = None,
    limits: Limits | None = None,
) -> ModelResponse:
    """``model.request`` under the retry policy and the request deadline (seconds);
    ``limits`` (default: ``current_limits()``) bound the answer and reach the model."""
    published = _LIMITS.get()
    if limits is None:
        limits = published
    # published already (a run that keeps the defaults, a sub-run): nothing to set
    token = None if limits is published else _LIMITS.set(limits)
    end = _end_of(deadline)
    attempt = 0
    try:
        while True:
            attempt += 1
            try:
                if end is None:
                    response = await model.request(messages, params)
                    break
                with anyio.CancelScope(deadline=end):
                    response = await model.request(messages, params)
                    break
                raise _timeout(model, deadline, attempt)
            except ProviderError as err:
                delay = _next_delay(policy, attempt, err, end, deadline, model)
                if delay is None:
                    raise
            except RecursionError as exc:
                raise _too_deep(model, exc) from None
            await (sleep or anyio.sleep)(delay)
    finally:
        if token is not None:
            _LIMITS.reset(token)
    message = response.message
    if message.tool_calls or message.thinking or len(message.text) > limits.output_chars:
        return _checked(model, response, limits.output_chars)
    return response


async def _next_event(stream: AsyncIterator[StreamEvent], end: float | None) -> StreamEvent | None:
    """The stream's next event, ``None`` at its end; ``_Expired`` when ``end`` passes."""
    if end is None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None
    with anyio.CancelScope(deadline=end):
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None
    raise _Expired


async def _close(stream: AsyncIterator[StreamEvent]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        with anyio.CancelScope(shield=True):
            await aclose()


async def _first_event(
    stream: AsyncIterator[StreamEvent], end: float | None, first_end: float | None, limits: Limits
) -> StreamEvent | None:
    """The first event, with the request deadline and the limits published to the model
    meanwhile (a model reads them when its stream starts)."""
    token = _DEADLINE.set(end)
    limits_token = _LIMITS.set(limits)
    try:
        return await _next_event(stream, first_end)
    finally:
        _LIMITS.reset(limits_token)
        _DEADLINE.reset(token)


def _expired(
    model: Model,
    deadline: float | None,
    end: float | None,
    attempt: int,
    parts: list[str] | None,
    first: float | None,
) -> ProviderError:
    """The error for a deadline that passed: the request's, or the first event's."""
    if parts is not None or (end is not None and anyio.current_time() >= end):
        return _timeout(model, deadline, attempt, None if parts is None else "".join(parts))
    return AttemptTimeout(
        f"no event within the first-event deadline of {first or 0:g}s", provider=_provider(model)
    )


async def stream_with_retry(
    model: Model,
    messages: Sequence[Message],
    params: RequestParams,
    *,
    policy: RetryPolicy = DEFAULT_RETRY_POLICY,
    deadline: float | None = None,
    first_event_timeout: float | None = None,
    sleep: Sleep | None = None,
    limits: Limits | None = None,
) -> AsyncIterator[StreamEvent]:
    """``model.stream`` under the retry policy and deadlines; ends with ``ResponseDone``.

    A stream that ends without ``ResponseDone`` raises ``ProtocolError`` (incomplete).
    After the first event, a model with ``enforces_deadline = True`` keeps the request
    deadline itself (see ``current_deadline``); other models get a cancel scope per event.
    ``limits`` (default: ``current_limits()``) bound the answer (``output_chars``): the
    stream stops with ``ResponseTooLarge`` before the delta that passes the cap is shown.
    """
    if limits is None:
        limits = current_limits()
    cap = limits.output_chars
    end = _end_of(deadline)
    later_end = None if optional_attribute(model, "enforces_deadline") else end
    attempt = 0
    while True:
        attempt += 1
        first_end = end
        if first_event_timeout is not None:
            first_end = anyio.current_time() + first_event_timeout
            first_end = first_end if end is None else min(first_end, end)
        stream = model.stream(messages, params)
        parts: list[str] | None = None  # becomes a list once an event was shown
        size = 0  # characters of text, thinking and call arguments so far
        try:
            try:
                event = await _first_event(stream, end, first_end, limits)
                parts = []
                while event is not None:
                    kind = type(event)
                    if kind is TextDelta:
                        size += len(event.text)  # type: ignore[union-attr]
                        if size > cap:  # before the piece is shown, or kept in ``partial``
                            raise _too_long(model, cap)
                        parts.append(event.text)  # type: ignore[union-attr]
                    elif kind is ResponseDone:
                        yield _checked_done(model, event, cap)  # type: ignore[arg-type]
                        return
                    else:
                        if kind is ToolCallDelta:
                            size += len(event.arguments)  # type: ignore[union-attr]
                        elif kind is ThinkingDelta:
                            size += len(event.text)  # type: ignore[union-attr]
                        if size > cap:
                            raise _too_long(model, cap)
                    yield event
                    if later_end is None:  # the model keeps the deadline: no scope per event
                        event = await anext(stream, None)
                    else:
                        event = await _next_event(stream, later_end)
            except _Expired:
                raise _expired(model, deadline, end, attempt, parts, first_event_timeout) from None
            except RecursionError as exc:
                raise _too_deep(model, exc) from None
            raise ProtocolError(
                "the stream ended without its final response (incomplete)",
                provider=_provider(model),
                partial="".join(parts),
            )
        except ProviderError as err:
            if parts is not None:
                if err.partial is None:
                    err.partial = "".join(parts)
                if (
                    end is not None
                    and isinstance(err, AttemptTimeout)
                    and anyio.current_time() >= end
                ):
                    raise _timeout(model, deadline, attempt, err.partial) from err
                raise
            delay = _next_delay(policy, attempt, err, end, deadline, model)
            if delay is None:
                raise
        finally:
            await _close(stream)
        await (sleep or anyio.sleep)(delay)
