"""Request building for the Anthropic Messages API: plait messages and settings → JSON body.

Pure functions, no I/O and no httpx: what goes on the wire is decided here and tested
without a network. The rules the API enforces and this module keeps:

* system prompts go to the top-level ``system`` field (every ``SystemMessage``, in order);
* roles alternate: consecutive user-side messages (user text, tool results) are merged
  into one user message, ``tool_result`` blocks first, as the API requires;
* an assistant turn is sent back with its thinking blocks first, unchanged (signature
  included), then its text, then its ``tool_use`` blocks — or, when the response held
  blocks plait does not model (server tools, citations), replayed block by block from
  ``provider_data["anthropic"]["content"]``;
* ``max_tokens`` is always present.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from plait.provider import (
    AssistantMessage,
    Message,
    ModelSettings,
    OutputSpec,
    RequestParams,
    SystemMessage,
    Thinking,
    ToolCall,
    ToolResultMessage,
    ToolSpec,
    UserMessage,
)

from .parts import block as part_block

__all__ = [
    "DEFAULT_MAX_TOKENS",
    "PROVIDER_DATA_KEY",
    "Block",
    "assistant_blocks",
    "build_body",
    "convert_messages",
    "dumps",
    "is_canonical",
    "output_tool_name",
    "tool_input",
]

DEFAULT_MAX_TOKENS = 4096
"""Sent when neither the settings nor the model options say: the API requires a value."""

PROVIDER_DATA_KEY = "anthropic"
"""Key of this plugin's entry in ``AssistantMessage.provider_data``."""

_KNOWN_BLOCKS = frozenset({"text", "thinking", "redacted_thinking", "tool_use"})

Block = dict[str, Any]


def build_body(
    model: str,
    messages: Sequence[Message],
    params: RequestParams,
    *,
    defaults: Mapping[str, Any] | None = None,
    max_tokens: int = DEFAULT_MAX_TOKENS,
    output_mode: str = "native",
    stream: bool = False,
) -> dict[str, Any]:
    """The JSON body of ``POST /v1/messages`` for one request.

    ``defaults`` are body fields set on the model (e.g. ``thinking``); the request's
    settings win over them and ``settings.extra`` wins over everything, except ``tools``:
    tools given there (Anthropic server tools such as ``web_search``) are added to the
    function tools, not put in their place.
    """
    system, turns = convert_messages(messages)
    settings = params.settings
    extra = dict(settings.extra)
    body: dict[str, Any] = {"model": model, **(defaults or {})}
    native = [*body.pop("tools", ()), *extra.pop("tools", ())]
    body["max_tokens"] = settings.max_tokens or body.get("max_tokens") or max_tokens
    body["messages"] = turns
    if system:
        body["system"] = system
    _apply_sampling(body, settings)
    tools = [*(_tool(t) for t in params.tools), *native]
    tool_choice = _tool_choice(settings)
    if params.output is not None:
        tool_choice = _apply_output(body, tools, tool_choice, params.output, output_mode)
    if tools:
        body["tools"] = tools
        if settings.parallel_tool_calls is False and (tool_choice or {}).get("type") != "none":
            tool_choice = {"type": "auto", **(tool_choice or {}), "disable_parallel_tool_use": True}
        if tool_choice is not None:
            body["tool_choice"] = tool_choice
    if stream:
        body["stream"] = True
    body.update(extra)
    return body


def output_tool_name(output: OutputSpec) -> str:
    """The name of the forced tool that carries structured output in ``output_mode="tool"``."""
    return output.name or "final_result"


def _apply_sampling(body: dict[str, Any], settings: ModelSettings) -> None:
    if settings.temperature is not None:
        body["temperature"] = settings.temperature
    if settings.top_p is not None:
        body["top_p"] = settings.top_p
    if settings.stop:
        body["stop_sequences"] = list(settings.stop)
    # ``seed`` has no Anthropic equivalent; it is ignored rather than sent and rejected.


def _apply_output(
    body: dict[str, Any],
    tools: list[Block],
    tool_choice: Block | None,
    output: OutputSpec,
    mode: str,
) -> Block | None:
    """Native structured output (``output_config.format``), or a forced tool in ``tool`` mode."""
    if mode == "tool":
        name = output_tool_name(output)
        spec = ToolSpec(name, f"Return the final result as {name}.", output.schema, output.strict)
        tools.append(_tool(spec))
        return {"type": "tool", "name": name}
    config = dict(body.get("output_config") or {})
    config["format"] = {"type": "json_schema", "schema": dict(output.schema)}
    body["output_config"] = config
    return tool_choice


def _tool(spec: ToolSpec) -> Block:
    tool: Block = {
        "name": spec.name,
        "description": spec.description,
        "input_schema": dict(spec.parameters) or {"type": "object", "properties": {}},
    }
    if spec.strict:
        tool["strict"] = True
    return tool


