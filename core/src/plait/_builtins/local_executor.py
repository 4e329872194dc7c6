"""Built-in plugin ``local-executor``: runs ``run_tasks`` jobs in this process with anyio."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from .._config import PlaitConfig
from .._markers import hookimpl

__all__ = ["LocalExecutor", "plait_register_executors"]


class LocalExecutor:
    """Runs each job as a coroutine in the caller's event loop (concurrency comes from the
    caller's task group)."""

    name = "local"

    async def execute(self, job: Callable[[], Awaitable[Any]]) -> Any:
        return await job()


@hookimpl
def plait_register_executors(config: PlaitConfig) -> Iterable[LocalExecutor]:
    return [LocalExecutor()]
