"""The group event hub under teams and task graphs: member runs' events reach the group's
listeners once each, nothing is built when nobody listens."""

from __future__ import annotations

from collections import Counter

import pytest

import plait
from plait._run._api import runner
from plait._run._hub import Hub, hub_events
from plait.testing import ScriptedModel, make_kernel


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


async def _member(hub: Hub, kernel: plait.Kernel, text: str, **options: object) -> str:
    r = runner(text, str, {"model": ScriptedModel([text]), "kernel": kernel, **options})
    hub.attach(r)
    result = await r.drive()
    return str(result.output)


@pytest.mark.anyio
async def test_members_events_reach_the_group_handlers_once() -> None:
    kernel = make_kernel()
    seen: list[plait.Event] = []
    hub = Hub("team", name="crew", handlers=[seen.append], kernel=kernel)
    async with hub.pumping():
        hub.emit("team.start", {"members": 2})
        await _member(hub, kernel, "a", handlers=[seen.append])  # the same handler again
        await _member(hub, kernel, "b", name="b")
        hub.emit("team.end", {})
    runs = Counter(e.run_id for e in seen)
    assert len(runs) == 3 and runs[hub.run_id] == 2
    assert max(Counter((e.run_id, e.seq) for e in seen).values()) == 1
    assert seen[0].kind == "team.start" and seen[-1].kind == "team.end"
    assert {e.agent for e in seen if e.kind == "team.start"} == {"crew"}


@pytest.mark.anyio
async def test_hub_events_stream_the_group() -> None:
    kernel = make_kernel()
    hub = Hub("team", kernel=kernel)

    async def body() -> list[str]:
        hub.emit("team.start", {})
        return [await _member(hub, kernel, t) for t in ("x", "y")]

    async with hub_events(hub, body) as (events, result):
        kinds = [(e.run_id == hub.run_id, e.kind) async for e in events]
        assert await result() == ["x", "y"]
    assert kinds[0] == (True, "team.start")
    assert sum(1 for own, k in kinds if not own and k == "run.end") == 2


@pytest.mark.anyio
async def test_an_unwatched_group_gives_members_no_sink() -> None:
    kernel = make_kernel()
    hub = Hub("team", kernel=kernel)
    r = runner("x", str, {"model": ScriptedModel(["x"]), "kernel": kernel})
    hub.attach(r)
    st = await r.aprepare()
    assert st.emitter.sinks == []
    await r.aclose()
