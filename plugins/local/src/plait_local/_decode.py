"""Turns the generated text, piece by piece, into plait's stream events and final message.

The grammar (``_grammar``) guarantees the shape, so decoding is deterministic: output that
starts with ``<`` while tools are offered is a call (``<tool_call>\\n{"name": ...,
"arguments": ...}\\n</tool_call>``), anything else is text. Call arguments are streamed
as ``ToolCallDelta`` pieces as soon as they are generated; the end of the arguments is
found by tracking JSON nesting, so the wrapper's closing characters never leak into them.
Stop strings (``ModelSettings.stop``) apply to text: text that could be the start of a
stop string is held back until it is known not to be one.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import TYPE_CHECKING

from plait import AssistantMessage, TextDelta, ToolCall, ToolCallDelta

from ._grammar import CALL_CLOSE, Plan, call_prefix

if TYPE_CHECKING:
    from plait.provider import StreamEvent

__all__ = ["Decoder"]


class Decoder:
    """Feed generated text with ``feed``; read the message with ``message`` at the end."""

    def __init__(self, plan: Plan, stop: Sequence[str] = ()) -> None:
        self._plan = plan
        self._stop = tuple(s for s in stop if s)
        self._buf = ""
        self._mode = "text" if not plan.tools else "undecided"
        self._sent = 0  # text mode: characters already emitted
        self._call: ToolCall | None = None
        self._args_start = 0
        self._args_end: int | None = None
        self._scan = _JsonEnd()
        self.stopped = False
        """A stop string was generated: the caller should stop generating."""

    def feed(self, piece: str) -> list[StreamEvent]:
        """Take the next piece of generated text; return the events it completes."""
        if self.stopped or not piece:
            return []
        self._buf += piece
        if self._mode == "undecided":
            self._mode = "call" if self._buf.startswith("<") else "text"
        if self._mode == "text":
            return self._text_events()
        return self._call_events()

    def message(self) -> AssistantMessage:
        """The complete message (call arguments cut at the end of their JSON value)."""
        if self._mode != "call":
            return AssistantMessage(text=self._buf)
        if self._call is None:  # cut off before the tool's name was complete
            return AssistantMessage(tool_calls=[ToolCall(id=_new_id(), name="", arguments="")])
        call = self._call.model_copy(update={"arguments": self._args()})
        return AssistantMessage(tool_calls=[call])

    @property
    def call_complete(self) -> bool:
        """A call was generated through its closing tag (not cut by a token limit)."""
        return self._call is not None and self._buf.rstrip().endswith(CALL_CLOSE.strip())

    # --- text ---------------------------------------------------------------------------

    def _text_events(self) -> list[StreamEvent]:
        for stop in self._stop:
            at = self._buf.find(stop, max(0, self._sent - len(stop)))
            if at >= 0:
                self._buf = self._buf[:at]
                self.stopped = True
        ready = len(self._buf) if self.stopped else len(self._buf) - self._held_back()
        if ready <= self._sent:
            return []
        text, self._sent = self._buf[self._sent : ready], ready
        return [TextDelta(text)]

    def _held_back(self) -> int:
        """How many trailing characters could still begin a stop string."""
        longest = 0
        for stop in self._stop:
            for n in range(min(len(stop) - 1, len(self._buf)), longest, -1):
                if self._buf.endswith(stop[:n]):
                    longest = n
                    break
        return longest

    # --- calls --------------------------------------------------------------------------

    def _call_events(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        if self._call is None:
            name = next((n for n in self._plan.tools if self._buf.startswith(call_prefix(n))), None)
            if name is None:
                return events
            self._call = ToolCall(id=_new_id(), name=name, arguments="")
            self._args_start = self._sent = len(call_prefix(name))
            events.append(ToolCallDelta(index=0, id=self._call.id, name=name))
        if self._args_end is None:
            end = self._scan.feed(self._buf[self._sent :])
            if end is not None:
                self._args_end = self._sent + end
        ready = self._args_end if self._args_end is not None else self._streamable()
        if ready > self._sent:
            events.append(ToolCallDelta(index=0, arguments=self._buf[self._sent : ready]))
            self._sent = ready
        return events

    def _streamable(self) -> int:
        # Objects and arrays are streamed as they grow; a scalar waits for the end.
        return len(self._buf) if self._scan.nested else self._sent

    def _args(self) -> str:
        if self._args_end is not None:
            return self._buf[self._args_start : self._args_end]
        rest = self._buf[self._args_start :].rstrip()
        wrapper = "}" + CALL_CLOSE
        return rest.removesuffix(wrapper).rstrip() if rest.endswith(wrapper) else rest


class _JsonEnd:
    """Finds where one JSON object or array ends, fed in pieces (strings and escapes aware)."""

    def __init__(self) -> None:
        self.depth = 0
        self.nested = False
        self._in_string = False
        self._escaped = False
        self._scalar = False

    def feed(self, text: str) -> int | None:
        """Index in ``text`` just past the value's end, or ``None`` if it has not ended."""
        for i, ch in enumerate(text):
            if self._scalar:
                return None
            if self._in_string:
                if self._escaped:
                    self._escaped = False
                elif ch == "\\":
                    self._escaped = True
                elif ch == '"':
                    self._in_string = False
            elif ch == '"':
                self._in_string = True
            elif ch in "{[":
                self.depth += 1
                self.nested = True
            elif ch in "}]":
                self.depth -= 1
                if self.depth == 0:
                    return i + 1
            elif not self.nested and not ch.isspace():
                self._scalar = True
        return None


def _new_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"
