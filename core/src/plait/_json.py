"""JSON from outside, decoded with its size and nesting bounded.

``json.loads`` accepts any depth its C scanner survives (~1,000 levels on CPython) and
then raises a bare ``RecursionError``; what a provider or tool does with a structure
that deep (validation, redaction, ``json.dumps`` of the history) may recurse further.
So every JSON from outside goes through here:

* ``loads_json`` decodes a response body or stream event: invalid JSON is a
  ``ProtocolError``, JSON nested deeper than ``Limits.json_depth`` (or too deep for the
  decoder) a ``ResponseTooLarge``;
* ``decode_arguments`` decodes a tool call's arguments into the dict the tool gets, or
  the message the model is sent back when they are too long, too deep, invalid or not an
  object.

The depth check is free for the common case: a text with no more opening brackets than
the limit cannot nest deeper (two ``count`` calls, in C), so only a text with many
brackets has its decoded value measured, level by level, each container once.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from ._errors import ProtocolError, ResponseTooLarge
from ._settings import current_limits

__all__ = ["decode_arguments", "loads_json", "nested_deeper"]


def _may_nest(text: str | bytes, max_depth: int) -> bool:
    """False when ``text`` has too few opening brackets to nest deeper than ``max_depth``."""
    if isinstance(text, str):
        return text.count("[") + text.count("{") > max_depth
    return text.count(b"[") + text.count(b"{") > max_depth


def nested_deeper(value: Any, max_depth: int) -> bool:
    """Whether the decoded ``value`` nests dicts and lists deeper than ``max_depth`` (a
    top-level dict or list is depth 1). Level by level, no recursion: each container is
    looked at once, and the walk stops at the first level past ``max_depth``."""
    if type(value) is not dict and type(value) is not list:
        return False
    level: list[Any] = [value]
    for _ in range(max_depth):
        deeper: list[Any] = []
        for container in level:
            for item in container.values() if type(container) is dict else container:
                if type(item) is dict or type(item) is list:
                    deeper.append(item)
        if not deeper:
            return False
        level = deeper
    return True


def _too_deep(max_depth: int, provider: str | None) -> ResponseTooLarge:
    return ResponseTooLarge(
        f"JSON nested deeper than {max_depth} levels (Limits.json_depth)",
        cap="json_depth",
        limit=max_depth,
        provider=provider,
    )


def loads_json(
    data: str | bytes | bytearray,
    *,
    max_depth: int | None = None,
    provider: str | None = None,
    what: str = "the response",
) -> Any:
    """``json.loads(data)`` for JSON from a server, with typed errors.

    Invalid JSON (or bytes that are not UTF-8) raises ``ProtocolError`` ("``what`` is not
    valid JSON"); JSON nested deeper than ``max_depth`` (default: the run's
    ``Limits.json_depth``, see ``current_limits``) raises ``ResponseTooLarge`` with
    ``cap="json_depth"`` — never a bare ``RecursionError`` or ``ValueError``.
    """
    if max_depth is None:
        max_depth = current_limits().json_depth
    if isinstance(data, bytearray):
        data = bytes(data)
    try:
        value = json.loads(data)
    except RecursionError:
        raise _too_deep(max_depth, provider) from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ProtocolError(f"{what} is not valid JSON", provider=provider) from None
    if _may_nest(data, max_depth) and nested_deeper(value, max_depth):
        raise _too_deep(max_depth, provider)
    if _may_have_surrogates(data):
        return _without_lone_surrogates(value)
    return value


def _may_have_surrogates(text: str | bytes) -> bool:
    """A ``\\udXXX`` escape in the text: JSON may spell a lone surrogate, which no UTF-8
    text holds (printing, storing or sending it back would fail far from here)."""
    if isinstance(text, str):
        return "\\ud" in text or "\\uD" in text
    return b"\\ud" in text or b"\\uD" in text


def _clean(text: str) -> str:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate: U+FFFD in its place
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _without_lone_surrogates(value: Any) -> Any:
    """``value`` with every string (keys too) valid UTF-8 (depth already bounded)."""
    if type(value) is str:
        return _clean(value)
    if type(value) is list:
        return [_without_lone_surrogates(v) for v in value]
    if type(value) is dict:
        return {_clean(k): _without_lone_surrogates(v) for k, v in value.items()}
    return value


def decode_arguments(
    arguments: str | Mapping[str, Any],
    *,
    max_chars: int | None = None,
    max_depth: int | None = None,
) -> dict[str, Any] | str:
    """A tool call's arguments as the dict the tool is called with, or, when they cannot
    be used, the message that tells the model why (it is sent back so the model can try
    again): too long (``max_chars``, default ``Limits.tool_argument_chars``), not valid
    JSON, nested deeper than ``max_depth`` (default ``Limits.json_depth``), or not an
    object. Empty text is ``{}``; a mapping (already decoded by the provider) is copied.
    """
    if isinstance(arguments, Mapping):
        return dict(arguments)
    if max_chars is None or max_depth is None:
        limits = current_limits()
        max_chars = limits.tool_argument_chars if max_chars is None else max_chars
        max_depth = limits.json_depth if max_depth is None else max_depth
    if len(arguments) > max_chars:
        return (
            f"the arguments are too long ({len(arguments):,} characters; "
            f"at most {max_chars:,} are accepted)"
        )
    if not arguments.strip():
        return {}
    too_deep = f"the arguments are nested too deeply (at most {max_depth} levels)"
    try:
        value = json.loads(arguments)
    except json.JSONDecodeError as exc:
        return f"the arguments are not valid JSON ({exc.msg} at position {exc.pos})"
    except RecursionError:  # deeper than the decoder goes, so deeper than the limit
        return too_deep
    if _may_nest(arguments, max_depth) and nested_deeper(value, max_depth):
        return too_deep
    if not isinstance(value, dict):
        return "the arguments must be a JSON object"
    return value
