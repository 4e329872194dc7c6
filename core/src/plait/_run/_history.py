"""Conversation history handed to a run: validated, and repaired before it is sent.

A stored conversation may break off after a tool call whose result was never recorded
(a crash, a kill); providers reject such a history, so every unanswered call gets an
error result before the first request (RELIABILITY.md §6).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from pydantic import TypeAdapter

from .._messages import AssistantMessage, Message, ToolCall, ToolResultMessage

__all__ = ["load_history", "repair_history"]

UNANSWERED = "Not run: the call has no recorded result."


@functools.lru_cache(maxsize=1)
def _adapter() -> TypeAdapter[list[Message]]:
    return TypeAdapter(list[Message])


def load_history(items: Sequence[Any]) -> list[Message]:
    """Messages from message objects or their JSON dicts (a store's rows)."""
    if all(not isinstance(m, dict) for m in items):
        return list(items)
    return _adapter().validate_python(list(items))


def repair_history(history: Sequence[Message]) -> list[Message]:
    """A copy of ``history`` in which every tool call has a result."""
    out: list[Message] = []
    open_calls: list[ToolCall] = []
    answered: set[str] = set()

    def close_open() -> None:
        for c in open_calls:
            if c.id not in answered:
                out.append(
                    ToolResultMessage(
                        tool_call_id=c.id, name=c.name, is_error=True, content=UNANSWERED
                    )
                )
        open_calls.clear()
        answered.clear()

    for m in history:
        if isinstance(m, ToolResultMessage):
            answered.add(m.tool_call_id)
        else:
            close_open()
        out.append(m)
        if isinstance(m, AssistantMessage):
            open_calls.extend(m.tool_calls)
    close_open()
    return out
