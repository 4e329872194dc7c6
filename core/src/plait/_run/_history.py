"""Conversation history handed to a run: validated, and repaired before it is sent.

A stored conversation may break off after a tool call whose result was never recorded
(a crash, a kill), or carry a result whose call is not there (history cut by hand, a
bad import) or a second result for one call. Providers reject all three, so the history
is repaired both ways before the first request (RELIABILITY.md §6): every unanswered
call gets an error result, and orphan and duplicate results are left out.
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
    """A copy of ``history`` in which every tool call has exactly one result, right after
    its assistant message; results with no open call (orphans) or a second result for a
    call (duplicates) are left out."""
    out: list[Message] = []
    open_calls: list[ToolCall] = []
    open_ids: set[str] = set()
    answered: set[str] = set()

    def close_open() -> None:
        for c in open_calls:
            if c.id not in answered:
                out.append(
                    ToolResultMessage(
                        tool_call_id=c.id, name=c.name, is_error=True, content=UNANSWERED
                    )
                )
                answered.add(c.id)  # a repeated call id gets one result, not two
        open_calls.clear()
        open_ids.clear()
        answered.clear()

    for m in history:
        if isinstance(m, ToolResultMessage):
            if m.tool_call_id in open_ids and m.tool_call_id not in answered:
                answered.add(m.tool_call_id)
                out.append(m)
            continue  # an orphan or a duplicate result
        close_open()
        out.append(m)
        if isinstance(m, AssistantMessage) and m.tool_calls:
            open_calls.extend(m.tool_calls)
            open_ids.update(c.id for c in m.tool_calls)
    close_open()
    return out
