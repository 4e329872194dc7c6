"""Threads and resume on PostgreSQL: the run loop against a real server."""

from __future__ import annotations

from typing import Any

import anyio
import pytest

import plait
from plait import Kernel, ThreadConflict
from plait.testing import FunctionModel, ScriptedModel, Turn, call, make_kernel
from plait_postgres import hooks


@pytest.fixture
def kernel() -> Kernel:
    return make_kernel(hooks)


@pytest.mark.anyio
async def test_a_thread_continues_and_conflicts_are_refused(pg_url: str, kernel: Kernel) -> None:
    await plait.arun("hi", model=ScriptedModel(["hello"]), thread="t", store=pg_url, kernel=kernel)
    model = ScriptedModel(["again"])
    await plait.arun("more", model=model, thread="t", store=pg_url, kernel=kernel)
    assert [m.role for m in model.requests[0].messages] == ["user", "assistant", "user"]

    outcomes: dict[str, Any] = {}

    async def one(name: str, delay: float) -> None:
        slow = FunctionModel(lambda messages, params: Turn(text=name, delay=delay))
        try:
            outcomes[name] = await plait.arun(
                name, model=slow, thread="t", store=pg_url, kernel=kernel
            )
        except ThreadConflict as exc:
            outcomes[name] = exc

    async with anyio.create_task_group() as tg:
        tg.start_soon(one, "fast", 0.01)
        tg.start_soon(one, "slow", 0.3)
    assert isinstance(outcomes["slow"], ThreadConflict)
    messages = await plait.Thread("t", store=pg_url).amessages(kernel=kernel)
    assert [getattr(m, "text", None) or getattr(m, "content", None) for m in messages] == [
        "hi", "hello", "more", "again", "fast", "fast"
    ]  # fmt: skip


@pytest.mark.anyio
async def test_resume_on_postgres(pg_url: str, kernel: Kernel) -> None:
    calls: list[str] = []

    @plait.tool
    def act(n: int) -> str:
        """A side effect."""
        calls.append(f"act {n}")
        return "ok"

    @plait.tool(idempotent=True)
    async def check(n: int) -> str:
        """Safe to repeat; the first time, the power goes out."""
        calls.append(f"check {n}")
        if len(calls) == 2:
            raise KeyboardInterrupt  # Ctrl-C mid-tool (plugin exceptions are contained)
        return "fine"

    script = [call("act", n=1, id="a1"), call("check", n=1, id="c1"), "done"]
    with pytest.raises(KeyboardInterrupt):
        await plait.arun("go", model=ScriptedModel(script), tools=[act, check], store=pg_url,
                         run_id="pg-1", kernel=kernel)  # fmt: skip
    result = await plait.aresume(
        "pg-1", store=pg_url, model=ScriptedModel(script[2:]), tools=[act, check], kernel=kernel
    )
    assert result.ok and result.output == "done"
    assert calls == ["act 1", "check 1", "check 1"]  # act not repeated, check retried
