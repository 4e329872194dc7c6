"""``plait.Team``: agents (and teams) run together, in parallel or one after another.

``a & b`` is a parallel team (every member gets the task at once), ``a | b`` a
sequential one (each member's output is the next member's task); chaining the same
operator extends the team (``a & b & c`` has three members), mixing them nests
(``(a & b) | c``). A team is configuration like an ``Agent``: each entry point
(``run / arun / stream / iter / start``) starts a new team run whose members are
ordinary runs on the one run loop, their events gathered by a ``Hub``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Literal

import anyio

from .._run._api import loop_running
from .._run._options import OPTION_NAMES
from ._exec import OnMember, TeamExecution
from ._forms import TeamHandle, TeamIterator, TeamStream
from ._result import MemberResult, TeamMode, TeamResult

if TYPE_CHECKING:
    from .._agent import Agent
    from .._kernel import Kernel

__all__ = ["OnFailure", "Team", "join"]

OnFailure = Literal["collect", "fail_fast"]
MODES: tuple[TeamMode, ...] = ("parallel", "sequential")
POLICIES: tuple[OnFailure, ...] = ("collect", "fail_fast")
SEPARATORS = {"parallel": " & ", "sequential": " | "}
NOT_FOR_TEAMS = {
    "output": "give each agent its output type: plait.Agent(..., output=...)",
    "name": "name the team: plait.Team(..., name=...)",
    "resume": "resume a member's run by its run_id on its agent",
    "thread": "give each agent its own thread: members would share one history",
    "agents": "make each member an agent (or a team)",
}


class Team:
    """Members run in parallel or in sequence: ``team.run / arun / stream / iter / start``.

    ``members``: ``plait.Agent``s or ``plait.Team``s. ``mode``: ``"parallel"`` (the same
    task to every member at once) or ``"sequential"`` (each member's output is the next
    one's task: text as it is, anything else as JSON, or ``transform(result)``).
    ``on_failure``: ``"collect"`` (every member runs; failures are in the result) or
    ``"fail_fast"`` (the first failure cancels the members still running). A failed
    member stops a sequential team under both: there is nothing to pass on.
    ``combine(results)`` makes the team's ``output`` from ``{member: Result}``.
    """

    def __init__(
        self,
        members: Sequence[Agent[Any] | Team],
        *,
        mode: TeamMode = "parallel",
        name: str | None = None,
        on_failure: OnFailure = "collect",
        combine: Callable[[dict[str, MemberResult]], Any] | None = None,
        transform: Callable[[MemberResult], str] | None = None,
    ) -> None:
        from .._agent import Agent

        if isinstance(members, str | bytes) or not isinstance(members, Sequence):
            raise TypeError("Team(members): pass a list of plait.Agent or plait.Team")
        if not members:
            raise ValueError("a team needs at least one member: Team([agent, ...])")
        for m in members:
            if not isinstance(m, Agent | Team):
                raise TypeError(
                    f"a team member must be a plait.Agent or a plait.Team, not "
                    f"{type(m).__name__}: wrap it, e.g. plait.Agent('name', model=...)"
                )
        if mode not in MODES:
            raise ValueError(f"Team(mode={mode!r}): use 'parallel' or 'sequential'")
        if on_failure not in POLICIES:
            raise ValueError(f"Team(on_failure={on_failure!r}): use 'collect' or 'fail_fast'")
        for label, fn in (("combine", combine), ("transform", transform)):
            if fn is not None and not callable(fn):
                raise TypeError(f"Team({label}=...) must be a function, not {type(fn).__name__}")
        self.members: tuple[Agent[Any] | Team, ...] = tuple(members)
        self.mode: TeamMode = mode
        self.on_failure: OnFailure = on_failure
        self.combine = combine
        self.transform = transform
        self.names = _member_names(self.members)
        self.named = name is not None
        self.name = name if name is not None else _default_name(self)

    def __repr__(self) -> str:
        return f"Team({self.name!r}, mode={self.mode!r}, members={len(self.members)})"

    def __and__(self, other: Agent[Any] | Team) -> Team:
        """``team & x``: a parallel team (this one extended when it is a plain one)."""
        return join(self, other, "parallel")

    def __or__(self, other: Agent[Any] | Team) -> Team:
        """``team | x``: a sequential team (this one extended when it is a plain one)."""
        return join(self, other, "sequential")

    def agents(self) -> list[Agent[Any]]:
        """Every agent in the team, nested teams included, in member order."""
        found: list[Agent[Any]] = []
        for m in self.members:
            found.extend(m.agents() if isinstance(m, Team) else [m])
        return found

    def shared_kernel(self) -> Kernel | None:
        """The kernel every agent uses, when they share one (the team's events then
        reach that kernel's handlers too)."""
        kernels = {id(a.kernel): a.kernel for a in self.agents()}
        return next(iter(kernels.values())) if len(kernels) == 1 else None

    def execution(
        self, task: str | None, options: dict[str, Any], on_member: OnMember | None = None
    ) -> TeamExecution:
        """A team run for checked ``options`` (not started)."""
        unknown = set(options) - OPTION_NAMES
        if unknown:
            raise TypeError(f"unknown run option(s): {', '.join(sorted(unknown))}")
        for option, hint in NOT_FOR_TEAMS.items():
            if option in options:
                raise TypeError(f"{option}= is not a team run option: {hint}")
        return TeamExecution(self, task, options, on_member=on_member)

    async def arun(self, task: str | None = None, **options: Any) -> TeamResult:
        """Run the team to the end. Options apply to every member run (over each agent's
        own); ``handlers`` see the team's events and every member's; ``run_id`` names the
        team run; ``raise_on_failure`` (default True, as for ``plait.arun``) raises
        ``plait.RunFailed`` with the ``TeamResult`` attached when the team failed."""
        return await self.execution(task, options).arun()

    def run(self, task: str | None = None, **options: Any) -> TeamResult:
        """``arun`` for synchronous code (works inside a running event loop too)."""
        call = functools.partial(self.arun, task, **options)
        if not loop_running():
            return anyio.run(call)
        with ThreadPoolExecutor(1, thread_name_prefix="plait-team") as pool:
            return pool.submit(anyio.run, call).result()

    def stream(self, task: str | None = None, **options: Any) -> TeamStream:
        """The team's events and every member's as they happen (``async with`` / ``with``)."""
        return TeamStream(self.execution(task, options))

    def iter(self, task: str | None = None, **options: Any) -> TeamIterator:
        """``(member, result)`` as each member ends: completion order for a parallel team,
        member order for a sequential one. Use ``async with`` (or plain ``for``)."""
        return TeamIterator(self, task, options)

    def start(self, task: str | None = None, **options: Any) -> TeamHandle:
        """Start the team in the background and return its ``TeamHandle`` at once."""
        handle = TeamHandle(self.execution(task, options))
        handle.launch()
        return handle


def join(left: Agent[Any] | Team, right: object, mode: TeamMode) -> Team:
    """``left & right`` / ``left | right``: one team, extending a plain team of the same
    mode (unnamed, default policy, no combine or transform) instead of nesting it."""
    from .._agent import Agent

    if not isinstance(right, Agent | Team):
        return NotImplemented  # type: ignore[no-any-return]  # Python raises TypeError
    members: list[Agent[Any] | Team] = []
    for side in (left, right):
        members.extend(side.members if _plain(side, mode) else [side])  # type: ignore[union-attr]
    return Team(members, mode=mode)


def _plain(member: Agent[Any] | Team, mode: TeamMode) -> bool:
    return (
        isinstance(member, Team)
        and member.mode == mode
        and not member.named
        and member.on_failure == "collect"
        and member.combine is None
        and member.transform is None
    )


def _member_names(members: Sequence[Agent[Any] | Team]) -> tuple[str, ...]:
    """Each member's name, made unique in the team (``writer``, ``writer-2``)."""
    names: list[str] = []
    for index, m in enumerate(members, 1):
        base = m.name or f"member-{index}"
        name, n = base, 1
        while name in names:
            n += 1
            name = f"{base}-{n}"
        names.append(name)
    return tuple(names)


def _default_name(team: Team) -> str:
    parts = [
        f"({name})" if isinstance(m, Team) and not m.named and len(m.members) > 1 else name
        for m, name in zip(team.members, team.names, strict=True)
    ]
    return SEPARATORS[team.mode].join(parts)
