"""The text inside a guardrail's subject, and the subject rebuilt with that text changed.

What a subject is at each stage (plait's run loop): ``input`` — the task, a ``str``;
``output`` — the run's output, a ``str`` or a structured value (a pydantic model, a
dict, a list); ``tool_call`` — a ``plait.ToolCall`` whose ``arguments`` is JSON text;
``tool_result`` — the tool's result serialised to a ``str``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from plait import ToolCall

__all__ = ["CannotRewrite", "rewrite", "size", "texts"]

_SCALARS = (int, float)


class CannotRewrite(ValueError):
    """The subject's text cannot be changed without changing its type."""


def _leaves(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _leaves(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from _leaves(item)
    elif isinstance(value, BaseModel):
        yield from _leaves(value.model_dump())
    elif isinstance(value, _SCALARS) and not isinstance(value, bool):
        yield str(value)  # a card number may come back as an int


def _arguments(call: ToolCall) -> Any:
    try:
        return call.parsed_arguments()
    except ValueError:
        return call.arguments  # invalid JSON: the raw text is what there is to check


def texts(subject: Any) -> list[str]:
    """Every string the subject holds (a tool call: its argument values)."""
    if isinstance(subject, ToolCall):
        return list(_leaves(_arguments(subject)))
    return list(_leaves(subject))


def _mapped(value: Any, fn: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fn(value)
    if isinstance(value, Mapping):
        return {k: _mapped(v, fn) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_mapped(v, fn) for v in value)
    if isinstance(value, _SCALARS) and not isinstance(value, bool) and fn(str(value)) != str(value):
        raise CannotRewrite(f"a {type(value).__name__} value cannot be masked")
    return value


def rewrite(subject: Any, fn: Callable[[str], str]) -> Any:
    """``subject`` with every string ``s`` replaced by ``fn(s)``, of the same type.

    Raises ``CannotRewrite`` when that is impossible (a number to mask, a model whose
    validation refuses the masked text): the caller must then block, not allow.
    """
    if isinstance(subject, ToolCall):
        args = _arguments(subject)
        new = fn(args) if isinstance(args, str) else json.dumps(_mapped(args, fn))
        return subject.model_copy(update={"arguments": new})
    if isinstance(subject, BaseModel):
        try:
            return type(subject).model_validate(_mapped(subject.model_dump(), fn))
        except ValidationError as exc:
            raise CannotRewrite(f"the masked {type(subject).__name__} is not valid") from exc
    if isinstance(subject, str | Mapping | list | tuple):
        return _mapped(subject, fn)
    if any(fn(t) != t for t in _leaves(subject)):
        raise CannotRewrite(f"a {type(subject).__name__} cannot be masked")
    return subject


def size(subject: Any) -> int:
    """Characters of the subject as the model or the caller sees it."""
    if isinstance(subject, str):
        return len(subject)
    if isinstance(subject, ToolCall):
        return len(subject.arguments)
    if isinstance(subject, BaseModel):
        return len(subject.model_dump_json())
    return len(json.dumps(subject, default=str))
