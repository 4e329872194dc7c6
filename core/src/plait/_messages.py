"""Provider-neutral conversation messages, model responses and streaming deltas.

Messages are pydantic models so a history is validated and round-trips through JSON
(stores keep versioned JSON, never pickle). Streaming deltas are small slotted
dataclasses: they are made once per chunk and must stay cheap.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ._parts import Part, text_of

__all__ = [
    "AssistantMessage",
    "FinishReason",
    "Message",
    "ModelResponse",
    "ResponseDone",
    "StreamEvent",
    "SystemMessage",
    "TextDelta",
    "Thinking",
    "ThinkingDelta",
    "ToolCall",
    "ToolCallDelta",
    "ToolResultMessage",
    "Usage",
    "UserMessage",
]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "refusal", "incomplete"]
"""Why the model stopped: normalised across providers (the raw value is kept beside it)."""


class _Base(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ToolCall(_Base):
    """A call the model asked for. ``arguments`` is the raw JSON text the model produced."""

    id: str
    name: str
    arguments: str = "{}"

    def parsed_arguments(self) -> Any:
        """The arguments decoded from JSON; raises ``ValueError`` when they are not valid
        JSON or nested too deeply to decode (never a bare ``RecursionError``)."""
        if not self.arguments.strip():
            return {}
        try:
            return json.loads(self.arguments)
        except RecursionError:
            raise ValueError("the arguments are nested too deeply to decode") from None


class Thinking(_Base):
    """Reasoning content kept so it can be sent back as the provider requires.

    ``signature`` (Anthropic) or ``provider_data`` (e.g. encrypted reasoning, item ids)
    must be returned unchanged; ``redacted`` marks content the provider withheld.
    """

    text: str = ""
    signature: str | None = None
    redacted: bool = False
    provider_data: dict[str, Any] | None = None


class SystemMessage(_Base):
    """Instructions for the model."""

    role: Literal["system"] = "system"
    content: str


class UserMessage(_Base):
    """What the user said (the task, or a later turn of a conversation).

    ``content`` is a string, or a list of parts (``plait.Text``, ``Image``, ``Document``,
    ``Audio``) when the user sent more than text; ``text`` reads either as text.
    """

    role: Literal["user"] = "user"
    content: str | list[Part]

    @property
    def text(self) -> str:
        """The content as text: media parts as short markers, never their bytes."""
        return text_of(self.content)


class AssistantMessage(_Base):
    """What the model said: text, tool calls, reasoning, a refusal."""

    role: Literal["assistant"] = "assistant"
    text: str = ""
    tool_calls: list[ToolCall] = Field(default_factory=list)
    thinking: list[Thinking] = Field(default_factory=list)
    refusal: str | None = None
    provider_data: dict[str, Any] | None = None


class ToolResultMessage(_Base):
    """The result of one tool call, as the model will see it.

    ``untrusted`` marks tool output as data, not instructions (prompt-injection defence);
    providers render it as the tool's answer, never as a system or user message.
    ``parts`` holds the media (images, documents, audio) a tool returned besides its text
    in ``content``; each provider sends them the way its API allows (docs/inputs.md).
    """

    role: Literal["tool"] = "tool"
    tool_call_id: str
    name: str
    content: str
    is_error: bool = False
    untrusted: bool = True
    parts: list[Part] = Field(default_factory=list)


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolResultMessage,
    Field(discriminator="role"),
]
"""One message of a conversation; discriminated by ``role``."""


class Usage(_Base):
    """Token and request counts. Add two with ``+``; all fields default to zero."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    tool_calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens

    def _counts(self) -> int:
        return (
            self.requests
            or self.input_tokens
            or self.output_tokens
            or self.tool_calls
            or self.cache_read_tokens
            or self.cache_write_tokens
            or self.reasoning_tokens
        )

    def __add__(self, other: Usage) -> Usage:
        if not self._counts():
            return other  # zero + other: frozen, so shared safely
        return Usage(
            requests=self.requests + other.requests,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cache_read_tokens=self.cache_read_tokens + other.cache_read_tokens,
            cache_write_tokens=self.cache_write_tokens + other.cache_write_tokens,
            reasoning_tokens=self.reasoning_tokens + other.reasoning_tokens,
            tool_calls=self.tool_calls + other.tool_calls,
        )


class ModelResponse(_Base):
    """One complete answer of a model: the message, usage and why it stopped."""

    message: AssistantMessage
    usage: Usage = Field(default_factory=Usage)
    finish_reason: FinishReason = "stop"
    raw_finish_reason: str | None = None
    model: str | None = None
    response_id: str | None = None


# --- streaming ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer's text."""

    text: str


@dataclass(frozen=True, slots=True)
class ThinkingDelta:
    """A piece of reasoning text."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A piece of a tool call. ``index`` identifies the call within the response;
    ``id`` and ``name`` arrive on the first piece, ``arguments`` accumulate."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class ResponseDone:
    """The last event of every stream: the complete response, as ``request`` would return."""

    response: ModelResponse


StreamEvent = TextDelta | ThinkingDelta | ToolCallDelta | ResponseDone
"""What ``Model.stream`` yields; a stream that ends without ``ResponseDone`` is incomplete."""
