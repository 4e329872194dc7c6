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
  attempt; missing it is an ``AttemptTimeout`` (retried like any other).

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
from ._errors import AttemptTimeout, ProtocolError, ProviderError, RequestTimeout
from ._messages import ModelResponse, ResponseDone, StreamEvent, TextDelta

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
) -> ModelResponse:
    """``model.request`` under the retry policy and the request deadline (seconds)."""
    end = _end_of(deadline)
    attempt = 0
    while True:
        attempt += 1
        try:
            if end is None:
                return await model.request(messages, params)
            with anyio.CancelScope(deadline=end):
                return await model.request(messages, params)
            raise _timeout(model, deadline, attempt)
        except ProviderError as err:
            delay = _next_delay(policy, attempt, err, end, deadline, model)
            if delay is None:
                raise
        await (sleep or anyio.sleep)(delay)


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
    model: Model, stream: AsyncIterator[StreamEvent], end: float | None, first_end: float | None
) -> StreamEvent | None:
    """The first event, with the request deadline published to the model meanwhile."""
    token = _DEADLINE.set(end)
    try:
        return await _next_event(stream, first_end)
    finally:
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
) -> AsyncIterator[StreamEvent]:
    """``model.stream`` under the retry policy and deadlines; ends with ``ResponseDone``.

    A stream that ends without ``ResponseDone`` raises ``ProtocolError`` (incomplete).
    After the first event, a model with ``enforces_deadline = True`` keeps the request
    deadline itself (see ``current_deadline``); other models get a cancel scope per event.
    """
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
        try:
            try:
                event = await _first_event(model, stream, end, first_end)
                parts = []
                while event is not None:
                    if type(event) is TextDelta:
                        parts.append(event.text)
                    yield event
                    if type(event) is ResponseDone:
                        return
                    if later_end is None:  # the model keeps the deadline: no scope per event
                        event = await anext(stream, None)
                    else:
                        event = await _next_event(stream, later_end)
            except _Expired:
                raise _expired(model, deadline, end, attempt, parts, first_event_timeout) from None
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
