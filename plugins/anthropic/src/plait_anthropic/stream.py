"""The Anthropic streaming state machine: SSE events → plait deltas → one ``ModelResponse``.

``StreamState.feed`` takes one decoded server-sent event and returns the deltas to
yield; ``finish`` returns the complete response once ``message_stop`` was seen. The
blocks it assembles have the shape of the non-streaming body's ``content``, and the
response is built by the same function, so streamed and non-streamed answers agree.

Failure rules: an ``error`` event raises the error its type maps to (as the HTTP status
would); a ``data:`` line that is not JSON, or a stream that ends before
``message_stop`` (or inside a tool call), is a ``ProtocolError`` carrying the partial
text — never a success, and a half-streamed tool input is never turned into ``{}``.
Unknown event and delta types are ignored: the API may add new ones.
"""

from __future__ import annotations

import json
from types import MappingProxyType
from typing import Any

from plait.provider import (
    ModelResponse,
    ProtocolError,
    ProviderError,
    StreamEvent,
    TextDelta,
    ThinkingDelta,
    ToolCallDelta,
)

from .errors import error_from_event
from .response import checked
from .wire import Block

__all__ = ["StreamState"]

_TOOL_INPUT_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})


class StreamState:
    """Accumulates one streamed message. Not reusable: one instance per request."""

    __slots__ = (
        "_blocks",
        "_done",
        "_inputs",
        "_message",
        "_open",
        "_output_tool",
        "_provider",
        "_secrets",
        "_stop_reason",
        "_text",
        "_thinking",
        "_tool_index",
        "_usage",
    )

    def __init__(
        self, *, provider: str, output_tool: str | None = None, secrets: tuple[str, ...] = ()
    ) -> None:
        self._provider = provider
        self._secrets = secrets
        self._output_tool = output_tool
        self._blocks: dict[int, Block] = {}
        # Pieces are joined once, at content_block_stop: no quadratic string building.
        self._text: dict[int, list[str]] = {}
        self._thinking: dict[int, list[str]] = {}
        self._inputs: dict[int, list[str]] = {}
        self._tool_index: dict[int, int] = {}
        self._open: set[int] = set()
        self._message: dict[str, Any] = {}
        self._usage: dict[str, Any] = {}
        self._stop_reason: str | None = None
        self._done = False

    @property
    def done(self) -> bool:
        """True once ``message_stop`` arrived."""
        return self._done

    def partial_text(self) -> str:
        """The text streamed so far (kept on errors raised mid-stream)."""
        return "".join("".join(self._text[i]) for i in sorted(self._text))

    def feed(self, data: str, event: str | None = None) -> list[StreamEvent]:
        """Handle one server-sent event; return the deltas it produced."""
        if self._done or not data:
            return []  # after the end, or an event without data (``event: ping``)
        try:
            payload = json.loads(data)
        except ValueError:
            raise self._protocol_error("a stream event's data is not valid JSON") from None
        if not isinstance(payload, dict):
            raise self._protocol_error("a stream event's data is not a JSON object")
        kind = payload.get("type") or event
        handler = _HANDLERS.get(kind or "")
        if handler is None:
            return []  # ping, or an event type newer than this plugin
        try:
            return handler(self, payload)
        except (KeyError, TypeError, AttributeError, IndexError):
            raise self._protocol_error(f"malformed {kind} event") from None

    def finish(self) -> ModelResponse:
        """The complete response; ``ProtocolError`` if the stream ended early."""
        if not self._done:
            raise self._protocol_error("the stream ended before message_stop")
        positions = sorted(self._blocks)
        blocks = [self._blocks[i] for i in positions]
        raw = {
            n: "".join(self._inputs[i]) or "{}"
            for n, i in enumerate(positions)
            if i in self._inputs and blocks[n].get("type") == "tool_use"
        }
        return checked(
            self._provider,
            blocks,
            stop_reason=self._stop_reason,
            usage=self._usage,
            model=self._message.get("model"),
            response_id=self._message.get("id"),
            output_tool=self._output_tool,
            raw_arguments=raw,
        )

    # --- event handlers ---------------------------------------------------------------

    def _on_message_start(self, payload: dict[str, Any]) -> list[StreamEvent]:
        message = payload["message"]
        self._message = message
        self._usage = dict(message.get("usage") or {})
        return []

    def _on_block_start(self, payload: dict[str, Any]) -> list[StreamEvent]:
        index = int(payload["index"])
        block = dict(payload["content_block"])
        self._blocks[index] = block
        self._open.add(index)
        kind = block.get("type")
        if kind in _TOOL_INPUT_BLOCKS:
            self._inputs[index] = []
        elif kind == "text":
            self._text[index] = [block.get("text") or ""]
            return [TextDelta(block["text"])] if block.get("text") else []
        elif kind == "thinking":
            self._thinking[index] = [block.get("thinking") or ""]
            return [ThinkingDelta(block["thinking"])] if block.get("thinking") else []
        if kind == "tool_use" and block.get("name") != self._output_tool:
            tool = self._tool_index[index] = len(self._tool_index)
            return [ToolCallDelta(tool, id=block["id"], name=block["name"])]
        return []

    def _on_block_delta(self, payload: dict[str, Any]) -> list[StreamEvent]:
        index = int(payload["index"])
        block = self._blocks[index]
        delta = payload["delta"]
        kind = delta.get("type")
        if kind == "text_delta":
            self._text[index].append(delta["text"])
            return [TextDelta(delta["text"])]
        if kind == "input_json_delta":
            piece = delta["partial_json"]
            self._inputs[index].append(piece)
            if not piece:
                return []
            if index in self._tool_index:
                return [ToolCallDelta(self._tool_index[index], arguments=piece)]
            return [TextDelta(piece)] if block.get("name") == self._output_tool else []
        if kind == "thinking_delta":
            self._thinking[index].append(delta["thinking"])
            return [ThinkingDelta(delta["thinking"])]
        if kind == "signature_delta":
            block["signature"] = (block.get("signature") or "") + delta["signature"]
        elif kind == "citations_delta":
            block.setdefault("citations", []).append(delta["citation"])
        return []

    def _on_block_stop(self, payload: dict[str, Any]) -> list[StreamEvent]:
        index = int(payload["index"])
        self._open.discard(index)
        block = self._blocks[index]
        if index in self._text:
            block["text"] = "".join(self._text[index])
        elif index in self._thinking:
            block["thinking"] = "".join(self._thinking[index])
        pieces = self._inputs.get(index)
        if pieces:
            text = "".join(pieces)
            try:
                block["input"] = json.loads(text)
            except ValueError:
                # Kept as streamed: the kernel tells the model its arguments were invalid.
                block["input"] = {}
        return []

    def _on_message_delta(self, payload: dict[str, Any]) -> list[StreamEvent]:
        delta = payload.get("delta") or {}
        if delta.get("stop_reason") is not None:
            self._stop_reason = delta["stop_reason"]
        # Figures in message_delta are cumulative: they replace message_start's.
        self._usage.update({k: v for k, v in (payload.get("usage") or {}).items() if v is not None})
        return []

    def _on_message_stop(self, payload: dict[str, Any]) -> list[StreamEvent]:
        if self._open:
            raise self._protocol_error("message_stop arrived inside an open content block")
        self._done = True
        return []

    def _on_error(self, payload: dict[str, Any]) -> list[StreamEvent]:
        raise error_from_event(
            payload,
            provider=self._provider,
            partial=self.partial_text() or None,
            secrets=self._secrets,
        )

    def _protocol_error(self, message: str) -> ProviderError:
        return ProtocolError(message, provider=self._provider, partial=self.partial_text() or None)


_HANDLERS = MappingProxyType(
    {
        "message_start": StreamState._on_message_start,
        "content_block_start": StreamState._on_block_start,
        "content_block_delta": StreamState._on_block_delta,
        "content_block_stop": StreamState._on_block_stop,
        "message_delta": StreamState._on_message_delta,
        "message_stop": StreamState._on_message_stop,
        "error": StreamState._on_error,
    }
)
