"""The run's state machine: one table of phases, steps that return the next phase, and
options frozen into a ``RunSpec`` before the loop starts (docs/architecture.md)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path
from typing import Any

import pytest

import plait
from plait._kernel import Kernel
from plait._run import _loop
from plait._run._options import RunOptions, RunSpec, run_spec
from plait._run._result import StepKind
from plait._run._state import Phase, RunState
from plait.testing import ScriptedModel, call

ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"


def _doc_table() -> dict[str, set[str]]:
    """The phases table of docs/architecture.md: phase -> the phases named as next."""
    text = ARCHITECTURE.read_text()
    section = text[text.index("## The run's phases") :]
    rows = re.findall(r"^\| `(\w+)` \| [^|]+ \| (.+) \|$", section, re.MULTILINE)
    return {phase: set(re.findall(r"`(\w+)`", nexts)) for phase, nexts in rows}


def test_the_documented_table_is_the_loops() -> None:
    documented = _doc_table()
    assert documented == {phase: set(nexts) for phase, (_, nexts) in _loop.STEPS.items()}


def test_every_phase_has_a_step_and_is_reachable() -> None:
    phases = set(Phase.__args__)  # type: ignore[attr-defined]
    assert set(_loop.STEPS) == phases - {"done"}
    reached = {"start"} | {n for _, nexts in _loop.STEPS.values() for n in nexts}
    assert reached == phases
    assert {"end"} <= {n for p, (_, nexts) in _loop.STEPS.items() if p != "end" for n in nexts}
    # every step's kind can be yielded by plait.iter
    assert set(_loop.STEPS) - {"end"} <= set(StepKind.__args__)  # type: ignore[attr-defined]


def test_the_spec_holds_every_option() -> None:
    assert set(RunSpec._fields) == {"task", "output"} | set(RunOptions.__annotations__)


def test_a_spec_is_frozen_and_checked() -> None:
    spec = run_spec("hi", str, {"max_turns": 3})
    with pytest.raises(AttributeError):
        spec.max_turns = 4  # type: ignore[misc]
    assert spec._replace(max_turns=4).max_turns == 4 and spec.max_turns == 3
    with pytest.raises(TypeError, match=r"unknown run option\(s\): max_turn, modle"):
        run_spec("hi", str, {"modle": "x", "max_turn": 3})


@pytest.mark.anyio
async def test_unknown_options_fail_before_anything_runs(kernel: Kernel) -> None:
    model = ScriptedModel(["never asked"])
    with pytest.raises(TypeError, match="unknown run option"):
        await plait.arun("hi", model=model, kernel=kernel, tool=[])  # type: ignore[call-arg]
    assert model.requests == []


@pytest.mark.anyio
async def test_a_step_returning_an_unlisted_phase_is_a_bug(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def wrong(st: RunState) -> tuple[Phase, Any]:
        return "tools", plait.Step("answer", st.turns)  # answer never goes to tools

    steps = dict(_loop.STEPS)
    steps["answer"] = (wrong, steps["answer"][1])
    monkeypatch.setattr(_loop, "STEPS", steps)
    with pytest.raises(AssertionError, match="step 'answer' returned 'tools'"):
        await plait.arun("hi", model=ScriptedModel(["text"]), kernel=kernel)


@pytest.mark.anyio
async def test_a_run_finished_inside_a_step_ends_whatever_the_step_returns(
    kernel: Kernel, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def finishes(st: RunState) -> tuple[Phase, Any]:
        st.finish("failed", "verifier", "checked and failed")
        return "output", plait.Step("verify", st.turns)  # listed, but the run has ended

    steps = dict(_loop.STEPS)
    steps["verify"] = (finishes, steps["verify"][1])
    monkeypatch.setattr(_loop, "STEPS", steps)
    result = await plait.arun(
        "hi", model=ScriptedModel(["text"]), kernel=kernel, raise_on_failure=False
    )
    assert (result.status, result.stop_reason, result.error) == (
        "failed",
        "verifier",
        "checked and failed",
    )


@pytest.mark.anyio
async def test_iter_yields_each_step_in_table_order(kernel: Kernel) -> None:
    @plait.tool
    def add(a: int, b: int) -> int:
        """Add."""
        return a + b

    model = ScriptedModel([[call("add", a=1, b=2)], "3"])
    kinds = [s.kind async for s in plait.iter("add", model=model, tools=[add], kernel=kernel)]
    assert kinds == ["start", "model", "tools", "model", "answer", "verify", "output", "end"]
    for before, after in itertools.pairwise(kinds):
        assert after in _loop.STEPS[before][1]


def test_the_kernel_names_the_models_it_resolved(kernel: Kernel) -> None:
    echo = kernel.model("test:echo")
    assert kernel.model_spec(echo) == "test:echo"
    assert kernel.model_spec(ScriptedModel(["x"])) is None
