"""The context a tool, verifier or guardrail receives about the run it serves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from ._messages import Usage

__all__ = ["Context"]

DepsT = TypeVar("DepsT")


@dataclass(slots=True)
class Context(Generic[DepsT]):
    """Per-call view of a run: ``deps`` from the caller, ids, usage so far, the agent name.

    Declare a first parameter ``ctx: plait.Context`` on a tool function to receive it.
    """

    run_id: str
    deps: DepsT = None  # type: ignore[assignment]
    agent: str | None = None
    usage: Usage = field(default_factory=Usage)
    tool_call_id: str | None = None
    retry: int = 0
    thread_id: str | None = None
    parent_run_id: str | None = None
    _cancel_requested: bool = False
    _cancel_check: Callable[[], bool] | None = None

    def cancelled(self) -> bool:
        """True once the run was asked to stop; long tools should check and return early."""
        check = self._cancel_check
        return self._cancel_requested or (check is not None and check())
