"""Every recorded OpenAI exchange, served back by a MockTransport, is parsed correctly.

For each interaction of each recording: plait sends the recorded conversation (converted
to plait messages), the transport answers with the recorded response, and every text,
tool call, finish reason and usage figure the recording holds must appear in plait's
``ModelResponse`` (and, for streams, in the deltas). Error responses must raise the
mapped ``ProviderError``. The request plait built is checked for the fields the API needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from plait import (
    AssistantMessage,
    AuthenticationFailed,
    ModelNotFound,
    ModelResponse,
    ProviderError,
    QuotaExceeded,
    RateLimited,
    Rejected,
    RequestParams,
    ResponseDone,
    SystemMessage,
    TextDelta,
    ToolCall,
    ToolCallDelta,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)
from plait_openai.provider import OpenAIProvider

from ._recordings import Expected, expect_chat, expect_responses, recordings

KEY = "sk-recorded-0123456789abcdef0123"

# Recordings whose *feature* plait does not model; their text/tool/usage checks still run.
NOT_MODELLED: dict[str, str] = {}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text") or "" for p in content if isinstance(p, dict))
    return ""


def chat_messages(body: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    for m in body.get("messages") or []:
        role = m.get("role")
        if role in ("system", "developer"):
            out.append(SystemMessage(content=_text(m.get("content"))))
        elif role == "user":
            out.append(UserMessage(content=_text(m.get("content"))))
        elif role == "assistant":
            calls = [
                ToolCall(
                    id=c["id"], name=c["function"]["name"], arguments=c["function"]["arguments"]
                )
                for c in m.get("tool_calls") or []
            ]
            out.append(AssistantMessage(text=_text(m.get("content")), tool_calls=calls))
        elif role == "tool":
            out.append(
                ToolResultMessage(
                    tool_call_id=m["tool_call_id"], name="tool", content=_text(m["content"])
                )
            )
    return out


def responses_messages(body: dict[str, Any]) -> list[Any]:
    out: list[Any] = []
    if body.get("instructions"):
        out.append(SystemMessage(content=body["instructions"]))
    items = body.get("input")
    if isinstance(items, str):
        return [*out, UserMessage(content=items)]
    for item in items or []:
        kind, role = item.get("type"), item.get("role")
        if role in ("system", "developer") and kind in (None, "message"):
            out.append(SystemMessage(content=_text(item.get("content"))))
        elif role == "user":
            out.append(UserMessage(content=_text(item.get("content"))))
        elif role == "assistant":
            out.append(AssistantMessage(text=_text(item.get("content"))))
        elif kind == "function_call":
            out.append(
                AssistantMessage(
                    tool_calls=[
                        ToolCall(id=item["call_id"], name=item["name"], arguments=item["arguments"])
                    ]
                )
            )
        elif kind == "function_call_output":
            out.append(
                ToolResultMessage(
                    tool_call_id=item["call_id"], name="tool", content=_text(item["output"])
                )
            )
    return out


def tool_specs(body: dict[str, Any], api: str) -> list[ToolSpec]:
    specs = []
    for tool in body.get("tools") or []:
        if tool.get("type") != "function":
            continue
        fn = tool["function"] if api == "openai-chat" else tool
        specs.append(
            ToolSpec(
                fn["name"],
                fn.get("description") or "",
                fn.get("parameters") or {},
                fn.get("strict"),
            )
        )
    return specs


def serve(response: dict[str, Any], sent: list[dict[str, Any]]) -> httpx.MockTransport:
    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(json.loads(request.content))
        assert request.headers["authorization"] == f"Bearer {KEY}"
        headers = {"content-type": response.get("content_type") or "application/json"}
        if "sse" in response:
            return httpx.Response(
                response["status"], headers=headers, content=response["sse"].encode()
            )
        body = response.get("body")
        content = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        return httpx.Response(response["status"], headers=headers, content=content)

    return httpx.MockTransport(handler)


def check(exp: Expected, result: ModelResponse, api: str) -> None:
    message = result.message
    assert message.text == exp.text
    assert len(message.tool_calls) == len(exp.calls)
    for got, (call_id, name, arguments) in zip(message.tool_calls, exp.calls, strict=True):
        assert got.name == name
        assert got.arguments == arguments
        if call_id:
            assert got.id == call_id
    if exp.finish:
        assert result.raw_finish_reason == exp.finish
    for ours, theirs in (
        (result.usage.input_tokens, exp.input_tokens),
        (result.usage.output_tokens, exp.output_tokens),
        (result.usage.cache_read_tokens, exp.cached_tokens),
        (result.usage.reasoning_tokens, exp.reasoning_tokens),
    ):
        if theirs is not None:
            assert ours == theirs


def check_stream(events: list[Any], exp: Expected) -> ModelResponse:
    assert isinstance(events[-1], ResponseDone)
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == exp.text
    calls: dict[int, list[Any]] = {}
    for e in events:
        if isinstance(e, ToolCallDelta):
            slot = calls.setdefault(e.index, [None, None, ""])
            slot[0] = slot[0] or e.id
            slot[1] = slot[1] or e.name
            slot[2] += e.arguments
    assert [(c[1], c[2] or "{}") for _, c in sorted(calls.items())] == [
        (n, a) for _, n, a in exp.calls
    ]
    return events[-1].response


def check_request(sent: dict[str, Any], recorded: dict[str, Any], api: str, stream: bool) -> None:
    assert sent["model"] == recorded["model"]
    assert bool(sent.get("stream")) is stream
    if api == "openai-chat":
        assert [m["role"] for m in sent["messages"]] == [
            "system" if m["role"] == "developer" else m["role"] for m in recorded["messages"]
        ]
        for tool in sent.get("tools", []):
            assert tool["type"] == "function"
            assert {"name", "description", "parameters"} <= set(tool["function"])
        if stream:
            assert sent["stream_options"] == {"include_usage": True}
    else:
        assert isinstance(sent["input"], list)
        for tool in sent.get("tools", []):
            assert tool["type"] == "function"
            assert {"name", "description", "parameters"} <= set(tool)
        sent_calls = [i["call_id"] for i in sent["input"] if i.get("type") == "function_call"]
        recorded_calls = [
            i["call_id"]
            for i in recorded.get("input") or []
            if isinstance(i, dict) and i.get("type") == "function_call"
        ]
        assert sent_calls == recorded_calls
    recorded_tools = {t.name for t in tool_specs(recorded, api)}
    assert {
        t["function"]["name"] if api == "openai-chat" else t["name"] for t in sent.get("tools", [])
    } == recorded_tools


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())  # type: ignore[no-any-return]


def assert_error_class(status: int, error: ProviderError) -> None:
    if status == 429:
        assert isinstance(error, RateLimited | QuotaExceeded)
    elif status == 404:
        assert isinstance(error, ModelNotFound)
    elif status in (401, 403):
        assert isinstance(error, AuthenticationFailed)
    elif 400 <= status < 500:
        assert isinstance(error, Rejected)
    assert error.status_code == (status if status >= 400 else error.status_code)


async def replay(path: Path, api: str) -> None:
    recording = load(path)
    for interaction in recording["interactions"]:
        request, response = interaction["request"], interaction["response"]
        body = request["body"]
        if not isinstance(body, dict):
            continue
        exp = expect_chat(response) if api == "openai-chat" else expect_responses(response)
        messages = chat_messages(body) if api == "openai-chat" else responses_messages(body)
        params = RequestParams(tools=tool_specs(body, api))
        sent: list[dict[str, Any]] = []
        provider = OpenAIProvider(api, api="chat" if api == "openai-chat" else "responses")
        model = provider.model(
            body.get("model", "m"),
            base_url="http://recorded.test/v1",
            api_key=KEY,
            transport=serve(response, sent),
        )
        stream = bool(body.get("stream"))
        try:
            if exp.error:
                with pytest.raises(ProviderError) as info:
                    await _ask(model, messages, params, stream)
                assert KEY not in repr(info.value)
                assert_error_class(response["status"], info.value)
                continue
            result = await _ask(model, messages, params, stream)
            if stream:
                result = check_stream(result, exp)
            check(exp, result, api)
        finally:
            await model.aclose()
        check_request(sent[0], body, api, stream)


async def _ask(model: Any, messages: list[Any], params: RequestParams, stream: bool) -> Any:
    if stream:
        return [e async for e in model.stream(messages, params)]
    return await model.request(messages, params)


@pytest.mark.anyio
@pytest.mark.parametrize("path", recordings("openai-chat"), ids=lambda p: p.stem[:90])
async def test_chat_recording(path: Path) -> None:
    await replay(path, "openai-chat")


@pytest.mark.anyio
@pytest.mark.parametrize("path", recordings("openai-responses"), ids=lambda p: p.stem[:90])
async def test_responses_recording(path: Path) -> None:
    await replay(path, "openai-responses")


def test_every_api_has_recordings() -> None:
    assert len(recordings("openai-chat")) > 100
    assert len(recordings("openai-responses")) > 50
    assert not NOT_MODELLED  # every recording is handled; list any exception here with a reason
