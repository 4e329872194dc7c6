"""``plait.run_tasks`` / ``arun_tasks``: a graph of tasks, run as one (``stream_tasks``
streams it: ``_stream``).

The graph is checked (names, dependencies, cycles, every task's run options) before
anything runs; then the tasks run through the named ``Executor`` (``local``, built in,
by default) on one kernel, their events gathered by one ``Hub`` (its id is the graph
id). See ``docs/orchestration.md``.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Unpack

import anyio

from .._errors import RunFailed
from .._run._api import loop_running
from .._run._hub import Hub, Upstream
from .._run._options import RunOptions, run_spec
from ._graph import Graph
from ._prompt import check_graph_options, task_options
from ._result import GraphResult
from ._task import Plan, Task, plan

if TYPE_CHECKING:
    from .._contracts import Executor
    from .._kernel import Kernel

__all__ = ["Setup", "TasksOptions", "arun_tasks", "graph_settings", "run_tasks"]


class TasksOptions(RunOptions, total=False):
    """Keyword settings of ``run_tasks`` / ``arun_tasks`` / ``stream_tasks``: the graph's
    own, and any run option, given to every task (``output``, ``thread``, ``name``,
    ``run_id`` and ``parent_run_id`` are refused: they are per task)."""

    max_concurrency: int
    executor: str | Executor
    graph_id: str | None
    graph_name: str | None


def _executor(kernel: Kernel, executor: str | Executor) -> Executor:
    if not isinstance(executor, str):
        if not callable(getattr(executor, "execute", None)):
            raise TypeError("executor= takes an executor name or an object with execute(job)")
        return executor
    found = kernel.executors().get(executor)
    if found is None:
        known = ", ".join(sorted(kernel.executors())) or "none"
        raise ValueError(
            f"no executor named {executor!r} is registered (registered: {known}); "
            "a plugin registers one with plait_register_executors"
        )
    return found


def _task_options(checked: Plan, options: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every task's run options, checked like a run's before anything runs."""
    found = {}
    for name in checked.names:
        task = checked.tasks[name]
        found[name] = task_options(task, options)
        run_spec(None, task.output_type, found[name])
    return found


async def _recorded(checked: Plan, options: dict[str, Any], graph_id: str) -> frozenset[str]:
    """The tasks whose runs the store holds (they resume instead of running)."""
    from .._run._durable import _explicit_url  # only recorded graphs pay for the store
    from .._thread import open_connection, store_url

    spec = run_spec(None, str, {"store": options["store"]})
    url = store_url(_explicit_url(spec), None, options["kernel"])
    async with open_connection(url, options["kernel"]) as conn:
        found = [n for n in checked.names if await conn.load_run(f"{graph_id}.{n}")]
    return frozenset(found)


