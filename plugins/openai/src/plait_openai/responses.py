"""The Responses API wire format: request body, response parsing, stream parsing.

Reasoning items are kept whole in ``Thinking.provider_data["item"]`` (id, summary,
encrypted content) and sent back before the turn's function calls, as the API requires.
Output items plait does not model (web search, MCP, code interpreter, tool search) are
kept in ``AssistantMessage.provider_data["items"]`` and not sent back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from plait import (
    AssistantMessage,
    ContentFiltered,
    ModelResponse,
    ProtocolError,
    SystemMessage,
    Thinking,
    ToolCall,
    ToolResultMessage,
    Usage,
    UserMessage,
)

if TYPE_CHECKING:
    from plait.provider import FinishReason

    from .state import Continuation
from plait.provider import error_from_payload

from ._common import (
    arguments_text,
    as_list,
    as_object,
    as_str,
    dig_int,
    new_call_id,
    strict_compatible,
    tool_choice_name,
)
from .options import Options
from .parts import responses_part
from .state import STATE_KEYS

__all__ = ["PATH", "build_request", "parse_response", "render_input"]

PATH = "responses"
_INCOMPLETE = {"max_output_tokens": "length", "content_filter": "content_filter"}
_REASONING_KEYS = ("id", "summary", "encrypted_content")


# --- request ---------------------------------------------------------------------------


def _assistant_items(message: AssistantMessage) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for thought in message.thinking:
        item = (thought.provider_data or {}).get("item")
        if isinstance(item, Mapping) and (item.get("id") or item.get("encrypted_content")):
            sent = {k: item[k] for k in _REASONING_KEYS if item.get(k) is not None}
            items.append({"type": "reasoning", "summary": [], **sent})
    if message.text:
        items.append(
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": message.text}],
            }
        )
    for call in message.tool_calls:
        items.append(
            {
                "type": "function_call",
                "call_id": call.id,
                "name": call.name,
                "arguments": call.arguments,
            }
        )
    return items


def render_input(messages: Iterable[Any]) -> list[dict[str, Any]]:
    """plait messages as Responses ``input`` items."""
    items: list[dict[str, Any]] = []
    for m in messages:
        if isinstance(m, AssistantMessage):
            items.extend(_assistant_items(m))
        elif isinstance(m, ToolResultMessage):
            output: Any = m.content
            if m.parts:  # text and media, as input_* items (the API takes them here)
                output = [{"type": "input_text", "text": m.content}]
                output.extend(responses_part(p) for p in m.parts)
            items.append(
                {"type": "function_call_output", "call_id": m.tool_call_id, "output": output}
            )
        elif isinstance(m, SystemMessage):
            items.append({"role": m.role, "content": m.content})
        elif isinstance(m, UserMessage):
            content: Any = m.content
            if content.__class__ is not str:
                content = [responses_part(p) for p in content]
            items.append({"role": "user", "content": content})
        else:
            raise TypeError(f"cannot send a {type(m).__name__} to a Responses model")
    return items


def _tools(params: Any) -> list[dict[str, Any]]:
    tools = []
    for spec in params.tools:
        tool: dict[str, Any] = {
            "type": "function",
            "name": spec.name,
            "description": spec.description,
        }
        tool["parameters"] = dict(spec.parameters)
        if spec.strict is not None:
            tool["strict"] = spec.strict
        tools.append(tool)
    return tools


def _format(output: Any, options: Options) -> dict[str, Any]:
    schema = dict(output.schema)
    if options.json_schema_mode == "json_object":
        return {"type": "json_object"}
    strict = output.strict if output.strict is not None else strict_compatible(schema)
    return {"type": "json_schema", "name": output.name, "schema": schema, "strict": strict}


def _settings(body: dict[str, Any], params: Any) -> None:
    # The Responses API has no seed or stop; they are not sent (see docs/providers.md).
    s = params.settings
    for name in ("temperature", "top_p"):
        value = getattr(s, name)
        if value is not None:
            body[name] = value
    if s.max_tokens is not None:
        body["max_output_tokens"] = s.max_tokens
    if s.tool_choice is not None:
        chosen = tool_choice_name(s.tool_choice)
        body["tool_choice"] = (
            s.tool_choice if chosen is None else {"type": "function", "name": chosen}
        )
    if s.parallel_tool_calls is not None and params.tools:
        body["parallel_tool_calls"] = s.parallel_tool_calls
    extra = s.extra
    if extra and not STATE_KEYS.isdisjoint(extra):  # consumed by the Continuation
        extra = {k: v for k, v in extra.items() if k not in STATE_KEYS}
    body.update(extra)


def build_request(
    model_id: str,
    messages: Sequence[Any],
    params: Any,
    options: Options,
    *,
    stream: bool,
    state: Continuation | None = None,
) -> dict[str, Any]:
    """The JSON body of ``POST responses``; with ``state`` (server-side conversation
    state), ``messages`` are what the server lacks and ``state`` adds its fields."""
    body: dict[str, Any] = {"model": model_id, "input": render_input(messages)}
    if params.tools:
        body["tools"] = _tools(params)
    if params.output is not None:
        body["text"] = {"format": _format(params.output, options)}
    if state is not None:
        state.fields(body, options.store)
    elif options.store is not None:
        body["store"] = options.store
        if options.store is False:
            body["include"] = ["reasoning.encrypted_content"]
    if options.reasoning is not None:
        body["reasoning"] = dict(options.reasoning)
    if stream:
        body["stream"] = True
    _settings(body, params)
    return body


# --- response --------------------------------------------------------------------------


def parse_usage(usage: Any) -> Usage:
    """Responses usage, with cached input and reasoning output tokens."""
    if not isinstance(usage, Mapping):
        return Usage(requests=1)
    return Usage(
        requests=1,
        input_tokens=dig_int(usage, "input_tokens"),
        output_tokens=dig_int(usage, "output_tokens"),
        cache_read_tokens=dig_int(usage, "input_tokens_details", "cached_tokens"),
        reasoning_tokens=dig_int(usage, "output_tokens_details", "reasoning_tokens"),
    )


def _texts(parts: Any, where: str, provider: str) -> list[str]:
    """The non-empty ``text`` of each part of ``parts`` (parts without text are skipped)."""
    return [
        p["text"]
        for p in as_list(parts, where, provider=provider)
        if isinstance(p, Mapping) and type(p.get("text")) is str and p["text"]
    ]


def _reasoning(item: Mapping[str, Any], provider: str) -> Thinking:
    parts = _texts(item.get("summary"), "reasoning.summary", provider)
    if not parts:
        parts = _texts(item.get("content"), "reasoning.content", provider)
    kept = {k: item[k] for k in (*_REASONING_KEYS, "content") if item.get(k) is not None}
    return Thinking(text="\n\n".join(parts), provider_data={"item": kept})


def _message(item: Mapping[str, Any], text: list[str], refusal: list[str], provider: str) -> None:
    for part in as_list(item.get("content"), "message.content", provider=provider):
        if not isinstance(part, Mapping):
            continue
        if part.get("type") == "refusal":
            refusal.append(as_str(part.get("refusal"), "refusal", provider=provider) or "")
        elif type(part.get("text")) is str:
            text.append(part["text"])


def _function_call(item: Mapping[str, Any], provider: str) -> ToolCall:
    call_id = as_str(item.get("call_id"), "function_call.call_id", provider=provider)
    item_id = as_str(item.get("id"), "function_call.id", provider=provider)
    name = as_str(item.get("name"), "function_call.name", provider=provider)
    arguments = arguments_text(item.get("arguments"), "function_call.arguments", provider=provider)
    return ToolCall(
        id=call_id or item_id or new_call_id(), name=name or "", arguments=arguments or "{}"
    )


def _finish(data: Mapping[str, Any], has_tools: bool, provider: str) -> tuple[str, str | None]:
    status = data.get("status")
    if status == "incomplete":
        details = as_object(data.get("incomplete_details"), "incomplete_details", provider=provider)
        reason = details.get("reason")
        return _INCOMPLETE.get(str(reason), "incomplete"), str(reason or status)
    return ("tool_calls" if has_tools else "stop"), (None if status is None else str(status))


def parse_response(data: Mapping[str, Any], *, provider: str) -> ModelResponse:
    """A complete ``response`` object (the non-streamed answer, or ``response.completed``)."""
    if data.get("status") == "failed":
        raise error_from_payload({"error": data.get("error") or {}}, provider=provider)
    output = data.get("output")
    if not isinstance(output, list):
        raise ProtocolError("the response has no output", provider=provider)
    text: list[str] = []
    refusal: list[str] = []
    calls: list[ToolCall] = []
    thinking: list[Thinking] = []
    other: list[Any] = []
    for item in output:
        kind = item.get("type") if isinstance(item, Mapping) else None
        if kind == "message":
            _message(item, text, refusal, provider)
        elif kind == "function_call":
            calls.append(_function_call(item, provider))
        elif kind == "reasoning":
            thinking.append(_reasoning(item, provider))
        else:
            other.append(item)
    finish, raw = _finish(data, bool(calls), provider)
    joined = "".join(text)
    if refusal and finish == "stop":
        finish = "refusal"
    if finish == "content_filter" and not joined and not calls:
        raise ContentFiltered("the content filter withheld the answer", provider=provider)
    message = AssistantMessage(
        text=joined,
        tool_calls=calls,
        thinking=thinking,
        refusal="".join(refusal) or None,
        provider_data={"items": other} if other else None,
    )
    return ModelResponse(
        message=message,
        usage=parse_usage(data.get("usage")),
        finish_reason=cast("FinishReason", finish),
        raw_finish_reason=raw,
        model=data.get("model") if isinstance(data.get("model"), str) else None,
        response_id=data.get("id") if isinstance(data.get("id"), str) else None,
    )


# --- stream ----------------------------------------------------------------------------
