"""Pieces shared by the Chat Completions and Responses wire formats."""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from plait import ProtocolError
from plait.provider import loads_json

__all__ = [
    "arguments_text",
    "as_list",
    "as_object",
    "as_str",
    "dig_int",
    "loads_chunk",
    "new_call_id",
    "strict_compatible",
    "tool_choice_name",
]

_EMPTY: Mapping[str, Any] = MappingProxyType({})
_MAX_COUNT = 2**53  # the largest integer a JSON number holds exactly

# --- typed access to decoded JSON ------------------------------------------------------
# The one validation pattern of the wire parsers: every field read from a server goes
# through these, so a wrong type is a ``ProtocolError`` naming the field, never a
# ``KeyError``/``TypeError``/``AttributeError`` from deep inside. ``None`` (absent or
# null) is the empty value; the exact-type test comes first, so the happy path costs one
# ``type()`` comparison.


def _malformed(where: str, expected: str, value: Any, provider: str) -> ProtocolError:
    return ProtocolError(
        f"malformed response: {where} is {type(value).__name__}, not {expected}",
        provider=provider,
    )


def as_object(value: Any, where: str, *, provider: str) -> Mapping[str, Any]:
    """``value`` as a JSON object; ``None`` is an empty one."""
    if type(value) is dict:
        return value
    if value is None:
        return _EMPTY
    if isinstance(value, Mapping):
        return value
    raise _malformed(where, "an object", value, provider)


def as_list(value: Any, where: str, *, provider: str) -> list[Any]:
    """``value`` as a JSON array; ``None`` is an empty one."""
    if type(value) is list:
        return value
    if value is None:
        return []
    raise _malformed(where, "an array", value, provider)


def as_str(value: Any, where: str, *, provider: str) -> str | None:
    """``value`` as a string, ``None`` kept."""
    if value is None or type(value) is str:
        return value
    raise _malformed(where, "a string", value, provider)


def arguments_text(value: Any, where: str, *, provider: str) -> str:
    """A tool call's ``arguments`` as JSON text: a string as sent, an object (some
    compatible hosts send one) encoded, ``None`` as ``""``."""
    if type(value) is str:
        return value
    if value is None:
        return ""
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    raise _malformed(where, "a string", value, provider)


def dig_int(data: Any, *path: str) -> int:
    """``data[path[0]][path[1]]...`` as a count: ``0`` when any step is missing or null,
    or the value is not an int in ``0..2**53`` (a negative or absurd count from a server
    must not corrupt usage totals and token budgets)."""
    for key in path:
        # ``dict`` first: the common case, and far cheaper than the ``Mapping`` ABC check.
        if type(data) is not dict and not isinstance(data, Mapping):
            return 0
        data = data.get(key)
    return data if type(data) is int and 0 <= data <= _MAX_COUNT else 0


def loads_chunk(data: str, *, provider: str) -> Any:
    """One SSE ``data:`` payload as JSON, bounded by the kit's ``loads_json``: malformed
    JSON is a ``ProtocolError``, JSON nested too deep a ``ResponseTooLarge``."""
    return loads_json(data, provider=provider, what="a stream event")


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