def _tool_choice(settings: ModelSettings) -> Block | None:
    choice = settings.tool_choice
    if choice is None:
        return None
    if choice in ("auto", "none"):
        return {"type": choice}
    if choice == "required":
        return {"type": "any"}
    return {"type": "tool", "name": choice}


# --- messages ---------------------------------------------------------------------------


def convert_messages(messages: Sequence[Message]) -> tuple[str, list[Block]]:
    """``(system, messages)``: the system text and alternating user/assistant turns."""
    system: list[str] = []
    turns: list[Block] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            system.append(message.content)
            continue
        role, blocks = _blocks_of(message)
        if not blocks:
            continue  # the API rejects empty turns; an empty one carries nothing anyway
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    for turn in turns:
        if turn["role"] == "user":
            # Tool results must open the user turn that answers the tool calls.
            turn["content"].sort(key=lambda b: b["type"] != "tool_result")
    return "\n\n".join(system), turns


def _blocks_of(message: Message) -> tuple[str, list[Block]]:
    if isinstance(message, UserMessage):
        content = message.content
        if content.__class__ is not str:  # parts: text, images, documents
            return "user", [part_block(p) for p in content]
        return "user", ([{"type": "text", "text": content}] if content else [])
    if isinstance(message, ToolResultMessage):
        return "user", [_tool_result(message)]
    assert isinstance(message, AssistantMessage)
    return "assistant", assistant_blocks(message)


def _tool_result(message: ToolResultMessage) -> Block:
    result: Block = {
        "type": "tool_result",
        "tool_use_id": message.tool_call_id,
        "content": message.content,
    }
    if message.parts:  # the text, then the images and documents the tool returned
        text = [{"type": "text", "text": message.content}] if message.content else []
        result["content"] = text + [part_block(p) for p in message.parts]
    if message.is_error:
        result["is_error"] = True
    return result


def assistant_blocks(message: AssistantMessage) -> list[Block]:
    """The content blocks of an assistant turn, as the API wants them back."""
    raw = (message.provider_data or {}).get(PROVIDER_DATA_KEY, {}).get("content")
    if raw:
        replayed = _replay(raw, message)
        if replayed is not None:
            return replayed
    blocks = [b for b in (_thinking_block(t) for t in message.thinking) if b is not None]
    if message.text:
        blocks.append({"type": "text", "text": message.text})
    blocks.extend(_tool_use(call) for call in message.tool_calls)
    return blocks


def _replay(raw: Sequence[Block], message: AssistantMessage) -> list[Block] | None:
    """The recorded blocks, unchanged, if the message still says what they said.

    Tool calls are re-rendered from the message (their arguments are the truth); if the
    text, the thinking or the set of tool calls was changed since (a guardrail redacted
    it), ``None``: the caller falls back to the canonical form.
    """
    texts = [b.get("text") or "" for b in raw if b.get("type") == "text"]  # null is ""
    thinking = [b for b in raw if b.get("type") in ("thinking", "redacted_thinking")]
    calls = {call.id: call for call in message.tool_calls}
    uses = [str(b.get("id")) for b in raw if b.get("type") == "tool_use"]
    if "".join(texts) != message.text or sorted(uses) != sorted(calls):
        return None
    if [_thinking_block(t) for t in message.thinking] != thinking:
        return None
    out: list[Block] = []
    for block in raw:
        kind = block.get("type")
        if kind == "tool_use":
            out.append(_tool_use(calls[block["id"]]))
        elif kind != "text" or block.get("text"):
            out.append(block)
    return out


def _thinking_block(thinking: Thinking) -> Block | None:
    data = thinking.provider_data or {}
    if thinking.redacted:
        return {"type": "redacted_thinking", "data": data["data"]} if "data" in data else None
    if thinking.signature is None:
        # Reasoning without a signature (another provider's) cannot be sent back.
        return None
    return {"type": "thinking", "thinking": thinking.text, "signature": thinking.signature}


def _tool_use(call: ToolCall) -> Block:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call)}


def tool_input(call: ToolCall) -> Any:
    """The ``input`` object of a tool call; invalid JSON is kept, wrapped, for the model to see."""
    try:
        value = call.parsed_arguments()
    except ValueError:
        return {"_invalid_json": call.arguments}
    return value if isinstance(value, dict) else {"_value": value}


def is_canonical(blocks: Sequence[Block]) -> bool:
    """True when ``blocks`` are exactly what ``assistant_blocks`` rebuilds from a message.

    That is: thinking first, at most one text block without citations, tool uses last.
    Anything else is kept verbatim in ``provider_data`` so it can be replayed.
    """
    rank = {"thinking": 0, "redacted_thinking": 0, "text": 1, "tool_use": 2}
    last = 0
    texts = 0
    for block in blocks:
        kind = block.get("type")
        if kind not in _KNOWN_BLOCKS or block.get("citations"):
            return False
        if kind == "text":
            texts += 1
        if rank[kind] < last or texts > 1:
            return False
        last = rank[kind]
    return True


def dumps(body: Mapping[str, Any]) -> bytes:
    """Compact JSON bytes of a request body."""
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
