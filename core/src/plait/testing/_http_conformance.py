"""``ProviderConformance``: the wire and fault suite of an HTTP provider, on a loopback server.

A plugin subclasses it and provides ``make_model`` (``base_url -> Model``, using
``CONFORMANCE_KEY`` as the API key) and ``wire`` (a ``WireAdapter`` rendering canned
answers in the plugin's format); optionally ``provider`` to run the provider checks too.
It checks text, streaming deltas, parallel tool calls, structured output, usage, every
class of the provider error tree (HTTP status, error inside a 200 stream, cut and
malformed streams, connection refused and reset), retries through the kernel, deadlines,
cancellation and that the API key never leaks. See docs/plugins/conformance.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

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

from ._loopback import LoopbackServer, Reply
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
    _ask,
    _collect,
    _free_port,
    _no_sleep,
    assert_no_secret,
)

__all__ = ["ProviderConformance"]


@pytest.mark.anyio
class ProviderConformance(ProviderChecks):
    """The HTTP suite; subclass it (named ``Test...``) and provide the fixtures."""

    @pytest.fixture
    def anyio_backend(self) -> str:
        # httpx leaves its internal async generators to the garbage collector when a
        # stream stops early, which trio reports as an error; override to add "trio".
        return "asyncio"

    @pytest.fixture
    def make_model(self) -> Callable[[str], Model]:
        raise NotImplementedError("provide a make_model fixture: base_url -> Model")

    @pytest.fixture
    def wire(self) -> WireAdapter:
        raise NotImplementedError("provide a wire fixture returning a WireAdapter")

    async def test_text(self, make_model: Callable[[str], Model], wire: WireAdapter) -> None:
        async with LoopbackServer(
            [wire.text(TEXT, stream=False, input_tokens=11, output_tokens=9)]
        ) as srv:
            model = make_model(srv.base_url)
            try:
                response = await model.request(MESSAGES, RequestParams())
            finally:
                await model.aclose()
        assert response.message.text == TEXT
        assert response.finish_reason == "stop"
        assert (response.usage.input_tokens, response.usage.output_tokens) == (11, 9)
        assert len(srv.requests) == 1
        assert srv.requests[0].method == "POST"

    async def test_stream_text(self, make_model: Callable[[str], Model], wire: WireAdapter) -> None:
        async with LoopbackServer(
            [wire.text(TEXT, stream=True, input_tokens=11, output_tokens=9)]
        ) as srv:
            model = make_model(srv.base_url)
            try:
                events = await _collect(model, RequestParams())
            finally:
                await model.aclose()
        deltas = [e.text for e in events if isinstance(e, TextDelta)]
        assert len(deltas) >= 2, "text must arrive as several deltas"
        assert "".join(deltas) == TEXT
        assert isinstance(events[-1], ResponseDone)
        done = events[-1].response
        assert done.message.text == TEXT
        assert (done.usage.input_tokens, done.usage.output_tokens) == (11, 9)

    @pytest.mark.parametrize("stream", [False, True])
    async def test_parallel_tool_calls(
        self, make_model: Callable[[str], Model], wire: WireAdapter, stream: bool
    ) -> None:
        reply = wire.tool_calls(CALLS, stream=stream, input_tokens=20, output_tokens=12)
        async with LoopbackServer([reply]) as srv:
            model = make_model(srv.base_url)
            try:
                params = RequestParams(tools=TOOLS)
                if stream:
                    events = await _collect(model, params)
                    pieces = [e for e in events if isinstance(e, ToolCallDelta)]
                    assert {e.index for e in pieces} == {0, 1}
                    response = events[-1].response
                else:
                    response = await model.request(MESSAGES, params)
            finally:
                await model.aclose()
        got = [(c.id, c.name, c.parsed_arguments()) for c in response.message.tool_calls]
        assert got == [(c.id, c.name, c.parsed_arguments()) for c in CALLS]
        assert response.finish_reason == "tool_calls"
        assert sorted(wire.tool_names(srv.requests[0].json())) == ["get_time", "get_weather"]

    async def test_structured_output_is_requested(
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        answer = '{"city": "Paris", "celsius": 21}'
        async with LoopbackServer(
            [wire.text(answer, stream=False, input_tokens=1, output_tokens=1)]
        ) as srv:
            model = make_model(srv.base_url)
            try:
                response = await model.request(MESSAGES, RequestParams(output=OUTPUT))
            finally:
                await model.aclose()
        assert response.message.text == answer
        schema = wire.output_schema(srv.requests[0].json())
        assert schema is not None
        assert dict(schema)["properties"] == OUTPUT.schema["properties"]

    @pytest.mark.parametrize("stream", [False, True])
    @pytest.mark.parametrize(("status", "kind", "headers", "expected"), ERROR_CASES)
    async def test_http_errors(
        self,
        make_model: Callable[[str], Model],
        wire: WireAdapter,
        stream: bool,
        status: int,
        kind: ErrorKind,
        headers: tuple[tuple[str, str], ...],
        expected: type[ProviderError],
    ) -> None:
        async with LoopbackServer([wire.error(status, kind, headers)]) as srv:
            model = make_model(srv.base_url)
            try:
                with pytest.raises(ProviderError) as info:
                    await _ask(model, stream=stream)
            finally:
                await model.aclose()
        assert type(info.value) is expected
        assert info.value.status_code == status
        if headers:
            assert isinstance(info.value, RateLimited)
            assert info.value.retry_after == (7.0 if headers[0][0] == "retry-after" else 1.5)
        assert_no_secret(info.value)

    @pytest.mark.parametrize(("kind", "expected"), STREAM_ERRORS)
    async def test_error_inside_a_stream(
        self,
        make_model: Callable[[str], Model],
        wire: WireAdapter,
        kind: ErrorKind,
        expected: type[ProviderError],
    ) -> None:
        async with LoopbackServer([wire.stream_error(kind, after_text="Partial answer")]) as srv:
            model = make_model(srv.base_url)
            try:
                with pytest.raises(ProviderError) as info:
                    await _collect(model, RequestParams())
            finally:
                await model.aclose()
        assert isinstance(info.value, expected)
        assert info.value.partial == "Partial answer"
        assert_no_secret(info.value)

    async def test_truncated_stream_is_incomplete(
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        async with LoopbackServer([wire.truncated_stream("Half of it")]) as srv:
            model = make_model(srv.base_url)
            try:
                with pytest.raises(ProtocolError) as info:
                    await _collect(model, RequestParams())
            finally:
                await model.aclose()
        assert info.value.partial == "Half of it"

    async def test_malformed_stream_json(
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        async with LoopbackServer([wire.malformed_stream()]) as srv:
            model = make_model(srv.base_url)
            try:
                with pytest.raises(ProtocolError):
                    await _collect(model, RequestParams())
            finally:
                await model.aclose()

    async def test_empty_answer_is_a_protocol_error(
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        async with LoopbackServer([wire.empty()]) as srv:
            model = make_model(srv.base_url)
            try:
                with pytest.raises(ProtocolError):
                    await model.request(MESSAGES, RequestParams())
            finally:
                await model.aclose()

    async def test_connection_refused(self, make_model: Callable[[str], Model]) -> None:
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
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        full = wire.text(TEXT, stream=True, input_tokens=1, output_tokens=1)
        cut = Reply(
            full.status, full.headers, full.chunks, reset_after=max(2, len(full.chunks) // 2)
        )
        async with LoopbackServer([cut, full]) as srv:
            model = make_model(srv.base_url)
            seen: list[Any] = []

            async def consume() -> None:
                async for event in stream_with_retry(
                    model, MESSAGES, RequestParams(), sleep=_no_sleep
                ):
                    seen.append(event)

            try:
                with pytest.raises(ProviderError) as info:
                    await consume()
            finally:
                await model.aclose()
        assert isinstance(info.value, ConnectionFailed | ProtocolError)
        assert len(srv.requests) == 1, "a stream that showed output must not be retried"
        shown = "".join(e.text for e in seen if isinstance(e, TextDelta))
        assert info.value.partial == shown
        assert TEXT.startswith(shown)

    async def test_kernel_retries_transient_errors(
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        replies = [
            wire.error(503, "overloaded"),
            wire.error(429, "rate_limit", (("retry-after-ms", "1"),)),
            wire.text(TEXT, stream=False, input_tokens=1, output_tokens=1),
        ]
        async with LoopbackServer(replies) as srv:
            model = make_model(srv.base_url)
            try:
                response = await request_with_retry(
                    model,
                    MESSAGES,
                    RequestParams(),
                    policy=RetryPolicy(attempts=3),
                    sleep=_no_sleep,
                )
            finally:
                await model.aclose()
        assert response.message.text == TEXT
        assert len(srv.requests) == 3

    async def test_kernel_never_retries_rejections(
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        replies = [
            wire.error(400, "invalid_request"),
            wire.text(TEXT, stream=False, input_tokens=1, output_tokens=1),
        ]
        async with LoopbackServer(replies) as srv:
            model = make_model(srv.base_url)
            try:
                with pytest.raises(Rejected):
                    await request_with_retry(model, MESSAGES, RequestParams(), sleep=_no_sleep)
            finally:
                await model.aclose()
        assert len(srv.requests) == 1

    async def test_deadline(self, make_model: Callable[[str], Model]) -> None:
        async with LoopbackServer([Reply.hanging()]) as srv:
            model = make_model(srv.base_url)
            try:
                with anyio.fail_after(10), pytest.raises(RequestTimeout):
                    await request_with_retry(model, MESSAGES, RequestParams(), deadline=0.3)
            finally:
                await model.aclose()

    async def test_deadline_cuts_a_stalled_stream(
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        full = wire.text(TEXT, stream=True, input_tokens=1, output_tokens=1)
        stalled = Reply(full.status, full.headers, full.chunks, stall_after=3)
        async with LoopbackServer([stalled]) as srv:
            model = make_model(srv.base_url)
            seen: list[Any] = []

            async def consume() -> None:
                async for event in stream_with_retry(
                    model, MESSAGES, RequestParams(), deadline=0.5
                ):
                    seen.append(event)

            try:
                with anyio.fail_after(10), pytest.raises(RequestTimeout) as info:
                    await consume()
            finally:
                await model.aclose()
        shown = "".join(e.text for e in seen if isinstance(e, TextDelta))
        assert shown, "the first chunks arrived before the stall"
        assert info.value.partial == shown

    async def test_cancellation_is_prompt_and_leaves_the_model_usable(
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        slow = wire.text(TEXT, stream=True, input_tokens=1, output_tokens=1)
        slow = Reply(slow.status, slow.headers, slow.chunks, delay=0.2)
        replies = [
            Reply.hanging(),
            slow,
            wire.text(TEXT, stream=False, input_tokens=1, output_tokens=1),
        ]
        async with LoopbackServer(replies) as srv:
            model = make_model(srv.base_url)
            try:
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
            finally:
                await model.aclose()
                await model.aclose()  # idempotent

    async def test_many_concurrent_requests_share_the_pool(
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        reply = wire.text(TEXT, stream=False, input_tokens=1, output_tokens=1)
        async with LoopbackServer([reply], repeat_last=True) as srv:
            model = make_model(srv.base_url)
            texts: list[str] = []

            async def one() -> None:
                texts.append((await model.request(MESSAGES, RequestParams())).message.text)

            try:
                async with anyio.create_task_group() as tg:
                    for _ in range(50):
                        tg.start_soon(one)
            finally:
                await model.aclose()
        assert texts == [TEXT] * 50

    async def test_key_is_sent_but_never_shown(
        self, make_model: Callable[[str], Model], wire: WireAdapter
    ) -> None:
        async with LoopbackServer(
            [wire.text(TEXT, stream=False, input_tokens=1, output_tokens=1)]
        ) as srv:
            model = make_model(srv.base_url)
            try:
                response = await model.request(MESSAGES, RequestParams())
            finally:
                await model.aclose()
        assert CONFORMANCE_KEY in " ".join(srv.requests[0].headers.values())
        assert CONFORMANCE_KEY not in repr(model)
        assert CONFORMANCE_KEY not in response.model_dump_json()
