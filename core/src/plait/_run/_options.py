"""The options every entry point accepts, and how an agent's defaults merge with a run's."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Literal, TypedDict

from .._settings import Limits, ModelSettings

if TYPE_CHECKING:
    from .._contracts import Model
    from .._kernel import Kernel
    from .._retry import RetryPolicy

__all__ = ["OPTION_NAMES", "OnLimit", "RunOptions", "merge_options"]

OnLimit = Literal["raise", "partial", "final_answer"]


class RunOptions(TypedDict, total=False):
    """Keyword options of ``plait.run`` / ``arun`` / ``stream`` / ``iter`` / ``start``.

    ``output`` (default ``str``) is passed separately for typing. ``max_turns`` is a
    shorthand for ``limits=Limits(turns=...)``.
    """

    tools: Sequence[Any]
    model: Model | str | None
    instructions: str | None
    deps: Any
    message_history: Sequence[Any]
    settings: ModelSettings | None
    limits: Limits | None
    max_turns: int | None
    guardrails: Sequence[Any]
    verifiers: Sequence[Any]
    handlers: Sequence[Any]
    require_completion: bool | None
    raise_on_failure: bool
    on_limit: OnLimit
    kernel: Kernel | None
    name: str | None
    run_id: str | None
    parent_run_id: str | None
    retry_policy: RetryPolicy | None
    redact: Any  # a plait.Redactor, a str -> str callable, or False (off)
    approve: Any  # (ApprovalRequest) -> bool | Approval, sync or async
    thread: Any  # a thread name (str) or a plait.Thread: history kept in a store
    store: str | bool | None  # a store URL (True: the configured default) to record the run
    resume: str | None  # the id of a recorded run to continue
    on_unknown_outcome: Literal["tell_model", "fail"]  # resume: started, unrecorded calls


OPTION_NAMES = frozenset(RunOptions.__annotations__) | {"output"}


def merge_options(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``override`` wins option by option; ``settings`` merge field by field (base < run)."""
    unknown = set(override) - OPTION_NAMES
    if unknown:
        raise TypeError(f"unknown run option(s): {', '.join(sorted(unknown))}")
    if not base:
        return override  # nothing to merge: no copy
    merged = {**base, **override}
    a, b = base.get("settings"), override.get("settings")
    if a is not None and b is not None:
        merged["settings"] = a.merge(b)
    return merged


DEFAULT_LIMITS = Limits()
"""Shared by runs that set no limits (frozen): one object less per run in flight."""


def effective_limits(options: dict[str, Any]) -> Limits:
    """``limits`` with the ``max_turns`` shorthand applied."""
    limits: Limits = options.get("limits") or DEFAULT_LIMITS
    max_turns = options.get("max_turns")
    if max_turns is not None:
        limits = Limits.model_validate({**limits.model_dump(), "turns": max_turns})
    return limits
