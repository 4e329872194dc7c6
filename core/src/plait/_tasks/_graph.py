"""Running a checked task graph: each task one plait run, started through an executor
once its dependencies succeeded, at most ``max_concurrency`` at a time.

A task whose dependency did not succeed is ``skipped`` (never run), and so are its own
dependents. Every task run is a member of the graph's ``Hub``: its events reach the
graph's handlers and stream, with ``parent_run_id`` the graph id. With a store, a task
whose run (``<graph_id>.<task>``) is recorded is resumed instead of run: a finished run
gives its recorded result, an interrupted one continues.
"""

from __future__ import annotations

import heapq
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anyio

from .._errors import RunError
from .._run._api import runner
from .._run._result import Result
from ._prompt import task_prompt
from ._result import GraphResult, TaskOutcome
from ._task import Plan

if TYPE_CHECKING:
    from anyio.streams.memory import MemoryObjectSendStream

    from .._contracts import Executor
    from .._run._hub import Hub

__all__ = ["Graph"]

_NOT_ON_RESUME = ("run_id", "thread", "message_history")


@dataclass
class Graph:
    """One run of a plan: the hub its events go to, the executor, the shared options."""

    plan: Plan
    hub: Hub
    executor: Executor
    max_concurrency: int
    options: Mapping[str, Mapping[str, Any]]  # each task's run options (checked)
    recorded: frozenset[str] = frozenset()  # tasks whose runs the store holds
    outcomes: dict[str, TaskOutcome] = field(default_factory=dict)

    @property
    def graph_id(self) -> str:
        return self.hub.run_id

    def run_id(self, name: str) -> str:
        return f"{self.graph_id}.{name}"

    async def run(self) -> GraphResult:
        """Every task that can run, run; the graph's result."""
        began = time.perf_counter()
        names = self.plan.names
        edges = [[dep, name] for name in names for dep in self.plan.deps[name]]
        self.hub.emit("tasks.start", {"tasks": list(names), "edges": edges})
        await self._schedule()
        tasks = {name: self.outcomes[name] for name in names}
        ok = all(t.ok for t in tasks.values())
        result = GraphResult(
            self.graph_id, "success" if ok else "failed", tasks, time.perf_counter() - began
        )
        self.hub.emit(
            "tasks.end",
            {
                "status": result.status,
                "counts": result.counts(),
                "usage": result.usage.model_dump(exclude_defaults=True),
            },
        )
        return result

    async def _schedule(self) -> None:
        """Start each task once its dependencies succeeded (plan order among the ready
        ones), at most ``max_concurrency`` at a time; skip what a failure blocks."""
        order = {name: i for i, name in enumerate(self.plan.names)}
        waiting = {name: set(deps) for name, deps in self.plan.deps.items()}
        dependents = self.plan.dependents()
        ready = [order[n] for n in self.plan.names if not waiting[n]]
        heapq.heapify(ready)
        send, receive = anyio.create_memory_object_stream[str](math.inf)
        running = 0
        async with anyio.create_task_group() as tg, send, receive:
            while ready or running:
                while ready and running < self.max_concurrency:
                    running += 1
                    tg.start_soon(self._one, self.plan.names[heapq.heappop(ready)], send)
                name = await receive.receive()
                running -= 1
                if not self.outcomes[name].ok:
                    self._skip_below(name, dependents)
                    continue
                for after in dependents[name]:
                    waiting[after].discard(name)
                    if not waiting[after] and after not in self.outcomes:
                        heapq.heappush(ready, order[after])

    async def _one(self, name: str, done: MemoryObjectSendStream[str]) -> None:
        self.outcomes[name] = await self._execute(name)
        done.send_nowait(name)

    def _skip_below(self, failed: str, dependents: Mapping[str, list[str]]) -> None:
        """Skip every task that depends on ``failed``, however far down (never run)."""
        status = self.outcomes[failed].status
        why = f"upstream task {failed!r} did not succeed ({status})"
        pending = list(dependents[failed])
        while pending:
            name = pending.pop(0)
            if name in self.outcomes:
                continue
            self.outcomes[name] = TaskOutcome(
                name, "skipped", self.run_id(name), error=why, because=failed,
                depends_on=self.plan.deps[name],
            )  # fmt: skip
            self.hub.emit("task.skipped", {"task": name, "because": failed, "reason": why})
            pending.extend(dependents[name])

    async def _execute(self, name: str) -> TaskOutcome:
        run_id, deps = self.run_id(name), self.plan.deps[name]
        resumed = name in self.recorded
        self.hub.emit(
            "task.start",
            {"task": name, "run_id": run_id, "depends_on": list(deps), "resumed": resumed},
        )
        started = time.time()
        result: Result[Any] | None = None
        error: str | None = None
        try:
            got = await self.executor.execute(self._job(name))
            if not isinstance(got, Result):
                raise TypeError(
                    f"executor {self.executor.name!r} returned {type(got).__name__}, not "
                    "the job's Result: an Executor must return what the job returns"
                )
            result, status, error = got, got.status, got.error
        except Exception as exc:  # the task failed; the graph goes on with the others
            partial = exc.result if isinstance(exc, RunError) else None
            result = partial if isinstance(partial, Result) else None
            status = "failed" if result is None or result.ok else result.status
            error = f"{type(exc).__name__}: {exc}"
        outcome = TaskOutcome(
            name, status, run_id, result, error, None, deps, started, time.time(), resumed
        )
        self.hub.emit(
            "task.end", {"task": name, "status": status, "run_id": run_id, "error": error}
        )
        return outcome

    def _job(self, name: str) -> Callable[[], Awaitable[Result[Any]]]:
        """The task's run as an executor job: an async callable taking no arguments."""
        task = self.plan.tasks[name]
        options = dict(self.options[name])
        options.update(name=name, parent_run_id=self.graph_id, raise_on_failure=False)
        if name in self.recorded:
            for key in _NOT_ON_RESUME:
                options.pop(key, None)
            options["resume"] = self.run_id(name)
            prompt = None
        else:
            options["run_id"] = self.run_id(name)
            upstream = [(dep, self.outcomes[dep].output) for dep in self.plan.deps[name]]
            prompt = task_prompt(task, upstream)
        member = runner(prompt, task.output_type, options)
        self.hub.attach(member)
        return member.drive
