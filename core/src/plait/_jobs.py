"""Runs prepared ahead: several prompts on one conversation, and predefined jobs.

``run_each`` / ``arun_each`` run prompts one after another, each continuing the
conversation so far (the previous ``Result.messages``, or a stored ``thread=``).
A ``Job`` is a task with what it needs and what it must give: the tools an agent must
have (checked before anything runs: ``JobRefused`` names the missing ones), the output
type, and verifiers and guardrails added to the agent's. Each run is an ordinary run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

import anyio

from ._repeat import agent_options
from ._run._api import arun, loop_running
from ._run._result import Result
from ._tool import expand_tools

if TYPE_CHECKING:
    from ._agent import Agent
    from ._kernel import Kernel

__all__ = ["Job", "JobRefused", "arun_each", "arun_job", "run_each", "run_job", "tool_names"]

R = TypeVar("R")

_ONE_ID = ("run_id", "resume")


class JobRefused(ValueError):
    """The agent lacks tools the job requires; nothing was run. ``missing`` names them."""

    def __init__(self, message: str, *, job: Job, missing: tuple[str, ...]) -> None:
        super().__init__(message)
        self.job = job
        self.missing = missing


def _name(item: Any) -> str:
    if isinstance(item, str):
        return item
    return str(getattr(item, "name", None) or getattr(item, "__name__", None) or item)


@dataclass(frozen=True, slots=True)
class Job:
    """A predefined task any agent with the required tools can run (``agent.run_job``).

    ``task`` is the user message (the agent's ``instructions`` stay its system
    message); ``output`` the output type (``None``: the agent's); ``required_tools``
    tool names (or tools/functions, taken by name) the agent must have;
    ``verifiers``/``guardrails`` are added to the agent's; ``deps`` is given to the
    tools as ``ctx.deps`` unless the run passes its own.
    """

    task: str
    output: Any = None
    required_tools: Sequence[Any] = ()  # kept as a tuple of names
    verifiers: Sequence[Any] = ()  # kept as tuples
    guardrails: Sequence[Any] = ()
    name: str | None = None
    deps: Any = field(default=None, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.task, str) or not self.task:
            raise TypeError(f"a Job needs its task as a non-empty str; got {self.task!r}")
        for attr in ("required_tools", "verifiers", "guardrails"):
            if isinstance(getattr(self, attr), str):
                raise TypeError(f"Job {attr}= takes a list; got a str ({getattr(self, attr)!r})")
        names = tuple(_name(t) for t in self.required_tools)
        object.__setattr__(self, "required_tools", names)
        object.__setattr__(self, "verifiers", tuple(self.verifiers))
        object.__setattr__(self, "guardrails", tuple(self.guardrails))

    def missing_tools(self, tools: Sequence[Any], kernel: Kernel | None = None) -> tuple[str, ...]:
        """The required tools that ``tools`` (a run's ``tools=``) do not provide."""
        have = tool_names(tools, kernel)
        return tuple(n for n in self.required_tools if n not in have)


def tool_names(items: Sequence[Any], kernel: Kernel | None = None) -> set[str]:
    """The names a run's ``tools=`` give the model: a tool's ``.name``, a function's as
    ``plait.tool`` names it, every tool of a toolset, a plugin tool's registered name."""
    adapt = kernel.function_tool if kernel is not None else None
    return {_name(t) for t in expand_tools(items, adapt)}


def _job_options(
    job: Job, agent: Agent[Any] | None, options: dict[str, Any]
) -> tuple[Any, dict[str, Any]]:
    """The job's run: agent < job < run options; the job's checks added; tools checked."""
    if not isinstance(job, Job):
        raise TypeError(f"run_job() takes a plait.Job; got {type(job).__name__}")
    base: dict[str, Any] = {}
    if job.output is not None:
        base["output"] = job.output
    if job.deps is not None:
        base["deps"] = job.deps
    output, opts = agent_options(agent, {**base, **options})
    for kind in ("verifiers", "guardrails"):
        added = getattr(job, kind)
        if added:
            opts[kind] = [*(opts.get(kind) or ()), *added]
    missing = job.missing_tools(opts.get("tools") or (), opts.get("kernel"))
    if missing:
        who = f"agent {agent.name!r}" if agent is not None and agent.name else "the run"
        what = f"job {job.name!r}" if job.name else "the job"
        raise JobRefused(
            f"{what} needs tools {who} does not have: {', '.join(missing)}; give them "
            "with tools=[...] or run the job with an agent that has them",
            job=job,
            missing=missing,
        )
    return output, opts


async def arun_job(job: Job, *, agent: Agent[Any] | None = None, **options: Any) -> Result[Any]:
    """Run ``job`` (with ``agent=``: as that agent); ``JobRefused`` before any model
    call when a required tool is missing."""
    output, opts = _job_options(job, agent, options)
    return await arun(job.task, output=output, **opts)


def run_job(job: Job, *, agent: Agent[Any] | None = None, **options: Any) -> Result[Any]:
    """``arun_job`` for synchronous code (works inside a running event loop too)."""
    output, opts = _job_options(job, agent, options)  # refused here, in the caller
    return _sync(lambda: arun(job.task, output=output, **opts))


async def arun_each(
    prompts: Iterable[str], *, agent: Agent[Any] | None = None, **options: Any
) -> AsyncIterator[Result[Any]]:
    """Run ``prompts`` in order on one conversation, yielding each ``Result`` as it ends.

    Each run continues the previous one's ``messages`` (the first: ``message_history=``
    if given); with ``thread=`` the store keeps the conversation instead. A run that
    raises ends the sequence (the results before it were yielded).
    """
    texts = _prompts(prompts, options)
    output, opts = agent_options(agent, options)
    own = None
    if opts.get("kernel") is None:  # one kernel for every prompt: plugins load once
        from ._kernel import Kernel

        own = opts["kernel"] = Kernel()
    on_thread = opts.get("thread") is not None  # the store keeps the conversation
    history = None if on_thread else opts.pop("message_history", None)
    try:
        for text in texts:
            if history is not None:
                opts["message_history"] = history
            result = await arun(text, output=output, **opts)
            history = None if on_thread else result.messages
            yield result
    finally:
        if own is not None:
            await own.aclose()


def run_each(
    prompts: Iterable[str], *, agent: Agent[Any] | None = None, **options: Any
) -> list[Result[Any]]:
    """``arun_each`` for synchronous code: every prompt's ``Result``, in order."""

    async def collect() -> list[Result[Any]]:
        results: list[Result[Any]] = []
        try:
            async for result in arun_each(prompts, agent=agent, **options):
                results.append(result)
        except Exception as exc:
            exc.add_note(f"run_each: prompt {len(results) + 1} failed after {len(results)} ran")
            raise
        return results

    return _sync(collect)


def _prompts(prompts: Iterable[str], options: dict[str, Any]) -> list[str]:
    if isinstance(prompts, str):
        raise TypeError("run_each() takes several prompts: pass a list, e.g. [prompt]")
    texts = list(prompts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise TypeError(f"run_each() needs one or more str prompts; got {texts!r}")
    given = [k for k in _ONE_ID if options.get(k) is not None]
    if given:
        raise ValueError(f"run_each() runs several runs; {', '.join(given)}= names only one")
    return texts


def _sync(call: Callable[[], Awaitable[R]]) -> R:
    """Run ``call()`` (a coroutine) to its end from synchronous code, as ``plait.run``."""
    if not loop_running():
        return anyio.run(call)
    with ThreadPoolExecutor(1, thread_name_prefix="plait-run") as pool:
        return pool.submit(anyio.run, call).result()
