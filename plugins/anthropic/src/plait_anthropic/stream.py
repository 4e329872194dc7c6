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

Validation has one shape: handlers read required fields with ``payload["key"]`` and
check types with ``_str`` / ``_index`` / ``_object``, which raise ``TypeError``; ``feed``
turns any ``KeyError``, ``TypeError``, ``ValueError``... of a handler into the
``ProtocolError`` "malformed <type> event". So no value of the wrong type reaches a
delta or a block.
"""

from __future__ import annotations

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
    loads_json,
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
            payload = loads_json(data, provider=self._provider, what="a stream event's data")
        except ProtocolError as error:  # not JSON, or nested too deep
            error.partial = self.partial_text() or None
            raise
        if type(payload) is not dict:
            raise self._protocol_error("a stream event's data is not a JSON object")
        kind = payload.get("type") or event
        if kind is None:
            return []  # no type at all: nothing to read
        if type(kind) is not str:
            raise self._protocol_error("a stream event's type is not a string")
        handler = _HANDLERS.get(kind)
        if handler is None:
            return []  # ping, or an event type newer than this plugin
        try:
            return handler(self, payload)
        except (KeyError, TypeError, AttributeError, IndexError, ValueError):
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
        message = _object(payload["message"])
        self._message = message
        self._usage = dict(_object(message.get("usage") or {}))
        return []

    def _on_block_start(self, payload: dict[str, Any]) -> list[StreamEvent]:
        index = _index(payload["index"])
        block = dict(_object(payload["content_block"]))
        self._blocks[index] = block
        self._open.add(index)
        kind = block.get("type")
        if kind in _TOOL_INPUT_BLOCKS:
            self._inputs[index] = []
        elif kind == "text":
            text = _str(block.get("text") or "")
            self._text[index] = [text]
            return [TextDelta(text)] if text else []
        elif kind == "thinking":
            thought = _str(block.get("thinking") or "")
            self._thinking[index] = [thought]
            return [ThinkingDelta(thought)] if thought else []
        if kind == "tool_use" and block.get("name") != self._output_tool:
            tool = self._tool_index[index] = len(self._tool_index)
            return [ToolCallDelta(tool, id=_str(block["id"]), name=_str(block["name"]))]
        return []

    def _on_block_delta(self, payload: dict[str, Any]) -> list[StreamEvent]:
        index = _index(payload["index"])
        block = self._blocks[index]
        delta = _object(payload["delta"])
        kind = delta.get("type")
        if kind == "text_delta":
            text = _str(delta["text"])
            self._text[index].append(text)
            return [TextDelta(text)]
        if kind == "input_json_delta":
            piece = _str(delta["partial_json"])
            self._inputs[index].append(piece)
            if not piece:
                return []
            if index in self._tool_index:
                return [ToolCallDelta(self._tool_index[index], arguments=piece)]
            return [TextDelta(piece)] if block.get("name") == self._output_tool else []
        if kind == "thinking_delta":
            thought = _str(delta["thinking"])
            self._thinking[index].append(thought)
            return [ThinkingDelta(thought)]
        if kind == "signature_delta":
            block["signature"] = _str(block.get("signature") or "") + _str(delta["signature"])
        elif kind == "citations_delta":
            block.setdefault("citations", []).append(delta["citation"])
        return []

    def _on_block_stop(self, payload: dict[str, Any]) -> list[StreamEvent]:
        index = _index(payload["index"])
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
                block["input"] = loads_json(text, provider=self._provider)
            except ProtocolError:  # invalid JSON, or nested too deep
                # Kept as streamed: the kernel tells the model its arguments were invalid.
                block["input"] = {}
        return []

    def _on_message_delta(self, payload: dict[str, Any]) -> list[StreamEvent]:
        delta = _object(payload.get("delta") or {})
        if delta.get("stop_reason") is not None:
            self._stop_reason = _str(delta["stop_reason"])
        # Figures in message_delta are cumulative: they replace message_start's.
        usage = _object(payload.get("usage") or {})
        self._usage.update({k: v for k, v in usage.items() if v is not None})
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


def _str(value: Any) -> str:
    """``value``, which must be a string (a ``TypeError`` reported by ``feed``)."""
    if type(value) is str:
        return value
    raise TypeError(f"{type(value).__name__} where a string belongs")


def _index(value: Any) -> int:
    """A content block's ``index``: a non-negative integer."""
    if type(value) is int and value >= 0:
        return value
    raise TypeError(f"block index {type(value).__name__}")


def _object(value: Any) -> dict[str, Any]:
    """``value``, which must be a JSON object."""
    if type(value) is dict:
        return value
    raise TypeError(f"{type(value).__name__} where an object belongs")


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
