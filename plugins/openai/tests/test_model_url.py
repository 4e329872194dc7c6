"""The request URL a model works out once must be the one httpx merges per request."""

from __future__ import annotations

import errno
import json
import os
import socket

import httpx
import pytest

from plait import ConnectionFailed, ProviderError, RequestParams, UserMessage
from plait_openai.model import _endpoint
from plait_openai.provider import OpenAIProvider

BASE_URLS = [
    "https://api.openai.com/v1",
    "https://api.openai.com/v1/",
    "http://127.0.0.1:8080/v1",
    "https://groq.test/openai/v1",
    "http://h",
    "http://h/",
    "https://h:8443/v1//",
    "http://h/a b/v1",
    "http://h/v1?api-version=2024-10-21",
    "http://user:pw@h/v1",
    "",
]


@pytest.mark.parametrize("base_url", BASE_URLS)
@pytest.mark.parametrize("path", ["chat/completions", "responses"])
def test_endpoint_matches_httpx_merge(base_url: str, path: str) -> None:
    merged = httpx.Client(base_url=base_url).build_request("POST", path).url
    assert _endpoint(base_url, path) == merged
    assert str(_endpoint(base_url, path)) == str(merged)


@pytest.mark.anyio
async def test_unparsable_base_url_still_fails_when_asked() -> None:
    assert _endpoint("http://h:port/v1", "responses") == "responses"
    model = OpenAIProvider("h").model("m", base_url="http://h:port/v1", api_key="k")
    with pytest.raises(httpx.InvalidURL):
        await model.request([UserMessage(content="hi")], RequestParams())


@pytest.mark.anyio
@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_requests_go_to_the_merged_url(api: str) -> None:
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(500, json={"error": {"message": "boom"}})

    model = OpenAIProvider("h", api=api).model(
        "m", base_url="http://h/v1", api_key="k", transport=httpx.MockTransport(answer)
    )
    try:
        for _ in range(2):
            with pytest.raises(ProviderError, match="boom"):
                await model.request([UserMessage(content="hi")], RequestParams())
    finally:
        await model.aclose()
    path = "chat/completions" if api == "chat" else "responses"
    assert seen == [f"http://h/v1/{path}"] * 2


@pytest.mark.anyio
async def test_a_refused_connection_names_the_url_without_credentials() -> None:
    with socket.socket() as sock:  # a loopback port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    base_url = f"http://user:pa55word@127.0.0.1:{port}/v1"
    model = OpenAIProvider("h").model("m", base_url=base_url, api_key="sk-test-0123456789abcdef")
    try:
        with pytest.raises(ConnectionFailed) as info:
            await model.request([UserMessage(content="hi")], RequestParams())
    finally:
        await model.aclose()
    refused = f"[Errno {errno.ECONNREFUSED}] {os.strerror(errno.ECONNREFUSED)}"
    assert str(info.value) == (
        f"h: cannot connect to http://127.0.0.1:{port}/v1/chat/completions: {refused}"
    )
    assert info.value.phase == "connect"
    assert "pa55word" not in repr(info.value)


@pytest.mark.anyio
@pytest.mark.parametrize("api", ["chat", "responses"])
async def test_a_server_ignoring_stream_true_is_read_from_its_json_body(api: str) -> None:
    chat_body = {
        "id": "c1",
        "model": "m",
        "choices": [{"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": "whole answer"}}],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }  # fmt: skip
    responses_body = {
        "id": "r1",
        "model": "m",
        "status": "completed",
        "output": [{"type": "message", "role": "assistant",
                    "content": [{"type": "output_text", "text": "whole answer"}]}],
        "usage": {"input_tokens": 3, "output_tokens": 2, "total_tokens": 5},
    }  # fmt: skip
    body = chat_body if api == "chat" else responses_body

    def answer(request: httpx.Request) -> httpx.Response:
        assert json.loads(request.content)["stream"] is True
        return httpx.Response(200, json=body)  # application/json, not text/event-stream

    model = OpenAIProvider("h", api=api).model(
        "m", base_url="http://h/v1", api_key="k", transport=httpx.MockTransport(answer)
    )
    try:
        events = [e async for e in model.stream([UserMessage(content="hi")], RequestParams())]
    finally:
        await model.aclose()
    assert [type(e).__name__ for e in events] == ["TextDelta", "ResponseDone"]
    assert events[-1].response.message.text == "whole answer"
    assert events[-1].response.usage.output_tokens == 2