class Setup:
    """What a graph run needs, built and checked before anything runs; closes the kernel
    it created."""

    def __init__(self, tasks: Sequence[Task], settings: dict[str, Any]) -> None:
        self.plan = plan(tasks)
        options = dict(settings.pop("options"))
        check_graph_options(options)
        limit = settings["max_concurrency"]
        if not isinstance(limit, int) or isinstance(limit, bool) or limit < 1:
            raise ValueError(f"max_concurrency must be a positive int, not {limit!r}")
        self.resume: str | None = settings["resume"]
        graph_id = settings["graph_id"]
        if self.resume is not None:
            if graph_id is not None and graph_id != self.resume:
                raise ValueError("pass graph_id= or resume= (the graph id to resume), not both")
            if not options.get("store"):
                raise ValueError("resume= continues a graph recorded in a store: pass store=")
            graph_id = self.resume
        self.settings = settings
        self.graph_id: str = graph_id or uuid.uuid4().hex
        self.handlers = tuple(options.pop("handlers", None) or ())
        self.kernel: Kernel | None = options.get("kernel")
        self.owns_kernel = self.kernel is None
        self.options = options

    def kernel_now(self) -> Kernel:
        if self.kernel is None:
            from .._kernel import Kernel

            self.kernel = Kernel()
        self.options["kernel"] = self.kernel
        return self.kernel

    async def graph(self, hub: Hub) -> Graph:
        kernel = self.kernel_now()
        executor = _executor(kernel, self.settings["executor"])
        per_task = _task_options(self.plan, self.options)
        recorded: frozenset[str] = frozenset()
        if self.options.get("store"):
            recorded = await _recorded(self.plan, self.options, self.graph_id)
            if self.resume is not None and not recorded:
                raise ValueError(f"no run of graph {self.resume!r} is recorded in the store")
        return Graph(self.plan, hub, executor, self.settings["max_concurrency"], per_task, recorded)

    def hub(self) -> Hub:
        """The graph's hub; inside a run (a tool running a graph) its events go up to
        that run's listeners too, the graph a child of that run."""
        from .._run._loop import CURRENT_RUN

        caller = CURRENT_RUN.get()
        above = Upstream(caller.emitter, caller.listeners) if caller is not None else None
        hub = Hub("tasks", name=self.settings["graph_name"], handlers=self.handlers,
                  kernel=self.kernel_now(), run_id=self.graph_id, parent=above)  # fmt: skip
        if caller is not None:
            hub.emitter.parent_run_id = caller.run_id
        return hub

    async def aclose(self) -> None:
        kernel, self.kernel = self.kernel, None
        if kernel is not None and self.owns_kernel:
            with anyio.CancelScope(shield=True):
                await kernel.aclose()

    def finish(self, result: GraphResult) -> GraphResult:
        if self.settings["raise_on_failure"] and not result.ok:
            bad = ", ".join(f"{t.name} ({t.status})" for t in result.failures())
            raise RunFailed(f"task graph {result.graph_id} failed: {bad}", result=result)
        return result


_DEFAULTS: dict[str, Any] = {
    "max_concurrency": 4,
    "executor": "local",
    "graph_id": None,
    "graph_name": None,
    "resume": None,
    "raise_on_failure": False,
}


def graph_settings(given: Mapping[str, Any]) -> dict[str, Any]:
    """The graph's own settings (with their defaults), apart from the run options given
    to every task (``options``)."""
    options = dict(given)
    found = {key: options.pop(key, default) for key, default in _DEFAULTS.items()}
    found["options"] = options
    return found


async def arun_tasks(tasks: Sequence[Task], **settings: Unpack[TasksOptions]) -> GraphResult:
    """Run a graph of tasks and return every task's outcome (see ``run_tasks``)."""
    setup = Setup(tasks, graph_settings(settings))
    try:
        hub = setup.hub()
        graph = await setup.graph(hub)
        async with hub.pumping():
            result = await graph.run()
    finally:
        await setup.aclose()
    return setup.finish(result)


def run_tasks(tasks: Sequence[Task], **settings: Unpack[TasksOptions]) -> GraphResult:
    """Run a graph of tasks: independent tasks side by side (``max_concurrency``, default
    4), each task once its dependencies succeeded, with their results in its prompt.

    Settings: ``max_concurrency``, ``executor`` (a registered name, default ``local``, or
    an ``Executor``), ``graph_id`` (the graph's run id; task runs are
    ``<graph_id>.<task>``), ``graph_name``, ``resume`` (a recorded graph id: needs
    ``store=``), ``raise_on_failure`` (``RunFailed`` carrying the ``GraphResult`` once
    everything that could run has run); any other keyword is a run option given to every
    task (``model``, ``tools``, ``handlers``, ``kernel``, ``store``, ...). Works inside a
    running event loop too (worker thread).
    """
    call = functools.partial(arun_tasks, tasks, **settings)
    if not loop_running():
        result: GraphResult = anyio.run(call)
        return result
    with ThreadPoolExecutor(1, thread_name_prefix="plait-tasks") as pool:
        return pool.submit(anyio.run, call).result()
