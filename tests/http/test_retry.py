"""The kernel's retry layer: what is retried, how long it waits, and the deadlines."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

import anyio
import pytest

from plait._contracts import RequestParams
from plait._errors import (
    AttemptTimeout,
    AuthenticationFailed,
    ConnectionFailed,
    ModelNotFound,
    ProtocolError,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    Rejected,
    RequestTimeout,
    ServerError,
    Unavailable,
)
from plait._messages import (
    AssistantMessage,
    ModelResponse,
    ResponseDone,
    StreamEvent,
    TextDelta,
    UserMessage,
)
from plait._retry import RetryPolicy, request_with_retry, stream_with_retry

MESSAGES = [UserMessage(content="hi")]
PARAMS = RequestParams()
DONE = ModelResponse(message=AssistantMessage(text="ok"))

Step = ProviderError | ModelResponse | Callable[[], Any]


class Scripted:
    """A model that plays one scripted step per attempt (an error, a response, a hang)."""

    name = "scripted"
    provider = "fake"

    def __init__(self, *steps: Any) -> None:
        self.steps = list(steps)
        self.calls = 0

    async def request(self, messages: Sequence[Any], params: RequestParams) -> ModelResponse:
        step = self.steps[self.calls]
        self.calls += 1
        if isinstance(step, BaseException):
            raise step
        if step == "hang":
            await anyio.sleep_forever()
        assert isinstance(step, ModelResponse)
        return step

    async def stream(
        self, messages: Sequence[Any], params: RequestParams
    ) -> AsyncIterator[StreamEvent]:
        step = self.steps[self.calls]
        self.calls += 1
        for item in step:
            if isinstance(item, BaseException):
                raise item
            if item == "hang":
                await anyio.sleep_forever()
            yield item

    async def aclose(self) -> None:
        pass


class Sleeps:
    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def err(cls: type[ProviderError], **kw: Any) -> ProviderError:
    return cls("boom", provider="fake", **kw)


@pytest.mark.anyio
@pytest.mark.parametrize("retry_after", [2.0, 0.25, 86_400.0])
async def test_rate_limit_waits_as_asked_capped_with_jitter(retry_after: float) -> None:
    model = Scripted(err(RateLimited, retry_after=retry_after), DONE)
    sleeps = Sleeps()
    policy = RetryPolicy(max_retry_after=60.0, jitter=0.25)
    assert await request_with_retry(model, MESSAGES, PARAMS, policy=policy, sleep=sleeps) == DONE
    expected = min(retry_after, 60.0)
    assert len(sleeps.waits) == 1
    assert expected <= sleeps.waits[0] <= expected * 1.25


@pytest.mark.anyio
@pytest.mark.parametrize(
    "cls", [ServerError, Unavailable, RateLimited, ConnectionFailed, AttemptTimeout]
)
async def test_transient_errors_are_retried_a_bounded_number_of_times(
    cls: type[ProviderError],
) -> None:
    model = Scripted(*(err(cls) for _ in range(5)))
    sleeps = Sleeps()
    policy = RetryPolicy(attempts=3, base_delay=0.5, max_delay=0.8, jitter=0.0)
    with pytest.raises(cls):
        await request_with_retry(model, MESSAGES, PARAMS, policy=policy, sleep=sleeps)
    assert model.calls == 3
    assert sleeps.waits == [0.5, 0.8]  # exponential, capped at max_delay


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("cls", "status"),
    [
        (Rejected, 400),
        (AuthenticationFailed, 401),
        (AuthenticationFailed, 403),
        (ModelNotFound, 404),
        (Rejected, 422),
        (QuotaExceeded, 402),
        (ProtocolError, None),
    ],
)
async def test_client_errors_and_quota_are_never_retried(
    cls: type[ProviderError], status: int | None
) -> None:
    model = Scripted(err(cls, status_code=status), DONE)
    sleeps = Sleeps()
    with pytest.raises(cls):
        await request_with_retry(model, MESSAGES, PARAMS, sleep=sleeps)
    assert model.calls == 1
    assert sleeps.waits == []


def test_jitter_spreads_backoff() -> None:
    policy = RetryPolicy(base_delay=1.0, jitter=0.25)
    low = policy.delay(1, err(ServerError), rand=0.0)
    high = policy.delay(1, err(ServerError), rand=0.999)
    assert low == 0.75
    assert high is not None
    assert 1.24 < high < 1.25
    assert policy.delay(3, err(ServerError)) is None  # attempts exhausted
    with pytest.raises(ValueError):
        RetryPolicy(attempts=0)


@pytest.mark.anyio
async def test_request_deadline_raises_request_timeout() -> None:
    model = Scripted("hang")
    with anyio.fail_after(5):
        with pytest.raises(RequestTimeout) as info:
            await request_with_retry(model, MESSAGES, PARAMS, deadline=0.05)
    assert info.value.provider == "fake"


@pytest.mark.anyio
async def test_a_wait_past_the_deadline_is_not_attempted() -> None:
    model = Scripted(err(RateLimited, retry_after=30.0), DONE)
    sleeps = Sleeps()
    with pytest.raises(RequestTimeout) as info:
        await request_with_retry(model, MESSAGES, PARAMS, deadline=5.0, sleep=sleeps)
    assert isinstance(info.value.__cause__, RateLimited)
    assert "RateLimited" in str(info.value)
    assert sleeps.waits == []
    assert model.calls == 1


@pytest.mark.anyio
async def test_stream_retries_before_any_output() -> None:
    model = Scripted(
        [err(ConnectionFailed, phase="connect")],
        [err(ServerError)],
        [TextDelta("hel"), TextDelta("lo"), ResponseDone(DONE)],
    )
    sleeps = Sleeps()
    events = [e async for e in stream_with_retry(model, MESSAGES, PARAMS, sleep=sleeps)]
    assert events[-1] == ResponseDone(DONE)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["hel", "lo"]
    assert model.calls == 3
    assert len(sleeps.waits) == 2


@pytest.mark.anyio
async def test_stream_is_not_retried_after_output_and_keeps_the_partial() -> None:
    model = Scripted(
        [TextDelta("par"), TextDelta("tial"), err(ConnectionFailed, phase="read")],
        [ResponseDone(DONE)],
    )
    seen: list[StreamEvent] = []

    async def consume() -> None:
        async for event in stream_with_retry(model, MESSAGES, PARAMS, sleep=Sleeps()):
            seen.append(event)

    with pytest.raises(ConnectionFailed) as info:
        await consume()
    assert info.value.partial == "partial"
    assert model.calls == 1
    assert seen == [TextDelta("par"), TextDelta("tial")]


@pytest.mark.anyio
async def test_stream_without_final_response_is_incomplete() -> None:
    model = Scripted([TextDelta("cut")])
    with pytest.raises(ProtocolError, match="incomplete") as info:
        _ = [e async for e in stream_with_retry(model, MESSAGES, PARAMS)]
    assert info.value.partial == "cut"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_first_event_deadline_is_an_attempt_timeout_and_retried(anyio_backend: str) -> None:
    model = Scripted(["hang"], [TextDelta("late"), ResponseDone(DONE)])
    sleeps = Sleeps()
    with anyio.fail_after(5):
        events = [
            e
            async for e in stream_with_retry(
                model, MESSAGES, PARAMS, first_event_timeout=0.05, sleep=sleeps
            )
        ]
    assert events[0] == TextDelta("late")
    assert model.calls == 2
    model = Scripted(["hang"])
    with anyio.fail_after(5), pytest.raises(AttemptTimeout):
        _ = [
            e
            async for e in stream_with_retry(
                model, MESSAGES, PARAMS, policy=RetryPolicy(attempts=1), first_event_timeout=0.05
            )
        ]


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_stream_deadline_after_output_is_a_request_timeout_with_partial(
    anyio_backend: str,
) -> None:
    model = Scripted([TextDelta("so far"), "hang"])
    with anyio.fail_after(5), pytest.raises(RequestTimeout) as info:
        _ = [e async for e in stream_with_retry(model, MESSAGES, PARAMS, deadline=0.1)]
    assert info.value.partial == "so far"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_cancellation_propagates_and_is_not_retried(anyio_backend: str) -> None:
    model = Scripted("hang", DONE)
    with anyio.move_on_after(0.05) as scope:
        await request_with_retry(model, MESSAGES, PARAMS, deadline=10)
    assert scope.cancelled_caught
    assert model.calls == 1
