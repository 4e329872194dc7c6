"""What a task graph returns: each task's outcome, and the graph's status and usage."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .._messages import Usage

if TYPE_CHECKING:
    from .._run import Result

__all__ = ["GraphResult", "GraphStatus", "TaskOutcome", "TaskStatus"]

TaskStatus = Literal["success", "failed", "skipped", "incomplete", "cancelled", "blocked", "paused"]
"""A run's status, or ``skipped``: the task never ran because an upstream task did not
succeed (``because`` names it). ``paused``: the task's run waits for approval
(``approve="pause"``); like any status but success, its dependants are skipped."""

GraphStatus = Literal["success", "failed"]


@dataclass(frozen=True, slots=True)
class TaskOutcome:
    """One task of a graph: its status, its run's ``Result`` (``None`` when it never ran
    or its run raised before ending), its output and error, and when it ran (wall-clock
    seconds, ``None`` when it never started). ``resumed`` is true when a recorded run
    gave the result (``store=``)."""

    name: str
    status: TaskStatus
    run_id: str
    result: Result[Any] | None = None
    error: str | None = None
    because: str | None = None
    depends_on: tuple[str, ...] = ()
    started: float | None = None
    ended: float | None = None
    resumed: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "success"

    @property
    def output(self) -> Any:
        """The task's validated output (``None`` unless it succeeded)."""
        return self.result.output if self.result is not None and self.ok else None

    @property
    def usage(self) -> Usage:
        return self.result.usage if self.result is not None else Usage()


@dataclass(frozen=True, slots=True)
class GraphResult(Mapping[str, TaskOutcome]):
    """The outcome of ``run_tasks``: ``graph["name"]`` is a task's ``TaskOutcome``.

    ``status`` is ``success`` when every task succeeded, else ``failed``; ``tasks`` holds
    every task's outcome, dependencies before their dependents.
    """

    graph_id: str
    status: GraphStatus
    tasks: Mapping[str, TaskOutcome] = field(default_factory=dict)
    duration: float = 0.0

    def __getitem__(self, name: str) -> TaskOutcome:
        try:
            return self.tasks[name]
        except KeyError:
            raise KeyError(f"no task {name!r} in graph {self.graph_id!r}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(self.tasks)

    def __len__(self) -> int:
        return len(self.tasks)

    @property
    def ok(self) -> bool:
        return self.status == "success"

    def output(self, name: str) -> Any:
        """Task ``name``'s output (``None`` unless it succeeded)."""
        return self[name].output

    @property
    def outputs(self) -> dict[str, Any]:
        """The outputs of the tasks that succeeded, by name."""
        return {n: t.output for n, t in self.tasks.items() if t.ok}

    @property
    def usage(self) -> Usage:
        """Every task run's usage, added up."""
        total = Usage()
        for outcome in self.tasks.values():
            total = total + outcome.usage
        return total

    def counts(self) -> dict[str, int]:
        """How many tasks ended with each status."""
        found: dict[str, int] = {}
        for outcome in self.tasks.values():
            found[outcome.status] = found.get(outcome.status, 0) + 1
        return found

    def failures(self) -> list[TaskOutcome]:
        """The tasks that did not succeed (failed, skipped, ...), in graph order."""
        return [t for t in self.tasks.values() if not t.ok]
