"""``ProviderConformance``: the wire and fault suite of an HTTP provider, on a loopback server.

A plugin subclasses it and provides ``make_model`` (``base_url -> Model``, using
``CONFORMANCE_KEY`` as the API key), ``wire`` (a ``WireAdapter`` rendering canned
answers in the plugin's format) and ``provider`` (for the provider checks).
It checks text, streaming deltas, parallel tool calls, structured output, usage, every
class of the provider error tree (HTTP status, error inside a 200 stream, cut and
malformed streams, connection refused and reset), retries through the kernel, deadlines,
cancellation and that the API key never leaks. See docs/plugins/conformance.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import anyio
import pytest

from plait._contracts import Model, RequestParams
from plait._errors import (
    ConnectionFailed,
    ProtocolError,
    ProviderError,
    RateLimited,
    Rejected,
    RequestTimeout,
)
from plait._messages import ResponseDone, TextDelta, ToolCallDelta
from plait._retry import RetryPolicy, request_with_retry, stream_with_retry

from ._loopback import LoopbackServer, RecordedRequest, Reply
from ._provider_checks import ProviderChecks
from ._wire import (
    CALLS,
    CONFORMANCE_KEY,
    ERROR_CASES,
    MESSAGES,
    OUTPUT,
    STREAM_ERRORS,
    TEXT,
    TOOLS,
    ErrorKind,
    WireAdapter,
    _collect,
    _free_port,
    _no_sleep,
    assert_no_secret,
)

__all__ = ["ProviderConformance"]

MakeModel = Callable[[str], Model]
Ask = Callable[[Model], Awaitable[Any]]
"""What a test does with the model under test."""
E = TypeVar("E", bound=ProviderError)


def _asking(params: RequestParams | None = None, *, stream: bool = False) -> Ask:
    """Ask once: ``request`` gives the response, ``stream`` the list of events."""
    params = params or RequestParams()
    if stream:
        return lambda model: _collect(model, params)
    return lambda model: model.request(MESSAGES, params)


def _streaming(seen: list[Any], **options: Any) -> Ask:
    """Consume ``stream_with_retry`` (``options``: its keywords), keeping events in ``seen``."""

    async def consume(model: Model) -> None:
        async for event in stream_with_retry(model, MESSAGES, RequestParams(), **options):
            seen.append(event)

    return consume


def _shown(events: list[Any]) -> str:
    """The text the ``TextDelta`` events showed."""
    return "".join(e.text for e in events if isinstance(e, TextDelta))


@asynccontextmanager
async def _serving(
    make_model: MakeModel, *replies: Reply, repeat_last: bool = False
) -> AsyncIterator[tuple[Model, list[RecordedRequest]]]:
    """A model talking to a loopback server that plays ``replies``; closed on exit."""
    async with LoopbackServer(list(replies), repeat_last=repeat_last) as srv:
        model = make_model(srv.base_url)
        try:
            yield model, srv.requests
        finally:
            await model.aclose()


async def _answer(
    make_model: MakeModel, ask: Ask, *replies: Reply, repeat_last: bool = False
) -> tuple[Any, list[RecordedRequest]]:
    """What ``ask`` returned while the server played ``replies``, and what it received."""
    async with _serving(make_model, *replies, repeat_last=repeat_last) as (model, requests):
        return await ask(model), requests


async def _failure(
    make_model: MakeModel, ask: Ask, *replies: Reply, expected: type[E]
) -> tuple[E, list[RecordedRequest]]:
    """The ``expected`` error ``ask`` raised while the server played ``replies``."""
    async with _serving(make_model, *replies) as (model, requests):
        with pytest.raises(expected) as info:
            await ask(model)
    return info.value, requests


@pytest.mark.anyio
class ProviderConformance(ProviderChecks):
    """The HTTP suite; subclass it (named ``Test...``) and provide the fixtures."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        # httpx leaves its internal async generators to the garbage collector when a
        # stream stops early, which trio reports as an error; override to add "trio".
        return "asyncio"

    @pytest.fixture
    def make_model(self) -> MakeModel:
        raise NotImplementedError("provide a make_model fixture: base_url -> Model")

    @pytest.fixture
    def wire(self) -> WireAdapter:
        raise NotImplementedError("provide a wire fixture returning a WireAdapter")

    async def test_text(self, make_model: MakeModel, wire: WireAdapter) -> None:
        reply = wire.text(TEXT, stream=False, input_tokens=11, output_tokens=9)
        response, requests = await _answer(make_model, _asking(), reply)
        assert response.message.text == TEXT
        assert response.finish_reason == "stop"
        assert (response.usage.input_tokens, response.usage.output_tokens) == (11, 9)
        assert len(requests) == 1
        assert requests[0].method == "POST"

    async def test_stream_text(self, make_model: MakeModel, wire: WireAdapter) -> None:
        reply = wire.text(TEXT, stream=True, input_tokens=11, output_tokens=9)
        events, _ = await _answer(make_model, _asking(stream=True), reply)
        deltas = [e.text for e in events if isinstance(e, TextDelta)]
        assert len(deltas) >= 2, "text must arrive as several deltas"
        assert "".join(deltas) == TEXT
        assert isinstance(events[-1], ResponseDone)
        done = events[-1].response
        assert done.message.text == TEXT
        assert (done.usage.input_tokens, done.usage.output_tokens) == (11, 9)

    @pytest.mark.parametrize("stream", [False, True])
    async def test_parallel_tool_calls(
        self, make_model: MakeModel, wire: WireAdapter, stream: bool
    ) -> None:
        reply = wire.tool_calls(CALLS, stream=stream, input_tokens=20, output_tokens=12)
        ask = _asking(RequestParams(tools=TOOLS), stream=stream)
        answer, requests = await _answer(make_model, ask, reply)
        if stream:
            pieces = [e for e in answer if isinstance(e, ToolCallDelta)]
            assert {e.index for e in pieces} == {0, 1}
            answer = answer[-1].response
        got = [(c.id, c.name, c.parsed_arguments()) for c in answer.message.tool_calls]
        assert got == [(c.id, c.name, c.parsed_arguments()) for c in CALLS]
        assert answer.finish_reason == "tool_calls"
        assert sorted(wire.tool_names(requests[0].json())) == ["get_time", "get_weather"]

    async def test_structured_output_is_requested(
        self, make_model: MakeModel, wire: WireAdapter
    ) -> None:
        answer = '{"city": "Paris", "celsius": 21}'
        reply = wire.text(answer, stream=False, input_tokens=1, output_tokens=1)
        response, requests = await _answer(make_model, _asking(RequestParams(output=OUTPUT)), reply)
        assert response.message.text == answer
        schema = wire.output_schema(requests[0].json())
        assert schema is not None
        assert dict(schema)["properties"] == OUTPUT.schema["properties"]

    @pytest.mark.parametrize("stream", [False, True])
    @pytest.mark.parametrize(("status", "kind", "headers", "expected"), ERROR_CASES)
    async def test_http_errors(
        self,
        make_model: MakeModel,
        wire: WireAdapter,
        stream: bool,
        status: int,
        kind: ErrorKind,
        headers: tuple[tuple[str, str], ...],
        expected: type[ProviderError],
    ) -> None:
        reply = wire.error(status, kind, headers)
        error, _ = await _failure(make_model, _asking(stream=stream), reply, expected=ProviderError)
        assert type(error) is expected
        assert error.status_code == status
        if headers:
            assert isinstance(error, RateLimited)
            assert error.retry_after == (7.0 if headers[0][0] == "retry-after" else 1.5)
        assert_no_secret(error)

    @pytest.mark.parametrize(("kind", "expected"), STREAM_ERRORS)
    async def test_error_inside_a_stream(
        self,
        make_model: MakeModel,
        wire: WireAdapter,
        kind: ErrorKind,
        expected: type[ProviderError],
    ) -> None:
        reply = wire.stream_error(kind, after_text="Partial answer")
        error, _ = await _failure(make_model, _asking(stream=True), reply, expected=ProviderError)
        assert isinstance(error, expected)
        assert error.partial == "Partial answer"
        assert_no_secret(error)

    async def test_truncated_stream_is_incomplete(
        self, make_model: MakeModel, wire: WireAdapter
    ) -> None:
        reply = wire.truncated_stream("Half of it")
        error, _ = await _failure(make_model, _asking(stream=True), reply, expected=ProtocolError)
        assert error.partial == "Half of it"

    async def test_malformed_stream_json(self, make_model: MakeModel, wire: WireAdapter) -> None:
        reply = wire.malformed_stream()
        await _failure(make_model, _asking(stream=True), reply, expected=ProtocolError)

    async def test_empty_answer_is_a_protocol_error(
        self, make_model: MakeModel, wire: WireAdapter
    ) -> None:
        await _failure(make_model, _asking(), wire.empty(), expected=ProtocolError)

    async def test_connection_refused(self, make_model: MakeModel) -> None:
        model = make_model(f"http://127.0.0.1:{_free_port()}")
        try:
            with pytest.raises(ConnectionFailed) as info:
                await model.request(MESSAGES, RequestParams())
            assert info.value.phase == "connect"
            assert info.value.retryable
            with pytest.raises(ConnectionFailed):
                await _collect(model, RequestParams())
        finally:
            await model.aclose()
        assert_no_secret(info.value)

    async def test_reset_mid_stream_keeps_partial_and_is_not_retried(
        self, make_model: MakeModel, wire: WireAdapter
    ) -> None:
        full = wire.text(TEXT, stream=True, input_tokens=1, output_tokens=1)
        cut = Reply(
            full.status, full.headers, full.chunks, reset_after=max(2, len(full.chunks) // 2)
        )
        seen: list[Any] = []
        ask = _streaming(seen, sleep=_no_sleep)
        error, requests = await _failure(make_model, ask, cut, full, expected=ProviderError)
        assert isinstance(error, ConnectionFailed | ProtocolError)
        assert len(requests) == 1, "a stream that showed output must not be retried"
        assert error.partial == _shown(seen)
        assert TEXT.startswith(_shown(seen))

    async def test_kernel_retries_transient_errors(
        self, make_model: MakeModel, wire: WireAdapter
    ) -> None:
        replies = [
            wire.error(503, "overloaded"),
            wire.error(429, "rate_limit", (("retry-after-ms", "1"),)),
            wire.text(TEXT, stream=False, input_tokens=1, output_tokens=1),
        ]

        async def ask(model: Model) -> Any:
            policy = RetryPolicy(attempts=3)
            return await request_with_retry(
                model, MESSAGES, RequestParams(), policy=policy, sleep=_no_sleep
            )

        response, requests = await _answer(make_model, ask, *replies)
        assert response.message.text == TEXT
        assert len(requests) == 3

    async def test_kernel_never_retries_rejections(
        self, make_model: MakeModel, wire: WireAdapter
    ) -> None:
        replies = [
            wire.error(400, "invalid_request"),
            wire.text(TEXT, stream=False, input_tokens=1, output_tokens=1),
        ]

        async def ask(model: Model) -> Any:
            return await request_with_retry(model, MESSAGES, RequestParams(), sleep=_no_sleep)

        _, requests = await _failure(make_model, ask, *replies, expected=Rejected)
        assert len(requests) == 1

    async def test_deadline(self, make_model: MakeModel) -> None:
        async def ask(model: Model) -> Any:
            with anyio.fail_after(10):
                return await request_with_retry(model, MESSAGES, RequestParams(), deadline=0.3)

        await _failure(make_model, ask, Reply.hanging(), expected=RequestTimeout)

    async def test_deadline_cuts_a_stalled_stream(
        self, make_model: MakeModel, wire: WireAdapter
    ) -> None:
        full = wire.text(TEXT, stream=True, input_tokens=1, output_tokens=1)
        stalled = Reply(full.status, full.headers, full.chunks, stall_after=3)
        seen: list[Any] = []
        ask = _streaming(seen, deadline=0.5)
        with anyio.fail_after(10):
            error, _ = await _failure(make_model, ask, stalled, expected=RequestTimeout)
        assert _shown(seen), "the first chunks arrived before the stall"
        assert error.partial == _shown(seen)

    async def test_cancellation_is_prompt_and_leaves_the_model_usable(
        self, make_model: MakeModel, wire: WireAdapter
    ) -> None:
        slow = wire.text(TEXT, stream=True, input_tokens=1, output_tokens=1)
        slow = Reply(slow.status, slow.headers, slow.chunks, delay=0.2)
        replies = [
            Reply.hanging(),
            slow,
            wire.text(TEXT, stream=False, input_tokens=1, output_tokens=1),
        ]

        async def ask(model: Model) -> None:
            start = anyio.current_time()
            with anyio.move_on_after(0.2) as scope:
                await model.request(MESSAGES, RequestParams())
            assert scope.cancelled_caught
            with anyio.move_on_after(0.3) as scope:
                async for _ in model.stream(MESSAGES, RequestParams()):
                    pass
            assert scope.cancelled_caught
            assert anyio.current_time() - start < 5
            response = await model.request(MESSAGES, RequestParams())
            assert response.message.text == TEXT
            await model.aclose()  # and once more on the way out: idempotent

        await _answer(make_model, ask, *replies)

    async def test_many_concurrent_requests_share_the_pool(
        self, make_model: MakeModel, wire: WireAdapter
    ) -> None:
        reply = wire.text(TEXT, stream=False, input_tokens=1, output_tokens=1)

        async def fifty(model: Model) -> list[str]:
            texts: list[str] = []

            async def one() -> None:
                texts.append((await model.request(MESSAGES, RequestParams())).message.text)

            async with anyio.create_task_group() as tg:
                for _ in range(50):
                    tg.start_soon(one)
            return texts

        texts, _ = await _answer(make_model, fifty, reply, repeat_last=True)
        assert texts == [TEXT] * 50

    async def test_key_is_sent_but_never_shown(
        self, make_model: MakeModel, wire: WireAdapter
    ) -> None:
        reply = wire.text(TEXT, stream=False, input_tokens=1, output_tokens=1)
        async with _serving(make_model, reply) as (model, requests):
            response = await model.request(MESSAGES, RequestParams())
        assert CONFORMANCE_KEY in " ".join(requests[0].headers.values())
        assert CONFORMANCE_KEY not in repr(model)
        assert CONFORMANCE_KEY not in response.model_dump_json()
