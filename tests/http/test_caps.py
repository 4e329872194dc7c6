"""The kit bounds every size that comes from a server (issue 12, rule 2).

``read_body`` stops reading past ``Limits.response_bytes`` (decompressed bytes),
``loads_json`` refuses JSON nested deeper than ``Limits.json_depth`` (never a bare
``RecursionError``), ``SSEDecoder`` refuses an event or an unfinished line past
``Limits.stream_event_bytes``; each raises ``ResponseTooLarge`` naming the cap. Without
arguments the helpers take the caps of the run being served (``current_limits``). The
OpenAI and Anthropic models read every body through them.
"""

from __future__ import annotations

import gzip
import json
import pickle
from collections.abc import AsyncIterator, Callable
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import plait
from plait._http.errors import error_from_response
from plait._json import nested_deeper
from plait._settings import _LIMITS
from plait.provider import (
    ProtocolError,
    RequestParams,
    ResponseTooLarge,
    SSEDecoder,
    UserMessage,
    aiter_sse,
    current_limits,
    loads_json,
    read_body,
)

MiB = 1 << 20

# Stopping an endless body abandons httpx's nested byte generators (``aiter_bytes`` does
# not close the ``aiter_raw`` it iterates); trio warns when they are garbage collected.
# The response itself is closed (its ``async with``), so nothing leaks but the warning.
abandons_httpx_generators = pytest.mark.filterwarnings(
    "ignore::pytest.PytestUnraisableExceptionWarning"
)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _endless() -> AsyncIterator[bytes]:
    """A body that never ends (what a broken server or proxy may send)."""
    while True:
        yield b"x" * 65536
        await anyio.lowlevel.checkpoint()


def _client(handler: Callable[[httpx.Request], httpx.Response]) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), base_url="http://h")


# --- the typed error ---------------------------------------------------------------------


def test_the_error_is_a_protocol_error_that_names_its_cap_and_survives_pickling() -> None:
    error = ResponseTooLarge("too big", cap="response_bytes", limit=5, provider="p")
    assert isinstance(error, plait.ProtocolError) and plait.ResponseTooLarge is ResponseTooLarge
    assert not error.retryable  # never retried blindly: asked again, it would be as large
    copy = pickle.loads(pickle.dumps(error))
    assert (type(copy), copy.cap, copy.limit, copy.provider) == (
        ResponseTooLarge,
        "response_bytes",
        5,
        "p",
    )


def test_the_caps_are_limits_with_finite_defaults_a_run_can_change() -> None:
    limits = plait.Limits()
    assert limits.response_bytes == 32 * MiB and limits.stream_event_bytes == 8 * MiB
    assert limits.json_depth == 128 and limits.output_chars == 4 * MiB
    assert limits.tool_argument_chars == MiB
    assert plait.Limits(json_depth=10).json_depth == 10
    with pytest.raises(ValueError):
        plait.Limits(response_bytes=0)
    assert current_limits() == limits  # outside a run: the defaults


# --- read_body ---------------------------------------------------------------------------


@abandons_httpx_generators
@pytest.mark.anyio
async def test_read_body_stops_an_endless_body_at_the_cap() -> None:
    async with _client(lambda r: httpx.Response(200, content=_endless())) as client:
        with anyio.fail_after(10):
            async with client.stream("GET", "/") as response:
                with pytest.raises(ResponseTooLarge) as info:
                    await read_body(response, max_bytes=MiB)
    assert (info.value.cap, info.value.limit) == ("response_bytes", MiB)


@pytest.mark.anyio
async def test_read_body_counts_decompressed_bytes() -> None:
    bomb = gzip.compress(b"\0" * (4 * MiB))  # a few kB on the wire
    headers = {"content-encoding": "gzip"}
    async with _client(lambda r: httpx.Response(200, headers=headers, content=bomb)) as client:
        async with client.stream("GET", "/") as response:
            with pytest.raises(ResponseTooLarge):
                await read_body(response, max_bytes=MiB)
        async with client.stream("GET", "/") as response:
            assert len(await read_body(response, max_bytes=4 * MiB)) == 4 * MiB


