"""Cancellation from outside propagates promptly; trio works too."""

from __future__ import annotations

import anyio
import pytest

import plait
from plait.testing import FunctionModel, ScriptedModel, call, make_kernel


@pytest.mark.anyio
async def test_outer_cancel_scope_propagates_promptly() -> None:
    started = anyio.Event()

    async def hang() -> str:
        """Hangs."""
        started.set()
        await anyio.sleep(60)
        return "x"

    kernel = make_kernel()
    with anyio.move_on_after(5) as outer:
        async with anyio.create_task_group() as tg:
            tg.start_soon(
                lambda: plait.arun(
                    "x", model=ScriptedModel([call("hang"), "x"]), tools=[hang], kernel=kernel
                )
            )
            await started.wait()
            tg.cancel_scope.cancel()
    assert not outer.cancelled_caught


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_runs_on_trio_too(anyio_backend: str) -> None:
    def add(a: int, b: int) -> int:
        """Add (in a worker thread)."""
        return a + b

    result = await plait.arun(
        "x",
        model=ScriptedModel([call("add", a=1, b=2), "3"]),
        tools=[add],
        kernel=make_kernel(),
        handlers=[lambda e: None],
    )
    assert result.output == "3"


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
@pytest.mark.anyio
async def test_stream_cancel_on_trio(anyio_backend: str) -> None:
    async def slow(messages: list[plait.Message], params: plait.RequestParams) -> str:
        await anyio.sleep(60)
        return "late"

    with anyio.fail_after(5):
        async with plait.stream("x", model=FunctionModel(slow), kernel=make_kernel()) as s:
            await anyio.sleep(0.01)
            s.cancel()
            result = await s.result()
    assert result.status == "cancelled"
