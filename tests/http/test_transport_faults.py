"""Real sockets on 127.0.0.1: refused connections, resets mid-body, stalls, SSE over HTTP."""

from __future__ import annotations

import errno
import os
import socket
from collections.abc import AsyncIterator
from contextlib import aclosing

import anyio
import httpx
import pytest

from plait._errors import AttemptTimeout, ConnectionFailed
from plait._http import ClientPool, ServerSentEvent, aiter_sse, map_transport_error
from plait.testing import LoopbackServer, Reply

KEY = "sk-transport-0123456789abcdef0123"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def collect(events: AsyncIterator[ServerSentEvent], into: list[str]) -> None:
    async with aclosing(events):  # type: ignore[type-var]
        async for event in events:
            into.append(event.data)


@pytest.mark.anyio
async def test_connection_refused_is_a_connect_failure() -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(httpx.ConnectError) as info:
            await client.post("/v1/x", headers={"authorization": f"Bearer {KEY}"})
    error = map_transport_error(info.value, provider="p", secrets=[KEY])
    assert isinstance(error, ConnectionFailed)
    assert (error.phase, error.retryable) == ("connect", True)
    assert KEY not in repr(error)


REFUSED = f"[Errno {errno.ECONNREFUSED}] {os.strerror(errno.ECONNREFUSED)}"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_connection_refused_names_the_url_without_credentials(anyio_backend: str) -> None:
    port = free_port()
    url = f"http://user:pa55word@127.0.0.1:{port}/v1/chat/completions?key=s3cr3t-query&x=1"
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError) as info:
            await client.post(url)
    error = map_transport_error(info.value, provider="p")
    assert error.message == (
        f"cannot connect to http://127.0.0.1:{port}/v1/chat/completions: {REFUSED}"
    )
    assert str(error).startswith("p: cannot connect to http://127.0.0.1:")
    for secret in ("user", "pa55word", "s3cr3t-query", "key="):
        assert secret not in repr(error) and secret not in str(error)


def test_transport_error_text_loses_userinfo_and_query() -> None:
    request = httpx.Request("POST", "https://u:pw@api.test/v1/x?key=abc")
    exc = httpx.ReadTimeout("timed out reading https://u:pw@api.test/v1/x?key=abc", request=request)
    error = map_transport_error(exc, provider="p")
    assert isinstance(error, AttemptTimeout)
    assert error.message.startswith("timed out talking to https://api.test/v1/x (ReadTimeout: ")
    assert "pw" not in error.message and "abc" not in error.message
    # without a request there is no URL to name, and the old wording stays
    bare = map_transport_error(httpx.ConnectError("refused"), provider="p")
    assert bare.message == "cannot connect (ConnectError: refused)"


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_reset_mid_body_is_a_read_failure_after_the_events_before_it(
    anyio_backend: str,
) -> None:
    chunks = [f"data: {i}\n\n" for i in range(6)]
    async with LoopbackServer([Reply.sse(chunks, reset_after=3)]) as server:
        pool = ClientPool({"base_url": server.base_url})
        seen: list[str] = []
        try:
            async with pool.get().stream("GET", "/events") as response:
                with pytest.raises(httpx.TransportError) as info:
                    await collect(aiter_sse(response), seen)
        finally:
            await pool.aclose()
    assert seen == ["0", "1", "2"]
    error = map_transport_error(info.value, provider="p")
    assert isinstance(error, ConnectionFailed)
    assert error.phase == "read"


@pytest.mark.anyio
async def test_stalled_stream_is_cut_by_the_absolute_deadline() -> None:
    async with LoopbackServer([Reply.sse(["data: 1\n\n", "data: 2\n\n"], stall_after=1)]) as server:
        pool = ClientPool({"base_url": server.base_url})
        seen: list[str] = []
        try:
            async with pool.get().stream("GET", "/events") as response:
                events = aiter_sse(response, deadline=anyio.current_time() + 0.3)
                with anyio.fail_after(10), pytest.raises(httpx.ReadTimeout) as info:
                    await collect(events, seen)
        finally:
            await pool.aclose()
    assert seen == ["1"]
    assert isinstance(map_transport_error(info.value, provider="p"), AttemptTimeout)


@pytest.mark.anyio
async def test_loopback_server_records_requests_and_replies_in_order() -> None:
    replies = [
        Reply.json({"n": 1}),
        Reply.json({"error": "x"}, status=503, headers=[("retry-after", "2")]),
    ]
    async with (
        LoopbackServer(replies) as server,
        httpx.AsyncClient(base_url=server.base_url) as client,
    ):
        first = await client.post("/a", json={"q": 1})
        second = await client.post("/b", content=b"raw")
        third = await client.get("/c")
    assert (first.status_code, first.json()) == (200, {"n": 1})
    assert (second.status_code, second.headers["retry-after"]) == (503, "2")
    assert third.status_code == 500  # nothing scripted left
    assert [(r.method, r.path) for r in server.requests] == [
        ("POST", "/a"),
        ("POST", "/b"),
        ("GET", "/c"),
    ]
    assert server.requests[0].json() == {"q": 1}
    assert server.requests[1].body == b"raw"
