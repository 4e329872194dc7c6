"""``plait.Agent``: run defaults bundled under a name, with a kernel built once.

An agent is configuration, not machinery: each method passes the agent's options, with
the run's options on top (per-run options win; ``settings`` merge field by field), to
the same entry points as ``plait.run``. The kernel is created on the first run and
reused; close it with ``await agent.aclose()`` or ``async with agent``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._run import _api, _handle, _stream
from ._run._options import merge_options
from ._settings import Limits, ModelSettings

if TYPE_CHECKING:
    from ._contracts import Model
    from ._jobs import Job
    from ._kernel import Kernel
    from ._parts import TaskInput
    from ._repeat import Repeater
    from ._run import Result, RunHandle, RunIterator, RunStream
    from ._team import Team

__all__ = ["Agent"]

T = TypeVar("T")


class Agent(Generic[T]):
    """A named set of run options: ``agent.run / arun / stream / iter / start``."""

    def __init__(
        self,
        name: str | None = None,
        *,
        model: Model | str | None = None,
        instructions: str | None = None,
        tools: Sequence[Any] = (),
        output: Any = str,
        guardrails: Sequence[Any] = (),
        verifiers: Sequence[Any] = (),
        handlers: Sequence[Any] = (),
        settings: ModelSettings | None = None,
        limits: Limits | None = None,
        **options: Any,
    ) -> None:
        self.name = name
        self.output = output
        given: dict[str, Any] = {
            "name": name,
            "model": model,
            "instructions": instructions,
            "tools": tools,
            "guardrails": guardrails,
            "verifiers": verifiers,
            "handlers": handlers,
            "settings": settings,
            "limits": limits,
        }
        self.options = merge_options({k: v for k, v in given.items() if v}, dict(options))
        self._kernel: Kernel | None = self.options.pop("kernel", None)
        self._owns_kernel = self._kernel is None

    def __repr__(self) -> str:
        return f"Agent(name={self.name!r})"

    def __and__(self, other: Agent[Any] | Team) -> Team:
        """``a & b``: a parallel ``plait.Team`` (both get the task at once)."""
        from ._team import join

        return join(self, other, "parallel")

    def __or__(self, other: Agent[Any] | Team) -> Team:
        """``a | b``: a sequential ``plait.Team`` (``a``'s output is ``b``'s task)."""
        from ._team import join

        return join(self, other, "sequential")

    @property
    def kernel(self) -> Kernel:
        """The agent's kernel, created on first use and reused by every run."""
        if self._kernel is None:
            from ._kernel import Kernel

            self._kernel = Kernel()
        return self._kernel

    def _options(self, run_options: dict[str, Any]) -> tuple[Any, dict[str, Any]]:
        output = run_options.pop("output", self.output)
        merged = merge_options(self.options, run_options)
        merged.setdefault("kernel", self.kernel)
        return output, merged

    def run(self, task: TaskInput | None = None, **options: Any) -> Result[T]:
        """Like ``plait.run`` with this agent's options."""
        output, merged = self._options(options)
        result: Result[T] = _api.run(task, output=output, **merged)
        return result

    async def arun(self, task: TaskInput | None = None, **options: Any) -> Result[T]:
        """Like ``plait.arun`` with this agent's options."""
        output, merged = self._options(options)
        result: Result[T] = await _api.arun(task, output=output, **merged)
        return result

    def stream(self, task: TaskInput | None = None, **options: Any) -> RunStream[T]:
        """Like ``plait.stream`` with this agent's options."""
        output, merged = self._options(options)
        return _stream.stream(task, output=output, **merged)

    def iter(self, task: TaskInput | None = None, **options: Any) -> RunIterator[T]:
        """Like ``plait.iter`` with this agent's options."""
        output, merged = self._options(options)
        return _api.iter(task, output=output, **merged)

    def start(self, task: TaskInput | None = None, **options: Any) -> RunHandle[T]:
        """Like ``plait.start`` with this agent's options."""
        output, merged = self._options(options)
        return _handle.start(task, output=output, **merged)

    def repeat(self, task: str | None = None, **options: Any) -> Repeater[T]:
        """Like ``plait.repeat`` with this agent's options."""
        from ._repeat import repeat

        return repeat(task, agent=self, **options)

    def run_each(self, *prompts: str, **options: Any) -> list[Result[T]]:
        """Like ``plait.run_each`` with this agent's options."""
        from ._jobs import run_each

        return run_each(prompts, agent=self, **options)

    def arun_each(self, *prompts: str, **options: Any) -> AsyncIterator[Result[T]]:
        """Like ``plait.arun_each`` with this agent's options."""
        from ._jobs import arun_each

        return arun_each(prompts, agent=self, **options)

    def run_job(self, job: Job, **options: Any) -> Result[Any]:
        """Like ``plait.run_job`` with this agent (refused if it lacks the job's tools)."""
        from ._jobs import run_job

        return run_job(job, agent=self, **options)

    async def arun_job(self, job: Job, **options: Any) -> Result[Any]:
        """Like ``plait.arun_job`` with this agent (refused if it lacks the job's tools)."""
        from ._jobs import arun_job

        return await arun_job(job, agent=self, **options)

    async def aclose(self) -> None:
        """Close the agent's kernel (and the models it opened), if the agent created it."""
        kernel, self._kernel = self._kernel, None
        if kernel is not None and self._owns_kernel:
            await kernel.aclose()
        self._owns_kernel = True

    async def __aenter__(self) -> Agent[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
