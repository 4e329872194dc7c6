"""What a tool call's outcome says in text: its output serialised and capped, its
arguments decoded within the run's limits, and its errors as the model is told them
(never the exception's text) and as the debug log keeps them (redacted)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pydantic_core
from pydantic import BaseModel, ValidationError

from .._call import CallInfo
from .._errors import Retry
from .._json import decode_arguments
from .._messages import ToolCall
from .._settings import Limits
from ._completion import format_validation_error
from ._state import RunState

__all__ = ["cap", "decode", "detail", "error_message", "keep_detail", "serialise"]


def serialise(value: Any) -> str:
    """Tool output as text for the model; raises ``TypeError`` when it has no JSON form."""
    if isinstance(value, str):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump_json()
    try:
        return pydantic_core.to_json(value).decode()
    except pydantic_core.PydanticSerializationError as exc:
        raise TypeError(f"{type(value).__name__} cannot be serialised") from exc


def cap(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[truncated: {len(text) - limit} more characters]"


def decode(arguments: str | Mapping[str, Any], limits: Limits) -> dict[str, Any] | str:
    """The arguments as a dict, or why they cannot be used (told to the model): bounded
    in size and nesting by the run's limits (``tool_argument_chars``, ``json_depth``)."""
    return decode_arguments(
        arguments, max_chars=limits.tool_argument_chars, max_depth=limits.json_depth
    )


def error_message(name: str, info: CallInfo[Any], timeout: float | None) -> str:
    err = info.error
    if isinstance(err, Retry):
        return err.message
    if isinstance(err, ValidationError):
        return f"Invalid arguments for tool {name!r}:\n{format_validation_error(err)}"
    if info.timed_out:
        return f"Tool {name!r} timed out after {timeout:g}s."
    return (
        f"Tool {name!r} failed ({type(err).__name__}); the details were withheld. "
        "Try different arguments or another approach."
    )


def detail(st: RunState, err: BaseException) -> str:
    """``Type: message``, redacted by the run's policy (never shown to the model)."""
    detail = f"{type(err).__name__}: {err}" if str(err) else type(err).__name__
    return detail if st.redact is None else st.redact(detail)


def keep_detail(st: RunState, c: ToolCall, err: BaseException) -> None:
    """The full error, redacted, for the local debug log (``tool.end`` shows its start)."""
    log = logging.getLogger("plait.tools")
    if log.isEnabledFor(logging.DEBUG):
        log.debug("run %s: tool %r (call %s) failed: %s", st.run_id, c.name, c.id, detail(st, err))
