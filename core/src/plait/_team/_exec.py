"""One run of a team: its hub, its members' runs, their results, its failure policy.

Every member run is an ordinary run (``Runner``) attached to the team's ``Hub``, so its
events reach the team's handlers and streams once each; a nested team is another
``TeamExecution`` whose hub reports to this one. Members run with
``raise_on_failure=False``: a member's failure is a result, never an exception that
tears the team down; the team decides (``on_failure``) and raises at the end if asked.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from time import perf_counter
from typing import TYPE_CHECKING, Any, Literal

import anyio

from .._errors import RunError, RunFailed
from .._messages import Usage
from .._run._api import runner
from .._run._hub import Hub, Upstream
from .._run._loop import CURRENT_RUN, Runner
from .._run._result import Result
from .._run._stream import _lone
from ._result import MemberResult, TeamResult, TeamStatus, as_task, not_run

if TYPE_CHECKING:
    from ._team import Team

__all__ = ["OnMember", "TeamExecution"]

OnMember = Callable[[str, MemberResult], None]
CancelMode = Literal["after_turn", "now"]


class TeamExecution:
    """One team run, not started: ``await execute()`` runs it; ``cancel`` stops it."""

    def __init__(
        self,
        team: Team,
        task: str | None,
        options: dict[str, Any],
        *,
        parent: Upstream | None = None,
        on_member: OnMember | None = None,
    ) -> None:
        self.team = team
        self.task = task
        options = dict(options)
        raise_on_failure = options.pop("raise_on_failure", True)
        self.raise_on_failure = parent is None and raise_on_failure is not False
        handlers = options.pop("handlers", None) or ()
        kernel = options.get("kernel")
        if kernel is None:
            kernel = team.shared_kernel()
        above = options.pop("parent_run_id", None)  # a nested team's: the outer team
        run = CURRENT_RUN.get() if parent is None else None
        if run is not None:  # started inside a run (a tool): the team is part of its tree
            above = above or run.run_id
            if run.emitter.sinks:
                parent = Upstream(run.emitter, run.listeners)
        self.hub = Hub(
            "team",
            name=team.name,
            handlers=handlers,
            kernel=kernel,
            run_id=options.pop("run_id", None),
            parent=parent,
        )
        self.hub.emitter.parent_run_id = above
        # every member run gets the options (over its agent's own), as the team's child
        self.member_options = {**options, "parent_run_id": self.hub.run_id}
        self.on_member = on_member
        self.results: dict[str, MemberResult] = {}
        self.live: dict[str, Runner | TeamExecution] = {}
        self.stopped: str | None = None  # why members not yet started are skipped
        self.cancelled = False
        self.error: str | None = None  # the team's own failure (its combine or transform)

    def cancel(self, mode: CancelMode = "now") -> None:
        """Stop the team: members running end ``cancelled``, the others are skipped."""
        self.cancelled = True
        self._stop("the team was cancelled", mode)

    def _stop(self, why: str, mode: CancelMode = "now") -> None:
        if self.stopped is None:
            self.stopped = why
        for member in list(self.live.values()):
            member.cancel(mode)

    async def execute(self) -> TeamResult:
        """Run every member as the mode and the policy say; the team's result."""
        team, hub = self.team, self.hub
        started = perf_counter()
        async with hub.pumping():
            hub.emit(
                "team.start", {"team": team.name, "mode": team.mode, "members": list(team.names)}
            )
            if team.mode == "parallel":
                await self._parallel()
            else:
                await self._sequential()
            result = self._result(perf_counter() - started)
            hub.emit(
                "team.end",
                {
                    "status": result.status,
                    "usage": result.usage.model_dump(),
                    "duration": result.duration,
                    "error": result.error,
                },
            )
        return result

    async def arun(self) -> TeamResult:
        """``execute``, then raise ``RunFailed`` (the result attached) if asked to."""
        return self.finish(await self.execute())

    def finish(self, result: TeamResult) -> TeamResult:
        if result.status == "failed" and self.raise_on_failure:
            why = result.error or "; ".join(f"{n}: {w}" for n, w in result.errors.items())
            raise RunFailed(f"team {result.team!r} failed: {why}", result=result)
        return result

    async def _parallel(self) -> None:
        try:
            async with anyio.create_task_group() as tg:
                for index in range(len(self.team.members)):
                    tg.start_soon(self._member, index, self.task)
        except BaseExceptionGroup as group:
            inner = _lone(group)  # a member that could not start: raised as plait.run would
            if inner is None:
                raise
            raise inner from inner.__cause__

    async def _sequential(self) -> None:
        task = self.task
        transform = self.team.transform or (lambda result: as_task(result.output))
        for index in range(len(self.team.members)):
            result = await self._member(index, task)
            if not result.ok or index == len(self.team.members) - 1:
                continue
            try:
                task = transform(result)
            except Exception as exc:  # the caller's transform: the team fails, results kept
                self.error = f"transform raised {type(exc).__name__}: {exc}"
                self._stop(f"transform of {self.team.names[index]!r}'s result raised")

    async def _member(self, index: int, task: str | None) -> MemberResult:
        name, member = self.team.names[index], self.team.members[index]
        if self.stopped is not None:
            result: MemberResult = not_run(name, self.stopped)
        else:
            result = await self._run_member(name, member, task)
        self.results[name] = result
        if self.on_member is not None:
            self.on_member(name, result)
        stops = self.team.mode == "sequential" or self.team.on_failure == "fail_fast"
        if stops and not result.ok:
            self._stop(f"member {name!r} ended {result.status}")
        return result

    async def _run_member(self, name: str, member: Any, task: str | None) -> MemberResult:
        from ._team import Team

        result: MemberResult
        live: Runner | TeamExecution
        if isinstance(member, Team):
            inner = TeamExecution(member, task, self.member_options, parent=self.hub.upstream)
            run_id, live = inner.hub.run_id, inner
        else:
            run_id = uuid.uuid4().hex
            options = {**self.member_options, "run_id": run_id, "raise_on_failure": False}
            output, merged = member._options(options)
            run = runner(task, output, merged)
            self.hub.attach(run)
            live = run
        self.live[name] = live
        self.hub.emit("member.start", {"member": name, "run_id": run_id})
        try:
            if isinstance(live, TeamExecution):
                result = await live.execute()
            else:
                result = await _drive(live)
        finally:
            self.live.pop(name, None)
        self.hub.emit("member.end", {"member": name, "status": result.status, "run_id": run_id})
        return result

    def _result(self, duration: float) -> TeamResult:
        team = self.team
        results = {name: self.results[name] for name in team.names}
        usage = Usage()
        for r in results.values():
            usage = usage + r.usage
        status: TeamStatus = "success" if all(r.ok for r in results.values()) else "failed"
        if self.cancelled:
            status = "cancelled"
        output, error = None, self.error
        if error is not None and not self.cancelled:
            status = "failed"
        if status == "success":
            try:
                output = _output(team, results)
            except Exception as exc:  # the caller's combine: its failure is the team's
                status, error = "failed", f"combine raised {type(exc).__name__}: {exc}"
        return TeamResult(
            team=team.name,
            mode=team.mode,
            status=status,
            results=results,
            output=output,
            usage=usage,
            run_id=self.hub.run_id,
            duration=duration,
            error=error,
        )


async def _drive(live: Runner) -> Result[Any]:
    """A member run to its end: its ``Result`` even when it raised one (a limit)."""
    try:
        result: Result[Any] = await live.drive()
    except RunError as exc:
        if not isinstance(exc.result, Result):
            raise
        return exc.result
    return result


def _output(team: Team, results: dict[str, MemberResult]) -> Any:
    if team.combine is not None:
        return team.combine(results)
    if team.mode == "sequential":
        return results[team.names[-1]].output
    return {name: r.output for name, r in results.items()}
