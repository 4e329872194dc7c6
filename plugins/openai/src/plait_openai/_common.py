"""Pieces shared by the Chat Completions and Responses wire formats."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any

from plait import ProtocolError

__all__ = ["dig_int", "loads_chunk", "new_call_id", "strict_compatible", "tool_choice_name"]


def dig_int(data: Any, *path: str) -> int:
    """``data[path[0]][path[1]]...`` as an int, ``0`` when any step is missing or null."""
    for key in path:
        # ``dict`` first: the common case, and far cheaper than the ``Mapping`` ABC check.
        if type(data) is not dict and not isinstance(data, Mapping):
            return 0
        data = data.get(key)
    return data if isinstance(data, int) else 0


def loads_chunk(data: str, *, provider: str) -> Any:
    """One SSE ``data:`` payload as JSON; malformed JSON is a ``ProtocolError``."""
    try:
        return json.loads(data)
    except ValueError:
        raise ProtocolError(
            f"malformed JSON in the event stream: {data[:80]!r}", provider=provider
        ) from None


def new_call_id() -> str:
    """An id for a tool call the server sent without one (some compatible hosts do)."""
    return f"call_{secrets.token_hex(12)}"


def strict_compatible(schema: Any) -> bool:
    """Whether OpenAI's strict mode accepts ``schema`` as is: every object closed
    (``additionalProperties: false``) and every property required."""
    if isinstance(schema, list):
        return all(strict_compatible(item) for item in schema)
    if not isinstance(schema, Mapping):
        return True
    properties = schema.get("properties")
    if schema.get("type") == "object" or isinstance(properties, Mapping):
        if schema.get("additionalProperties") is not False:
            return False
        if isinstance(properties, Mapping) and set(schema.get("required", ())) != set(properties):
            return False
    return all(
        strict_compatible(value) for value in schema.values() if isinstance(value, Mapping | list)
    )


def tool_choice_name(choice: str) -> str | None:
    """The tool name when ``choice`` names one tool, ``None`` for auto/none/required."""
    return None if choice in ("auto", "none", "required") else choice
