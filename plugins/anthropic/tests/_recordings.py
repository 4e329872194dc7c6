"""Recorded Anthropic traffic: an independent extractor, a replaying server, and the
conversion of recorded requests into plait messages (used by ``test_recordings``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from plait.provider import (
    Message,
    ModelResponse,
    ModelSettings,
    RequestParams,
    ResponseDone,
    SystemMessage,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)
from plait_anthropic.provider import AnthropicProvider
from plait_anthropic.response import response_from_blocks

DATA = (
    Path(__file__).resolve().parents[3]
    / "tests"
    / "data"
    / "provider-traffic"
    / "anthropic-messages"
)
RECORDINGS = sorted(DATA.glob("*.json"))

# Recordings (or parts) plait cannot reproduce, with the reason. Responses are always
# parsed; only the request-building comparison is skipped for the listed conversations.
UNSUPPORTED_REQUEST_CONTENT = {
    "image": "plait's UserMessage is text only (no image input yet)",
    "document": "plait's UserMessage is text only (no document input yet)",
    "tool_addition": "tool_addition system messages are a beta extension plait does not model",
}

STOP = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}


# --- the independent extractor -----------------------------------------------------------


def message_from_sse(sse: str) -> dict[str, Any]:
    """The message object a recorded event stream adds up to (independent of plait)."""
    message: dict[str, Any] = {}
    blocks: dict[int, dict[str, Any]] = {}
    partial: dict[int, str] = {}
    for line in sse.splitlines():
        if not line.startswith("data:"):
            continue
        event = json.loads(line[5:])
        kind = event["type"]
        if kind == "message_start":
            message = event["message"]
        elif kind == "content_block_start":
            blocks[event["index"]] = dict(event["content_block"])
        elif kind == "content_block_delta":
            block, delta = blocks[event["index"]], event["delta"]
            if delta["type"] == "text_delta":
                block["text"] += delta["text"]
            elif delta["type"] == "thinking_delta":
                block["thinking"] += delta["thinking"]
            elif delta["type"] == "signature_delta":
                block["signature"] = delta["signature"]
            elif delta["type"] == "input_json_delta":
                partial[event["index"]] = partial.get(event["index"], "") + delta["partial_json"]
        elif kind == "message_delta":
            message.update({k: v for k, v in event["delta"].items() if v is not None})
            message["usage"] = {**message.get("usage", {}), **event["usage"]}
    for index, text in partial.items():
        blocks[index]["input"] = json.loads(text) if text else {}
    message["content"] = [blocks[i] for i in sorted(blocks)]
    return message


def expected(message: dict[str, Any]) -> dict[str, Any]:
    content = message["content"]
    truncated = message.get("stop_reason") == "max_tokens"
    calls = [(b["id"], b["name"], b["input"]) for b in content if b["type"] == "tool_use"]
    if truncated and content and content[-1]["type"] == "tool_use":
        calls.pop()
    usage = message["usage"]
    return {
        "text": "".join(b["text"] for b in content if b["type"] == "text"),
        "calls": calls,
        "thinking": [
            (b.get("thinking", ""), b.get("signature"), b.get("data"))
            for b in content
            if b["type"] in ("thinking", "redacted_thinking")
        ],
        "stop": message.get("stop_reason"),
        "input": usage["input_tokens"],
        "output": usage["output_tokens"],
        "cache_read": usage.get("cache_read_input_tokens") or 0,
        "cache_write": usage.get("cache_creation_input_tokens") or 0,
        "id": message["id"],
        "model": message["model"],
    }


def check(response: ModelResponse, want: dict[str, Any]) -> None:
    message = response.message
    assert message.text == want["text"]
    got_calls = [(c.id, c.name, json.loads(c.arguments)) for c in message.tool_calls]
    assert got_calls == want["calls"]
    got_thinking = [
        (t.text, t.signature, (t.provider_data or {}).get("data")) for t in message.thinking
    ]
    assert got_thinking == want["thinking"]
    assert response.raw_finish_reason == want["stop"]
    assert response.finish_reason == STOP.get(want["stop"] or "end_turn", "stop")
    usage = response.usage
    assert usage.cache_read_tokens == want["cache_read"]
    assert usage.cache_write_tokens == want["cache_write"]
    # plait counts all input read (cached too), as OpenAI does; Anthropic's excludes it.
    assert usage.input_tokens == want["input"] + want["cache_read"] + want["cache_write"]
    assert usage.output_tokens == want["output"]
    assert usage.requests == 1
    assert response.response_id == want["id"]
    assert response.model == want["model"]


def sse_from_message(message: dict[str, Any]) -> str:
    """The stream the API would send for ``message`` (tests the stream path on JSON recordings)."""

    def event(payload: dict[str, Any]) -> str:
        return f"event: {payload['type']}\ndata: {json.dumps(payload)}\n\n"

    start = {
        **message,
        "content": [],
        "stop_reason": None,
        "usage": {**message["usage"], "output_tokens": 1},
    }
    out = [
        event({"type": "message_start", "message": start}),
        'event: ping\ndata: {"type": "ping"}\n\n',
    ]
    for index, block in enumerate(message["content"]):
        out.extend(event(e) for e in _block_events(index, block))
    out.append(
        event(
            {
                "type": "message_delta",
                "delta": {"stop_reason": message["stop_reason"]},
                "usage": {"output_tokens": message["usage"]["output_tokens"]},
            }
        )
    )
    out.append(event({"type": "message_stop"}))
    return "".join(out)


def _block_events(index: int, block: dict[str, Any]) -> Iterator[dict[str, Any]]:
    kind = block["type"]
    deltas: list[dict[str, Any]] = []
    start = dict(block)
    if kind == "text":
        start["text"] = ""
        start.pop("citations", None)
        text = block["text"]
        deltas = [{"type": "text_delta", "text": text[i : i + 7]} for i in range(0, len(text), 7)]
        deltas += [{"type": "citations_delta", "citation": c} for c in block.get("citations") or []]
    elif kind == "thinking":
        start.update(thinking="", signature="")
        deltas = [{"type": "thinking_delta", "thinking": block["thinking"]}]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    elif kind in ("tool_use", "server_tool_use", "mcp_tool_use"):
        start["input"] = {}
        raw = json.dumps(block["input"])
        deltas = [
            {"type": "input_json_delta", "partial_json": raw[i : i + 5]}
            for i in range(0, len(raw), 5)
        ]
    yield {"type": "content_block_start", "index": index, "content_block": start}
    for delta in deltas:
        yield {"type": "content_block_delta", "index": index, "delta": delta}
    yield {"type": "content_block_stop", "index": index}


# --- serving and asking -----------------------------------------------------------------


class Server:
    """Serves given responses in order and keeps the request bodies plait sent."""

    def __init__(self, responses: list[httpx.Response]) -> None:
        self.responses = responses
        self.requests: list[dict[str, Any]] = []
        self.headers: list[httpx.Headers] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(json.loads(request.content))
        self.headers.append(request.headers)
        return self.responses.pop(0)


def json_response(status: int, body: Any) -> httpx.Response:
    return httpx.Response(status, json=body)


def sse_response(text: str) -> httpx.Response:
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, content=text.encode())


def provider_for(server: Server) -> AnthropicProvider:
    return AnthropicProvider(
        api_key="sk-ant-test-0123456789", options={"transport": httpx.MockTransport(server)}
    )


async def ask(server: Server, body: dict[str, Any], *, stream: bool) -> ModelResponse:
    model = provider_for(server).model(body["model"])
    messages, params = conversation(body)
    try:
        if not stream:
            return await model.request(messages, params)
        events = [e async for e in model.stream(messages, params)]
    finally:
        await model.aclose()
    done = events[-1]
    assert isinstance(done, ResponseDone)
    check_deltas(events[:-1], done.response)
    return done.response


def check_deltas(events: list[Any], response: ModelResponse) -> None:
    """The deltas add up to the final response (text, thinking, tool calls)."""
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == response.message.text
    thinking = "".join(e.text for e in events if isinstance(e, ThinkingDelta))
    assert thinking == "".join(t.text for t in response.message.thinking)
    calls: dict[int, list[str]] = {}
    for e in events:
        if isinstance(e, ToolCallDelta):
            piece = calls.setdefault(e.index, [e.id or "", e.name or "", ""])
            piece[2] += e.arguments
    for index, call in enumerate(response.message.tool_calls):
        ident, name, arguments = calls[index]
        assert (ident, name) == (call.id, call.name)
        assert json.loads(arguments or "{}") == json.loads(call.arguments)


# --- recorded conversations → plait messages ------------------------------------------------


def conversation(body: dict[str, Any]) -> tuple[list[Message], RequestParams]:
    """plait messages and params for a recorded request (assistant turns parsed by plait)."""
    messages: list[Message] = []
    system = body.get("system")
    if isinstance(system, list):
        system = "".join(b["text"] for b in system if b["type"] == "text")
    if system:
        messages.append(SystemMessage(content=system))
    for turn in body["messages"]:
        messages.extend(_turn(turn))
    tools = [
        ToolSpec(t["name"], t.get("description", ""), t["input_schema"], t.get("strict"))
        for t in body.get("tools", [])
        if "input_schema" in t
    ]
    # Server tools (web search, code execution, ...) are passed through ``extra``.
    server = [t for t in body.get("tools", []) if "input_schema" not in t]
    settings = ModelSettings(extra={"tools": server}) if server else ModelSettings()
    return messages, RequestParams(tools=tools, settings=settings)


def _turn(turn: dict[str, Any]) -> list[Message]:
    content = turn["content"]
    if isinstance(content, str):
        content = [{"type": "text", "text": content}]
    if turn["role"] == "assistant":
        parsed = response_from_blocks(
            content, stop_reason=None, usage=None, model=None, response_id=None
        )
        return [parsed.message]
    out: list[Message] = []
    for block in content:
        if block["type"] == "text":
            cls = SystemMessage if turn["role"] == "system" else UserMessage
            out.append(cls(content=block["text"]))
        elif block["type"] == "tool_result":
            out.append(
                ToolResultMessage(
                    tool_call_id=block["tool_use_id"],
                    name="",
                    content=text_of_result(block.get("content")),
                    is_error=bool(block.get("is_error")),
                )
            )
    return out


def text_of_result(content: Any) -> str:
    if isinstance(content, list):
        return "".join(b.get("text", "") for b in content)
    return content or ""


def unsupported_request(body: dict[str, Any]) -> list[str]:
    kinds = {
        b["type"]
        for turn in body["messages"]
        if turn["role"] != "assistant" and isinstance(turn["content"], list)
        for b in turn["content"]
    }
    return sorted(k for k in kinds if k in UNSUPPORTED_REQUEST_CONTENT)
