"""Live toolsets (MCP servers and the like): listed before a run starts, held by the
kernel that listed them, registered whole under their name."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio
import pytest

import plait
from plait import hookimpl
from plait.testing import ScriptedModel, call, make_kernel

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class Live:
    """A live toolset whose one tool, ``<name>_ping``, appears only once it is listed."""

    def __init__(self, name: str = "live", fail: bool = False) -> None:
        self.name = name
        self.fail = fail
        self.listed = 0
        self.holds = 0
        self.entered = 0
        self._tools: list[Any] | None = None

    def tools(self) -> list[Any]:
        assert self._tools is not None, "tools() before list_tools()"
        return self._tools

    async def list_tools(self) -> Sequence[Any]:
        self.listed += 1
        if self.fail:
            raise ConnectionError("the source is down")
        if self._tools is None:

            def ping() -> str:
                return "pong"

            self._tools = [plait.tool(ping, name=f"{self.name}_ping")]
        return self._tools

    async def __aenter__(self) -> Live:
        self.holds += 1
        self.entered += 1
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.holds -= 1


class Registers:
    def __init__(self, *objects: Any) -> None:
        self.objects = objects

    @hookimpl
    def plait_register_tools(self) -> list[Any]:
        return list(self.objects)


async def test_a_live_toolset_passed_to_a_run_is_listed_held_and_released() -> None:
    live = Live()
    model = ScriptedModel([call("live_ping"), "ok"])
    result = await plait.arun("ping", model=model, tools=[live])
    assert result.output == "ok"
    assert [t.name for t in model.requests[0].params.tools] == ["live_ping"]
    assert live.listed == 1 and live.entered == 1 and live.holds == 0  # released by the run


async def test_a_registered_live_toolset_is_kept_whole_and_named_by_runs_and_the_stack() -> None:
    live = Live("srv")
    kernel = make_kernel(Registers(live), stack={"tools": ["srv"]})
    assert kernel.tools()["srv"] is live  # not expanded at registration (no I/O in hooks)
    async with kernel:
        for _ in range(2):
            model = ScriptedModel([call("srv_ping"), "ok"])
            assert (await plait.arun("ping", model=model, kernel=kernel)).output == "ok"
        assert live.entered == 1 and live.holds == 1  # one hold per kernel
    assert live.holds == 0


async def test_a_live_toolset_that_cannot_list_stops_the_run_before_the_model() -> None:
    live = Live(fail=True)
    model = ScriptedModel(["never"])
    with pytest.raises(ConnectionError):
        await plait.arun("ping", model=model, tools=[live])
    assert model.requests == [] and live.holds == 0


async def test_a_run_without_live_toolsets_lists_nothing() -> None:
    live = Live()
    kernel = make_kernel(Registers(live))
    result = await plait.arun("hi", model=ScriptedModel(["hello"]), kernel=kernel)
    assert result.output == "hello" and live.listed == 0 and live.entered == 0


async def test_a_handoff_targets_live_toolset_is_listed_before_the_run_starts() -> None:
    live = Live("billing")
    billing = plait.Agent("billing", instructions="Bill.", tools=[live])
    model = ScriptedModel([call("transfer_to_billing"), call("billing_ping"), "paid"])
    result = await plait.arun("refund me", model=model, handoffs=[billing])
    assert result.output == "paid"
    assert live.listed == 1 and live.holds == 0
    assert "billing_ping" in [t.name for t in model.requests[1].params.tools]


class SlowEnter(Live):
    """Entering takes a moment (a real one may connect): runs can interleave there."""

    async def __aenter__(self) -> SlowEnter:
        await anyio.sleep(0.01)
        await super().__aenter__()
        return self


async def test_concurrent_runs_on_one_kernel_hold_a_toolset_once() -> None:
    toolset = SlowEnter()
    kernel = plait.Kernel(entry_points=())

    async def one() -> None:
        await plait.arun("hi", model=ScriptedModel(["done"]), tools=[toolset], kernel=kernel)

    async with anyio.create_task_group() as tg:
        for _ in range(5):
            tg.start_soon(one)
    assert (toolset.entered, toolset.holds) == (1, 1)
    await kernel.aclose()
    assert toolset.holds == 0
