"""plait.Agent: options bundled once, per-run overrides win, settings merge agent < run."""

from __future__ import annotations

import pytest

import plait
from plait import Limits, ModelSettings
from plait.testing import ScriptedModel, call, complete, make_kernel


def add(a: int, b: int) -> int:
    """Add."""
    return a + b


def test_agent_passes_its_options() -> None:
    model = ScriptedModel([call("add", a=1, b=2), "3"])
    agent = plait.Agent(
        "calc", model=model, instructions="You add.", tools=[add], kernel=make_kernel()
    )
    result = agent.run("1+2")
    assert result.output == "3" and result.agent == "calc"
    assert model.requests[0].messages[0].content == "You add."


def test_per_run_options_win_and_settings_merge() -> None:
    agent_model = ScriptedModel(["agent"])
    run_model = ScriptedModel(["run"])
    agent = plait.Agent(
        model=agent_model,
        settings=ModelSettings(temperature=0.1, seed=7),
        limits=Limits(turns=5),
        kernel=make_kernel(),
    )
    result = agent.run("x", model=run_model, settings=ModelSettings(temperature=0.9))
    assert result.output == "run" and not agent_model.requests
    assert run_model.requests[0].params.settings == ModelSettings(temperature=0.9, seed=7)


def test_output_override_per_run() -> None:
    agent = plait.Agent(model=ScriptedModel([complete(result=5)]), output=str, kernel=make_kernel())
    assert agent.run("x", output=int).output == 5


@pytest.mark.anyio
async def test_agent_entry_points_share_one_lazy_kernel(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PLAIT_DISABLE_PLUGIN_AUTOLOAD", "1")
    agent = plait.Agent("a", model="test:echo")
    async with agent:
        assert (await agent.arun("one")).output == "one"
        kernel = agent.kernel
        async with agent.stream("two") as s:
            assert (await s.result()).output == "two"
        async for step in agent.iter("three"):
            last = step
        assert last.result is not None and last.result.output == "three"
        assert (await agent.start("four").wait()).output == "four"
        assert agent.kernel is kernel


def test_unknown_agent_option() -> None:
    with pytest.raises(TypeError, match="unknown run option"):
        plait.Agent(model=ScriptedModel([]), colour="red")