@abandons_httpx_generators
@pytest.mark.anyio
async def test_read_body_truncates_when_asked_and_reads_small_bodies_whole() -> None:
    endless = _client(lambda r: httpx.Response(500, content=_endless()))
    async with endless as client, client.stream("GET", "/") as response:
        assert await read_body(response, max_bytes=100, truncate=True) == b"x" * 100
    async with _client(lambda r: httpx.Response(200, content=b"hello")) as client:
        async with client.stream("GET", "/") as response:
            assert await read_body(response) == b"hello"
        response = await client.get("/")  # read already: only checked
        assert await read_body(response) == b"hello"
        with pytest.raises(ResponseTooLarge):
            await read_body(response, max_bytes=4)


@pytest.mark.anyio
async def test_read_body_takes_the_published_limits_by_default() -> None:
    token = _LIMITS.set(plait.Limits(response_bytes=1000))
    try:
        large = _client(lambda r: httpx.Response(200, content=b"y" * 1001))
        async with large as client, client.stream("GET", "/") as response:
            with pytest.raises(ResponseTooLarge) as info:
                await read_body(response)
    finally:
        _LIMITS.reset(token)
    assert info.value.limit == 1000


# --- loads_json ----------------------------------------------------------------------------


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [128, 129, 1000, 100_000])
def test_loads_json_bounds_the_depth_with_a_typed_error(depth: int) -> None:
    if depth <= 128:
        assert loads_json(_nested(depth)) is not None
        return
    with pytest.raises(ResponseTooLarge) as info:
        loads_json(_nested(depth).encode())
    assert (info.value.cap, info.value.limit) == ("json_depth", 128)


def test_loads_json_brackets_inside_strings_do_not_count() -> None:
    text = json.dumps({"code": "{[" * 500, "list": [[1]]})
    assert loads_json(text, max_depth=3)["list"] == [[1]]
    with pytest.raises(ResponseTooLarge):
        loads_json(text, max_depth=2)


def test_loads_json_invalid_json_is_a_protocol_error() -> None:
    for bad in (b"{", b"\xff\xfe\x00", b""):
        with pytest.raises(ProtocolError, match="not valid JSON") as info:
            loads_json(bad, provider="p")
        assert type(info.value) is ProtocolError and info.value.provider == "p"


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(alphabet='[]{}"\\ab', max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=40,
)


@settings(max_examples=300, deadline=None)
@given(value=_JSON, limit=st.integers(min_value=1, max_value=8))
def test_the_depth_check_agrees_with_the_real_depth(value: Any, limit: int) -> None:
    assert nested_deeper(value, limit) == (_depth(value) > limit)
    text = json.dumps(value)
    if _depth(value) > limit:
        with pytest.raises(ResponseTooLarge):
            loads_json(text, max_depth=limit)
    else:
        assert loads_json(text, max_depth=limit) == value


def test_a_deeply_nested_error_body_is_mapped_by_its_status() -> None:
    error = error_from_response(503, {}, _nested(100_000).encode(), provider="p")
    assert isinstance(error, plait.Unavailable)


# --- SSE -----------------------------------------------------------------------------------


def test_sse_a_line_that_never_ends_is_stopped_at_the_cap() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    decoder.feed(b"data: ")
    for _ in range(9):
        decoder.feed(b"y" * 100)  # never a newline
    with pytest.raises(ResponseTooLarge) as info:
        decoder.feed(b"y" * 100)
    assert (info.value.cap, info.value.limit) == ("stream_event_bytes", 1000)
    assert len(decoder._buf) <= 1100  # memory stayed bounded


def test_sse_an_event_of_many_lines_is_stopped_at_the_cap() -> None:
    decoder = SSEDecoder(max_event_bytes=1000)
    line = b"data: " + b"z" * 44 + b"\n"  # 50 bytes without its line ending
    assert [decoder.feed(line) for _ in range(20)] == [[]] * 20  # never a blank line
    with pytest.raises(ResponseTooLarge):
        decoder.feed(line)


