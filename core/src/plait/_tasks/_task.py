"""``plait.Task``: one step of a task graph, and the checked plan of a graph.

A task is configuration (like an ``Agent``): what to do, what it returns, who does it,
what it needs first. ``plan`` names every task, resolves ``depends_on`` and orders the
graph before anything runs: an unknown dependency, a duplicate name or a cycle is a
``ValueError`` naming the culprit.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .._agent import Agent

__all__ = ["Plan", "Task", "plan"]

_SLUG_WORDS = 6
_SLUG_CHARS = 40
_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$")


@dataclass(frozen=True, eq=False)
class Task:
    """One run of a task graph: ``plait.run_tasks([Task(...), ...])``.

    ``instructions`` is the run's task; ``output`` its output type (default: the agent's,
    else ``str``); ``agent`` (optional) gives the run's defaults; ``tools`` are added to
    the agent's and the graph's; ``depends_on`` lists tasks (objects or names) whose
    results this one receives in its prompt, and which must succeed first; ``context``
    is shown to the model as JSON; ``name`` (default: a slug of the instructions) names
    the task in events and results and, with the graph id, its run id (keep it stable
    for ``store=`` resumes); ``options`` are run options (``model``, ``settings``,
    ``limits``, ...) for this task. Tasks compare by identity.
    """

    instructions: str
    output: Any = None
    agent: Agent[Any] | None = None
    tools: Sequence[Any] = ()
    depends_on: Sequence[Task | str] = ()
    context: Mapping[str, Any] | None = None
    name: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not isinstance(self.instructions, str) or not self.instructions.strip():
            raise ValueError("a Task needs instructions (a non-empty str)")
        if self.name is not None and not _NAME.match(self.name):
            raise ValueError(
                f"task name {self.name!r}: use letters, digits and _ . : - (it is part of "
                "the task's run id)"
            )
        if isinstance(self.depends_on, (str, Task)):
            raise TypeError("depends_on takes a list of tasks or task names")
        for key in ("output", "name", "run_id", "parent_run_id", "resume"):
            if key in self.options:
                raise ValueError(f"Task options cannot set {key!r}: the graph sets it")

    @property
    def output_type(self) -> Any:
        """The run's output type: ``output``, else the agent's, else ``str``."""
        if self.output is not None:
            return self.output
        return self.agent.output if self.agent is not None else str

    def __repr__(self) -> str:
        return f"Task({self.name or self.instructions[:30]!r})"


def slug(text: str) -> str:
    """A short, stable name from the first words of ``text`` (``write-a-poem``)."""
    words = re.findall(r"[a-z0-9]+", text.lower())[:_SLUG_WORDS]
    return "-".join(words)[:_SLUG_CHARS].strip("-") or "task"


@dataclass(frozen=True)
class Plan:
    """A checked graph: task names in a topological order, and each task's dependencies."""

    names: tuple[str, ...]
    tasks: Mapping[str, Task]
    deps: Mapping[str, tuple[str, ...]]

    def dependents(self) -> dict[str, list[str]]:
        """For each task, the tasks that depend on it directly."""
        found: dict[str, list[str]] = {n: [] for n in self.names}
        for name in self.names:
            for dep in self.deps[name]:
                found[dep].append(name)
        return found


def _names(tasks: Sequence[Task]) -> list[str]:
    """Each task's name: its own, or the slug of its instructions (``-2``, ``-3`` ... for
    a slug already taken), in list order so it is the same in every process."""
    given = [t.name for t in tasks if t.name is not None]
    seen: set[str] = set()
    for name in given:
        if name in seen:
            raise ValueError(f"two tasks are named {name!r}: task names must be unique")
        seen.add(name)
    names: list[str] = []
    for task in tasks:
        if task.name is not None:
            names.append(task.name)
            continue
        base = slug(task.instructions)
        name, n = base, 1
        while name in seen:
            n += 1
            name = f"{base}-{n}"
        seen.add(name)
        names.append(name)
    return names


def _resolve(task: Task, by_task: dict[int, str], names: set[str], own: str) -> tuple[str, ...]:
    deps: list[str] = []
    for dep in task.depends_on:
        if isinstance(dep, Task):
            found = by_task.get(id(dep))
            if found is None:
                raise ValueError(
                    f"task {own!r} depends on {dep!r}, which is not in the list: "
                    "pass every task of the graph to run_tasks"
                )
        elif isinstance(dep, str):
            if dep not in names:
                raise ValueError(f"task {own!r} depends on an unknown task {dep!r}")
            found = dep
        else:
            raise TypeError(f"depends_on takes tasks or task names, not {type(dep).__name__}")
        if found == own:
            raise ValueError(f"task {own!r} depends on itself")
        if found not in deps:
            deps.append(found)
    return tuple(deps)


def _order(names: list[str], deps: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """A topological order (list order among equals); a cycle is named in the error."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    order: list[str] = []
    for root in names:
        if root in state:
            continue
        path: list[str] = [root]
        stack = [iter(deps[root])]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                stack.pop()
                done = path.pop()
                state[done] = 2
                order.append(done)
            elif state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                raise ValueError(
                    f"the tasks form a cycle: {' -> '.join(cycle)} (each depends on the next)"
                )
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(deps[nxt]))
    return tuple(order)


def plan(tasks: Sequence[Task]) -> Plan:
    """Name, resolve and order ``tasks``; raise before anything runs if they are wrong."""
    tasks = list(tasks)
    if not tasks:
        raise ValueError("run_tasks needs at least one Task")
    for task in tasks:
        if not isinstance(task, Task):
            raise TypeError(f"run_tasks takes plait.Task objects, not {type(task).__name__}")
    if len({id(t) for t in tasks}) != len(tasks):
        raise ValueError("the same Task is listed twice")
    names = _names(tasks)
    by_task = {id(t): n for t, n in zip(tasks, names, strict=True)}
    known = set(names)
    deps = {n: _resolve(t, by_task, known, n) for t, n in zip(tasks, names, strict=True)}
    return Plan(_order(names, deps), dict(zip(names, tasks, strict=True)), deps)
