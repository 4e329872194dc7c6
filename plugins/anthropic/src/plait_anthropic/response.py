"""Response parsing for the Anthropic Messages API: content blocks → ``ModelResponse``.

One function, ``response_from_blocks``, turns a list of content blocks into plait's
response; the non-streaming parser hands it the JSON body's ``content`` and the stream
state machine the blocks it assembled, so streamed and non-streamed answers are
identical. Blocks plait does not model (server tools, citations, ...) are kept verbatim
in ``provider_data["anthropic"]["content"]`` and replayed by ``wire.assistant_blocks``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from plait.provider import (
    AssistantMessage,
    FinishReason,
    ModelResponse,
    ProtocolError,
    Thinking,
    ToolCall,
    Usage,
)

from .wire import PROVIDER_DATA_KEY, Block, is_canonical

__all__ = ["checked", "finish_reason", "parse_message", "response_from_blocks", "usage_from"]

_FINISH: Mapping[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
    "pause_turn": "incomplete",
}


def finish_reason(raw: str | None) -> FinishReason:
    """plait's normalised finish reason for an Anthropic ``stop_reason``."""
    return _FINISH.get(raw or "end_turn", "stop")


def usage_from(usage: Mapping[str, Any] | None) -> Usage:
    """plait usage from Anthropic's ``usage`` object.

    Anthropic's ``input_tokens`` excludes cached input; plait's ``input_tokens`` is all
    input the model read (as OpenAI reports it), so cache reads and writes are added.
    """
    usage = usage or {}
    read = _int(usage.get("cache_read_input_tokens"))
    write = _int(usage.get("cache_creation_input_tokens"))
    return Usage(
        requests=1,
        input_tokens=_int(usage.get("input_tokens")) + read + write,
        output_tokens=_int(usage.get("output_tokens")),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


_MAX_COUNT = 2**53
"""Counts above this (the largest integer a JSON number holds exactly) are not counts:
read as ``0``, like a negative one, so usage totals and token budgets stay sane."""


def _int(value: Any) -> int:
    return value if type(value) is int and 0 < value <= _MAX_COUNT else 0


def parse_message(payload: Any, *, provider: str, output_tool: str | None = None) -> ModelResponse:
    """The ``ModelResponse`` of a non-streaming response body (already decoded JSON)."""
    if not isinstance(payload, Mapping) or not isinstance(payload.get("content"), list):
        raise ProtocolError(
            "response is not a message object with a content list", provider=provider
        )
    return checked(
        provider,
        payload["content"],
        stop_reason=payload.get("stop_reason"),
        usage=payload.get("usage"),
        model=payload.get("model"),
        response_id=payload.get("id"),
        output_tool=output_tool,
    )


def checked(provider: str, blocks: Sequence[Block], **kw: Any) -> ModelResponse:
    """``response_from_blocks``, with malformed content (a block without its fields, a
    wrong type) reported as the ``ProtocolError`` it is, never a ``KeyError``."""
    try:
        return response_from_blocks(blocks, **kw)
    except (KeyError, TypeError, AttributeError, ValueError) as exc:  # ValidationError too
        raise ProtocolError(
            f"malformed message content ({type(exc).__name__})", provider=provider
        ) from None


def response_from_blocks(
    blocks: Sequence[Block],
    *,
    stop_reason: str | None,
    usage: Mapping[str, Any] | None,
    model: str | None,
    response_id: str | None,
    output_tool: str | None = None,
    raw_arguments: Mapping[int, str] | None = None,
) -> ModelResponse:
    """Assemble the response. ``raw_arguments`` maps a block's position to the tool input
    text as streamed (kept as the model wrote it, even when it is not valid JSON)."""
    texts: list[str] = []
    calls: list[ToolCall] = []
    thinking: list[Thinking] = []
    reason = finish_reason(stop_reason)
    truncated = stop_reason == "max_tokens"
    for position, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "text":
            texts.append(block.get("text") or "")
        elif kind == "thinking":
            thinking.append(
                Thinking(text=block.get("thinking") or "", signature=block.get("signature"))
            )
        elif kind == "redacted_thinking":
            thinking.append(Thinking(redacted=True, provider_data={"data": block.get("data")}))
        elif kind == "tool_use":
            if truncated and position == len(blocks) - 1:
                continue  # cut by max_tokens while being written: never to be executed
            arguments = _arguments(block, position, raw_arguments)
            if output_tool is not None and block.get("name") == output_tool:
                texts.append(arguments)  # structured output through a forced tool
                reason = "length" if truncated else "stop"
                continue
            calls.append(ToolCall(id=block["id"], name=block["name"], arguments=arguments))
    text = "".join(texts)
    message = AssistantMessage(
        text=text,
        tool_calls=calls,
        thinking=thinking,
        refusal=(text or "The model refused to answer.") if reason == "refusal" else None,
        provider_data=None
        if is_canonical(blocks)
        else {PROVIDER_DATA_KEY: {"content": list(blocks)}},
    )
    return ModelResponse(
        message=message,
        usage=usage_from(usage),
        finish_reason=reason,
        raw_finish_reason=stop_reason,
        model=model,
        response_id=response_id,
    )


def _arguments(block: Block, position: int, raw: Mapping[int, str] | None) -> str:
    if raw is not None and position in raw:
        return raw[position]
    return json.dumps(block.get("input") or {}, ensure_ascii=False)
