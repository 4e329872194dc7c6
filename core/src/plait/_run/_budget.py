"""Budgets shared with sub-runs: a run started inside a tool draws from its parents' limits.

Each run keeps its own counters (``turns``, ``tool_calls``, ``usage``); a sub-run also
charges every run above it as it goes: its tool calls and usage are added to theirs
(so a parent's ``Result.usage`` includes its sub-runs) and its turns to their
``sub_turns``. A limit is reached when the run's own counters, or any ancestor's, reach
that run's ``Limits``: an agent that calls agents cannot exceed the top-level budgets.
Runs share one event loop, or a sync tool's thread waits on the run's behalf, so plain
counters suffice (no locks).
"""

from __future__ import annotations

from collections.abc import Iterator

from .._messages import Usage
from ._state import RunState

__all__ = ["charge_tool_call", "charge_turn", "charge_usage", "limit_hit", "tool_calls_over"]


def _ancestors(st: RunState) -> Iterator[RunState]:
    parent = st.parent
    while parent is not None:
        yield parent
        parent = parent.parent


def charge_turn(st: RunState) -> None:
    """Count one model turn of ``st`` (its own ``turns`` is counted by the step)."""
    for a in _ancestors(st):
        a.sub_turns += 1


def charge_tool_call(st: RunState) -> None:
    """Count one tool call against ``st`` and every run above it."""
    st.tool_calls += 1
    if st.parent is not None:
        for a in _ancestors(st):
            a.tool_calls += 1


def charge_usage(st: RunState, usage: Usage) -> None:
    """Add one response's usage to ``st`` and every run above it."""
    st.usage = st.usage + usage
    if st.parent is not None:
        for a in _ancestors(st):
            a.usage = a.usage + usage


def _own_limit(st: RunState) -> str | None:
    lim, u = st.limits, st.usage
    if lim.turns is not None and st.turns + st.sub_turns >= lim.turns:
        return "turns"
    if lim.input_tokens is not None and u.input_tokens > lim.input_tokens:
        return "input_tokens"
    if lim.output_tokens is not None and u.output_tokens > lim.output_tokens:
        return "output_tokens"
    if lim.total_tokens is not None and u.total_tokens > lim.total_tokens:
        return "total_tokens"
    return None


def limit_hit(st: RunState) -> str | None:
    """The model-side limit (turns, tokens) ``st`` or a run above it has reached, if any."""
    which = _own_limit(st)
    if which is None and st.parent is not None:
        for a in _ancestors(st):
            if (which := _own_limit(a)) is not None:
                break
    return which


def tool_calls_over(st: RunState, n: int) -> bool:
    """Whether ``n`` more tool calls would exceed the limit of ``st`` or a run above it."""
    lim = st.limits.tool_calls
    if lim is not None and st.tool_calls + n > lim:
        return True
    return any(
        a.limits.tool_calls is not None and a.tool_calls + n > a.limits.tool_calls
        for a in _ancestors(st)
    )
