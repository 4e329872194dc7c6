"""Faults of the Anthropic wire: each case ends in a defined plait error.

Served by ``httpx.MockTransport``: HTTP errors (529 overloaded, rate limits, ...), an
``error`` event in a 200 stream, a stream cut before ``message_stop``, malformed JSON in
a ``data:`` line, malformed content, broken connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from plait.provider import (
    AuthenticationFailed,
    ConnectionFailed,
    ContextWindowExceeded,
    ModelNotFound,
    ProtocolError,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    Rejected,
    RequestParams,
    ResponseDone,
    ServerError,
    StreamEvent,
    TextDelta,
    Unavailable,
)

from ._wire_helpers import (
    ASK,
    KEY,
    START,
    collect,
    end,
    error_body,
    error_event,
    event,
    model_for,
    request,
    sse,
    text_block,
    tool_block,
)

# --- HTTP errors --------------------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize("stream", [False, True])
@pytest.mark.parametrize(
    ("status", "kind", "error"),
    [
        (529, "overloaded_error", Unavailable),
        (429, "rate_limit_error", RateLimited),
        (500, "api_error", ServerError),
        (400, "invalid_request_error", Rejected),
        (401, "authentication_error", AuthenticationFailed),
        (403, "permission_error", AuthenticationFailed),
        (404, "not_found_error", ModelNotFound),
        (413, "request_too_large", Rejected),  # the body's size, not the context window
        (402, "billing_error", QuotaExceeded),
    ],
)
async def test_http_errors_map_to_the_tree(
    status: int, kind: str, error: type[ProviderError], stream: bool
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return error_body(status, kind)

    with pytest.raises(error) as info:
        await (collect(handler) if stream else request(handler))
    assert info.value.status_code == status
    assert info.value.provider == "anthropic"


@pytest.mark.anyio
async def test_prompt_too_long_is_a_context_window_error() -> None:
    message = "prompt is too long: 210000 tokens > 200000 maximum"
    with pytest.raises(ContextWindowExceeded):
        await request(lambda r: error_body(400, "invalid_request_error", message))


@pytest.mark.anyio
async def test_overloaded_is_retryable_and_rate_limit_keeps_retry_after() -> None:
    with pytest.raises(Unavailable) as overloaded:
        await request(lambda r: error_body(529, "overloaded_error", "Overloaded"))
    assert overloaded.value.retryable
    with pytest.raises(RateLimited) as limited:
        await request(lambda r: error_body(429, "rate_limit_error", headers={"retry-after": "7"}))
    assert limited.value.retry_after == 7.0


@pytest.mark.anyio
async def test_the_key_never_appears_in_errors() -> None:
    echo = f"invalid x-api-key: {KEY}"
    with pytest.raises(AuthenticationFailed) as info:
        await request(lambda r: error_body(401, "authentication_error", echo))
    assert KEY not in str(info.value)
    assert KEY not in repr(info.value)
    with pytest.raises(ProviderError) as streamed:
        await collect(lambda r: sse(START + error_event("authentication_error", echo)))
    assert KEY not in str(streamed.value)


# --- errors inside a 200 stream -------------------------------------------------------------


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("kind", "error", "status"),
    [
        ("overloaded_error", Unavailable, 529),
        ("rate_limit_error", RateLimited, 429),
        ("api_error", ServerError, 500),
        ("invalid_request_error", Rejected, 400),
    ],
)
async def test_error_event_in_a_200_stream(
    kind: str, error: type[ProviderError], status: int
) -> None:
    body = START + event(
        {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}
    )
    body += event(
        {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hel"}}
    )
    seen: list[StreamEvent] = []

    async def run() -> None:
        model = model_for(lambda r: sse(body + error_event(kind)))
        try:
            async for e in model.stream(ASK, RequestParams()):
                seen.append(e)
        finally:
            await model.aclose()

    with pytest.raises(error) as info:
        await run()
    assert info.value.status_code == status  # as the HTTP response would have said
    assert info.value.partial == "Hel"
    assert seen == [TextDelta("Hel")]


@pytest.mark.anyio
async def test_error_object_in_a_200_json_body() -> None:
    with pytest.raises(Unavailable):
        await request(
            lambda r: httpx.Response(
                200, json={"type": "error", "error": {"type": "overloaded_error"}}
            )
        )


# --- broken streams -----------------------------------------------------------------------


@pytest.mark.anyio
async def test_stream_cut_before_message_stop_is_a_protocol_error() -> None:
    cut = START + text_block(0, "Hello", " wor")
    with pytest.raises(ProtocolError) as info:
        await collect(lambda r: sse(cut))
    assert info.value.partial == "Hello wor"
    with pytest.raises(ProtocolError):  # message_delta seen, message_stop missing
        await collect(
            lambda r: sse(
                cut + event({"type": "message_delta", "delta": {"stop_reason": "end_turn"}})
            )
        )


@pytest.mark.anyio
async def test_partial_tool_input_is_never_a_call() -> None:
    cut = START + tool_block(0, "t1", '{"city": "Pa', stop=False)
    seen: list[StreamEvent] = []

    async def run() -> None:
        model = model_for(lambda r: sse(cut))
        async for e in model.stream(ASK, RequestParams()):
            seen.append(e)

    with pytest.raises(ProtocolError):
        await run()
    assert not any(isinstance(e, ResponseDone) for e in seen)
    # message_stop inside the open tool block is a protocol error too.
    with pytest.raises(ProtocolError):
        await collect(lambda r: sse(cut + event({"type": "message_stop"})))


@pytest.mark.anyio
async def test_malformed_json_in_a_data_line() -> None:
    broken = START + 'event: content_block_start\ndata: {"type": "content_block_start", "ind\n\n'
    with pytest.raises(ProtocolError, match="not valid JSON"):
        await collect(lambda r: sse(broken + end()))


@pytest.mark.anyio
async def test_malformed_event_shape_is_a_protocol_error() -> None:
    broken = START + event(
        {"type": "content_block_delta", "index": 3, "delta": {"type": "text_delta", "text": "x"}}
    )
    with pytest.raises(ProtocolError, match="malformed"):
        await collect(lambda r: sse(broken + end()))


@pytest.mark.anyio
async def test_non_json_body_is_a_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        await request(lambda r: httpx.Response(200, content=b"<html>gateway</html>"))
    with pytest.raises(ProtocolError):
        await request(lambda r: httpx.Response(200, json={"type": "message"}))


# --- connections --------------------------------------------------------------------------


class _BreakingStream(httpx.AsyncByteStream):
    def __init__(self, first: bytes) -> None:
        self.first = first

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.first
        raise httpx.ReadError("connection reset by peer")


@pytest.mark.anyio
async def test_connection_refused_is_a_connect_failure() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused")

    for run in (collect, request):
        with pytest.raises(ConnectionFailed) as info:
            await run(refuse)
        assert info.value.phase == "connect"
        assert info.value.retryable


@pytest.mark.anyio
async def test_reset_mid_stream_keeps_the_partial_text() -> None:
    first = (START + text_block(0, "partial answer")).encode()

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200, headers={"content-type": "text/event-stream"}, stream=_BreakingStream(first)
        )

    with pytest.raises(ConnectionFailed) as info:
        await collect(handler)
    assert info.value.phase == "read"
    assert info.value.partial == "partial answer"


@pytest.mark.anyio
async def test_a_tool_use_block_without_its_id_is_a_protocol_error() -> None:
    message = {
        "id": "m",
        "model": "claude-x",
        "stop_reason": "tool_use",
        "usage": {"input_tokens": 1, "output_tokens": 2},
        "content": [{"type": "tool_use", "name": "f", "input": {}}],
    }
    with pytest.raises(ProtocolError, match="malformed"):
        await request(lambda r: httpx.Response(200, json=message))
    block = {"type": "tool_use", "name": "f", "input": {}}
    body = START + event({"type": "content_block_start", "index": 0, "content_block": block})
    body += event({"type": "content_block_stop", "index": 0}) + end("tool_use")
    with pytest.raises(ProtocolError, match="malformed"):
        await collect(lambda r: sse(body))