def test_sse_events_within_the_cap_pass_and_the_count_starts_again() -> None:
    decoder = SSEDecoder(max_event_bytes=100)
    line = b"data: " + b"a" * 90 + b"\n\n"
    events = [e for _ in range(50) for e in decoder.feed(line)]
    assert len(events) == 50 and events[0].data == "a" * 90


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=0, max_value=60), min_size=1, max_size=6),
    cuts=st.lists(st.integers(min_value=0, max_value=500), max_size=8),
)
def test_sse_the_cap_does_not_depend_on_how_bytes_are_split(
    sizes: list[int], cuts: list[int]
) -> None:
    stream = b"".join(b"data: " + b"q" * n + b"\n\n" for n in sizes)
    limit = 40

    def outcome(chunks: list[bytes]) -> bool:
        decoder = SSEDecoder(max_event_bytes=limit)
        try:
            for chunk in chunks:
                decoder.feed(chunk)
            decoder.close()
        except ResponseTooLarge:
            return False
        return True

    points = sorted({c % (len(stream) + 1) for c in cuts})
    chunks = [stream[a:b] for a, b in zip([0, *points], [*points, len(stream)], strict=True)]
    assert outcome(chunks) == outcome([stream]) == all(n + 6 <= limit for n in sizes)


@abandons_httpx_generators
@pytest.mark.anyio
async def test_aiter_sse_takes_the_published_limits() -> None:
    token = _LIMITS.set(plait.Limits(stream_event_bytes=500))
    try:
        endless = _client(lambda r: httpx.Response(200, content=_endless()))
        async with endless as client, client.stream("GET", "/") as response:
            with anyio.fail_after(10), pytest.raises(ResponseTooLarge):
                async for _ in aiter_sse(response):
                    pass
    finally:
        _LIMITS.reset(token)


# --- the provider plugins read through the kit -------------------------------------------

MESSAGES = [UserMessage(content="hi")]
SSE = {"content-type": "text/event-stream"}


def _openai(handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    from plait_openai.provider import OpenAIProvider

    transport = httpx.MockTransport(handler)
    return OpenAIProvider("openai", api="chat").model(
        "m", base_url="http://h/v1", api_key="sk-test-0123456789", transport=transport
    )


def _anthropic(handler: Callable[[httpx.Request], httpx.Response]) -> Any:
    from plait_anthropic.provider import AnthropicProvider

    transport = httpx.MockTransport(handler)
    return AnthropicProvider().model("c", api_key="sk-ant-0123456789", transport=transport)


MAKERS = [_openai, _anthropic]


async def _ask(model: Any, *, stream: bool) -> None:
    try:
        if stream:
            async for _ in model.stream(MESSAGES, RequestParams()):
                pass
        else:
            await model.request(MESSAGES, RequestParams())
    finally:
        await model.aclose()


@abandons_httpx_generators
@pytest.mark.anyio
@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("stream", [False, True])
async def test_models_stop_an_endless_json_body(make: Any, stream: bool) -> None:
    model = make(lambda r: httpx.Response(200, content=_endless()))
    token = _LIMITS.set(plait.Limits(response_bytes=MiB))
    try:
        with anyio.fail_after(10), pytest.raises(ResponseTooLarge) as info:
            await _ask(model, stream=stream)
    finally:
        _LIMITS.reset(token)
    assert info.value.cap == "response_bytes" and info.value.provider is not None


@abandons_httpx_generators
@pytest.mark.anyio
@pytest.mark.parametrize("make", MAKERS)
async def test_models_stop_an_endless_stream_event(make: Any) -> None:
    model = make(lambda r: httpx.Response(200, headers=SSE, content=_endless()))
    token = _LIMITS.set(plait.Limits(stream_event_bytes=MiB))
    try:
        with anyio.fail_after(10), pytest.raises(ResponseTooLarge) as info:
            await _ask(model, stream=True)
    finally:
        _LIMITS.reset(token)
    assert info.value.cap == "stream_event_bytes" and info.value.provider is not None


@pytest.mark.anyio
@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("stream", [False, True])
async def test_models_refuse_deep_json_with_a_typed_error(make: Any, stream: bool) -> None:
    body = ('{"a":' * 5000 + "1" + "}" * 5000).encode()
    model = make(lambda r: httpx.Response(200, content=body))
    with pytest.raises(ResponseTooLarge) as info:
        await _ask(model, stream=stream)
    assert info.value.cap == "json_depth"


@abandons_httpx_generators
@pytest.mark.anyio
@pytest.mark.parametrize("make", MAKERS)
async def test_models_map_a_huge_error_body_by_its_status(make: Any) -> None:
    model = make(lambda r: httpx.Response(429, content=_endless()))
    token = _LIMITS.set(plait.Limits(response_bytes=MiB))
    try:
        with anyio.fail_after(10), pytest.raises(plait.RateLimited):
            await _ask(model, stream=False)
    finally:
        _LIMITS.reset(token)
