"""Provider conformance: the tests every provider plugin runs against a loopback server.

A plugin subclasses ``ProviderConformance`` in its test suite and provides two fixtures:
``make_model`` (build a model for a base URL, using ``CONFORMANCE_KEY`` as its API key)
and ``wire`` (a ``WireAdapter`` that renders canned answers in the plugin's wire format):

    class TestConformance(ProviderConformance):
        @pytest.fixture
        def make_model(self):
            return lambda base_url: MyProvider().model("m", base_url=base_url,
                                                       api_key=CONFORMANCE_KEY)

        @pytest.fixture
        def wire(self):
            return MyWire()

The suite checks text, streaming deltas, parallel tool calls, structured output, usage,
every class of the provider error tree (HTTP status, error inside a 200 stream, cut and
malformed streams, connection refused and reset), retries through the kernel, deadlines,
cancellation and that the API key never leaks. Tests run on asyncio (override the
``anyio_backend`` fixture to add trio).
"""

from __future__ import annotations

import pickle
import socket
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal, Protocol

import anyio
import anyio.lowlevel
import pytest

from plait._contracts import Model, OutputSpec, RequestParams, ToolSpec
from plait._errors import (
    AuthenticationFailed,
    ConnectionFailed,
    ContextWindowExceeded,
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
    ResponseDone,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    UserMessage,
)
from plait._retry import RetryPolicy, request_with_retry, stream_with_retry

from ._loopback import LoopbackServer, Reply

__all__ = ["CONFORMANCE_KEY", "ErrorKind", "ProviderConformance", "WireAdapter"]

CONFORMANCE_KEY = "sk-conformance-7f3a9c1e5b2d4f6a8c0e1b3d5f7a9c1e"
"""The API key ``make_model`` must use; the suite checks it never leaks."""

ErrorKind = Literal[
    "invalid_request", "authentication", "permission", "not_found", "rate_limit",
    "quota", "context_length", "server", "overloaded",
]  # fmt: skip

MESSAGES = (SystemMessage(content="Be brief."), UserMessage(content="Hello?"))
TOOLS = (
    ToolSpec(
        "get_weather",
        "Weather in a city.",
        {"type": "object", "properties": {"city": {"type": "string"}}},
    ),
    ToolSpec(
        "get_time",
        "Time in a city.",
        {"type": "object", "properties": {"city": {"type": "string"}}},
    ),
)
OUTPUT = OutputSpec(
    "forecast",
    {
        "type": "object",
        "properties": {"city": {"type": "string"}, "celsius": {"type": "number"}},
        "required": ["city", "celsius"],
        "additionalProperties": False,
    },
)
CALLS = (
    ToolCall(id="call_1", name="get_weather", arguments='{"city": "Paris"}'),
    ToolCall(id="call_2", name="get_time", arguments='{"city": "Oslo"}'),
)
TEXT = "The weather in Paris is sunny and warm today."
ERROR_CASES: Sequence[tuple[int, ErrorKind, tuple[tuple[str, str], ...], type[ProviderError]]] = (
    (400, "invalid_request", (), Rejected),
    (401, "authentication", (), AuthenticationFailed),
    (403, "permission", (), AuthenticationFailed),
    (404, "not_found", (), ModelNotFound),
    (400, "context_length", (), ContextWindowExceeded),
    (402, "quota", (), QuotaExceeded),
    (429, "quota", (), QuotaExceeded),
    (429, "rate_limit", (("retry-after", "7"),), RateLimited),
    (429, "rate_limit", (("retry-after-ms", "1500"),), RateLimited),
    (500, "server", (), ServerError),
    (503, "overloaded", (), Unavailable),
    (529, "overloaded", (), Unavailable),
)
STREAM_ERRORS: Sequence[tuple[ErrorKind, type[ProviderError]]] = (
    ("rate_limit", RateLimited),
    ("overloaded", Unavailable),
    ("server", ServerError),
    ("invalid_request", Rejected),
)


class WireAdapter(Protocol):
    """Renders canned model behaviour in one API's wire format, as ``Reply`` objects."""

    def text(self, text: str, *, stream: bool, input_tokens: int, output_tokens: int) -> Reply:
        """A complete text answer (streamed: several text chunks, then the terminal event)."""
        ...

    def tool_calls(
        self, calls: Sequence[ToolCall], *, stream: bool, input_tokens: int, output_tokens: int
    ) -> Reply:
        """An answer that calls these tools in parallel (streamed: arguments in pieces)."""
        ...

    def error(self, status: int, kind: ErrorKind, headers: Sequence[tuple[str, str]] = ()) -> Reply:
        """An HTTP error response with the API's error body for ``kind``."""
        ...

    def stream_error(self, kind: ErrorKind, *, after_text: str) -> Reply:
        """A 200 stream that sends ``after_text`` (if any), then an error object."""
        ...

    def truncated_stream(self, text: str) -> Reply:
        """A stream that sends ``text`` and ends cleanly without its terminal event."""
        ...

    def malformed_stream(self) -> Reply:
        """A stream with a ``data:`` line that is not valid JSON."""
        ...

    def empty(self) -> Reply:
        """A 200 JSON answer without any content (e.g. ``choices: []``)."""
        ...

    def output_schema(self, body: Mapping[str, Any]) -> Mapping[str, Any] | None:
        """Where the structured-output JSON schema sits in a request body (``None``: absent)."""
        ...

    def tool_names(self, body: Mapping[str, Any]) -> list[str]:
        """The names of the tools offered in a request body."""
        ...


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _collect(model: Model, params: RequestParams) -> list[Any]:
    return [event async for event in model.stream(MESSAGES, params)]


async def _ask(model: Model, *, stream: bool) -> Any:
    if stream:
        return await _collect(model, RequestParams())
    return await model.request(MESSAGES, RequestParams())


async def _no_sleep(seconds: float) -> None:
    await anyio.lowlevel.checkpoint()


def assert_no_secret(error: BaseException) -> None:
    """The conformance key appears nowhere in the error, its repr, pickle or cause chain."""
    seen: BaseException | None = error
    while seen is not None:
        for text in (str(seen), repr(seen), repr(getattr(seen, "__dict__", {}))):
            assert CONFORMANCE_KEY not in text
        seen = seen.__cause__ or seen.__context__
    assert CONFORMANCE_KEY.encode() not in pickle.dumps(error)
    clone = pickle.loads(pickle.dumps(error))
    assert type(clone) is type(error)
    assert str(clone) == str(error)


@pytest.mark.anyio
class ProviderConformance:
    """The reusable suite; subclass it (named ``Test...``) and provide the fixtures."""

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

    # --- answers ----------------------------------------------------------------------

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

    # --- errors -----------------------------------------------------------------------

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

    # --- the kernel around the model ----------------------------------------------------

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
