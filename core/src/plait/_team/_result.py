"""What a team run returns: ``TeamResult``, one member's ``Result`` (or a nested team's
``TeamResult``) per member, in member order, with the usage summed."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pydantic_core

from .._messages import Usage
from .._run._result import Result

__all__ = ["MemberResult", "TeamMode", "TeamResult", "TeamStatus", "as_task", "not_run"]

TeamMode = Literal["parallel", "sequential"]
TeamStatus = Literal["success", "failed", "cancelled"]


@dataclass(frozen=True, slots=True)
class TeamResult:
    """The outcome of a team run, the same for every entry point.

    ``results`` maps each member's name to its ``Result`` (a nested team's
    ``TeamResult``), in member order; a member that never ran (a sequential team stopped
    before it, a cancelled team) has a ``Result`` with status ``skipped``. ``output`` is
    ``combine(results)`` when the team has ``combine``; else the last member's output
    for a sequential team (``None`` unless it succeeded), and ``{name: output}`` for a
    parallel one. ``status`` is ``success`` when every member succeeded, ``cancelled``
    when the team was cancelled, else ``failed``.
    """

    team: str
    mode: TeamMode
    status: TeamStatus
    results: Mapping[str, MemberResult]
    output: Any = None
    usage: Usage = field(default_factory=Usage)
    run_id: str = ""
    duration: float = 0.0
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every member succeeded."""
        return self.status == "success"

    @property
    def errors(self) -> dict[str, str]:
        """``{member: why}`` for each member that did not succeed (in member order)."""
        return {name: _why(r) for name, r in self.results.items() if not r.ok}

    @property
    def outputs(self) -> dict[str, Any]:
        """``{member: output}`` in member order (``None`` where a member produced none)."""
        return {name: r.output for name, r in self.results.items()}


MemberResult = Result[Any] | TeamResult


def _why(result: MemberResult) -> str:
    if isinstance(result, TeamResult):
        inner = "; ".join(f"{n}: {why}" for n, why in result.errors.items())
        return result.error or inner or result.status
    detail = result.error or result.stop_reason
    return f"{result.status} ({detail})" if detail != result.status else result.status


def not_run(name: str, why: str) -> Result[Any]:
    """The ``Result`` of a member the team never started (status ``skipped``)."""
    return Result(
        output=None,
        status="skipped",
        stop_reason="cancelled",
        run_id="",
        agent=name,
        last_agent=name,
        error=why,
    )


def as_task(output: Any) -> str:
    """A member's output as the next member's task: text as it is, anything else (a
    pydantic model, a parallel team's ``{name: output}``) as JSON."""
    if isinstance(output, str):
        return output
    return pydantic_core.to_json(output).decode()
