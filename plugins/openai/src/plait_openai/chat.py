"""The Chat Completions wire format: request body, response parsing, stream parsing.

Reasoning arrives under different names on compatible hosts (``reasoning_content`` on
DeepSeek and vLLM, ``reasoning`` on OpenRouter and Groq, plus OpenRouter's
``reasoning_details``); it is kept in ``AssistantMessage.thinking`` with the field it
came in and sent back under that same field.
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
from .parts import chat_media_message, chat_part

__all__ = [
    "PATH",
    "build_request",
    "finish_response",
    "parse_response",
    "parse_usage",
    "render_messages",
]

PATH = "chat/completions"
_REASONING_FIELDS = ("reasoning_content", "reasoning")
_FINISH = {
    "stop": "stop",
    "length": "length",
    "max_tokens": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}


# --- request ---------------------------------------------------------------------------


def _assistant(message: AssistantMessage, options: Options) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant"}
    out["content"] = message.text or ("" if options.null_content_as_empty else None)
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    for thought in message.thinking:
        data = thought.provider_data or {}
        name = data.get("field")
        if name in _REASONING_FIELDS and thought.text:
            out[name] = thought.text
        if "reasoning_details" in data:
            out["reasoning_details"] = data["reasoning_details"]
    return out


def render_messages(messages: Iterable[Any], options: Options) -> list[dict[str, Any]]:
    """plait messages as Chat Completions ``messages``.

    A user message of parts becomes content parts (``parts.chat_part``). Tool messages
    carry text only: the media of a run of tool results follow them in one user message.
    """
    out: list[dict[str, Any]] = []
    with_media: list[ToolResultMessage] = []
    for m in messages:
        if with_media and not isinstance(m, ToolResultMessage):
            out.append(chat_media_message(with_media) or {})
            with_media = []
        if isinstance(m, AssistantMessage):
            out.append(_assistant(m, options))
        elif isinstance(m, ToolResultMessage):
            out.append({"role": "tool", "tool_call_id": m.tool_call_id, "content": m.content})
            if m.parts:
                with_media.append(m)
        elif isinstance(m, SystemMessage):
            out.append({"role": m.role, "content": m.content})
        elif isinstance(m, UserMessage):
            content: Any = m.content
            if content.__class__ is not str:
                content = [chat_part(p) for p in content]
            out.append({"role": "user", "content": content})
        else:
            raise TypeError(f"cannot send a {type(m).__name__} to a Chat Completions model")
    if with_media:
        out.append(chat_media_message(with_media) or {})
    return out


def _tools(params: Any) -> list[dict[str, Any]]:
    tools = []
    for spec in params.tools:
        function: dict[str, Any] = {"name": spec.name, "description": spec.description}
        function["parameters"] = dict(spec.parameters)
        if spec.strict is not None:
            function["strict"] = spec.strict
        tools.append({"type": "function", "function": function})
    return tools


def _response_format(output: Any, options: Options) -> dict[str, Any]:
    schema = dict(output.schema)
    if options.json_schema_mode == "json_object":
        return {"type": "json_object", "schema": schema}
    strict = output.strict if output.strict is not None else strict_compatible(schema)
    return {
        "type": "json_schema",
        "json_schema": {"name": output.name, "schema": schema, "strict": strict},
    }


def _settings(body: dict[str, Any], params: Any, options: Options) -> None:
    s = params.settings
    for name in ("temperature", "top_p", "seed"):
        value = getattr(s, name)
        if value is not None:
            body[name] = value
    if s.max_tokens is not None:
        body[options.max_tokens_field] = s.max_tokens
    if s.stop is not None:
        body["stop"] = list(s.stop)
    if s.tool_choice is not None:
        chosen = tool_choice_name(s.tool_choice)
        body["tool_choice"] = (
            s.tool_choice if chosen is None else {"type": "function", "function": {"name": chosen}}
        )
    if s.parallel_tool_calls is not None and params.tools:
        body["parallel_tool_calls"] = s.parallel_tool_calls
    body.update(s.extra)


def build_request(
    model_id: str, messages: Sequence[Any], params: Any, options: Options, *, stream: bool
) -> dict[str, Any]:
    """The JSON body of ``POST chat/completions``."""
    body: dict[str, Any] = {"model": model_id, "messages": render_messages(messages, options)}
    if params.tools:
        body["tools"] = _tools(params)
    if params.output is not None:
        body["response_format"] = _response_format(params.output, options)
    if stream:
        body["stream"] = True
        if options.stream_usage:
            body["stream_options"] = {"include_usage": True}
    _settings(body, params, options)
    return body


# --- response --------------------------------------------------------------------------


def parse_usage(usage: Any) -> Usage:
    """Chat Completions usage, including the cache fields of compatible hosts."""
    if not isinstance(usage, Mapping):
        return Usage(requests=1)
    prompt_details = usage.get("prompt_tokens_details")
    cached = (
        dig_int(prompt_details, "cached_tokens")
        or dig_int(usage, "cached_tokens")
        or dig_int(usage, "num_cached_tokens")
        or dig_int(usage, "prompt_cache_hit_tokens")
    )
    return Usage(
        requests=1,
        input_tokens=dig_int(usage, "prompt_tokens"),
        output_tokens=dig_int(usage, "completion_tokens"),
        cache_read_tokens=cached,
        cache_write_tokens=dig_int(prompt_details, "cache_write_tokens"),
        reasoning_tokens=dig_int(usage, "completion_tokens_details", "reasoning_tokens"),
    )


def _text_of(content: Any, *, provider: str) -> str:
    """A message's ``content``: a string, or content parts (some hosts send them) whose
    text parts are joined; parts without text (images, audio) are skipped."""
    if type(content) is str:
        return content
    if content is None:
        return ""
    parts = as_list(content, "message.content", provider=provider)
    return "".join(
        p["text"] for p in parts if isinstance(p, Mapping) and type(p.get("text")) is str
    )


def _thinking(message: Mapping[str, Any]) -> list[Thinking]:
    for name in _REASONING_FIELDS:
        text = message.get(name)
        if isinstance(text, str) and text:
            data: dict[str, Any] = {"field": name}
            if message.get("reasoning_details"):
                data["reasoning_details"] = message["reasoning_details"]
            return [Thinking(text=text, provider_data=data)]
    if message.get("reasoning_details"):
        return [Thinking(provider_data={"reasoning_details": message["reasoning_details"]})]
    return []


def _finish(raw: Any, has_tools: bool, refusal: str | None) -> str:
    if refusal and raw in (None, "", "stop"):
        return "refusal"
    if raw in (None, ""):
        return "tool_calls" if has_tools else "stop"
    return _FINISH.get(str(raw), "tool_calls" if has_tools else "stop")


def finish_response(
    *,
    text: str,
    tool_calls: list[ToolCall],
    thinking: list[Thinking],
    refusal: str | None,
    raw_finish: Any,
    usage: Usage,
    model: Any,
    response_id: Any,
    provider: str,
) -> ModelResponse:
    """Assemble the response; a content-filtered empty answer is ``ContentFiltered``."""
    finish = _finish(raw_finish, bool(tool_calls), refusal)
    if finish == "content_filter" and not text and not tool_calls:
        raise ContentFiltered("the content filter withheld the answer", provider=provider)
    message = AssistantMessage(
        text=text, tool_calls=tool_calls, thinking=thinking, refusal=refusal or None
    )
    return ModelResponse(
        message=message,
        usage=usage,
        finish_reason=cast("FinishReason", finish),
        raw_finish_reason=None if raw_finish is None else str(raw_finish),
        model=model if isinstance(model, str) else None,
        response_id=response_id if isinstance(response_id, str) else None,
    )


def _tool_call(call: Any, provider: str) -> ToolCall:
    call = as_object(call, "message.tool_calls[]", provider=provider)
    function = as_object(call.get("function"), "tool_calls[].function", provider=provider)
    name = as_str(function.get("name"), "tool_calls[].function.name", provider=provider)
    arguments = function.get("arguments")
    return ToolCall(
        id=as_str(call.get("id"), "tool_calls[].id", provider=provider) or new_call_id(),
        name=name or "",
        arguments=arguments_text(arguments, "tool_calls[].function.arguments", provider=provider)
        or "{}",
    )


def parse_response(data: Mapping[str, Any], *, provider: str) -> ModelResponse:
    """A complete (non-streamed) ``chat.completion`` object."""
    choices = data.get("choices")
    if not choices or not isinstance(choices, list) or not isinstance(choices[0], Mapping):
        raise ProtocolError("the response has no choices", provider=provider)
    choice = choices[0]
    message = as_object(choice.get("message"), "choices[0].message", provider=provider)
    calls = [
        _tool_call(c, provider)
        for c in as_list(message.get("tool_calls"), "message.tool_calls", provider=provider)
    ]
    return finish_response(
        text=_text_of(message.get("content"), provider=provider),
        tool_calls=calls,
        thinking=_thinking(message),
        refusal=as_str(message.get("refusal"), "message.refusal", provider=provider),
        raw_finish=choice.get("finish_reason"),
        usage=parse_usage(data.get("usage")),
        model=data.get("model"),
        response_id=data.get("id"),
        provider=provider,
    )
