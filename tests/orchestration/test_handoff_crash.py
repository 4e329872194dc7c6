"""A handoff survives kill -9: killed at random moments, resumed, no side effect repeated
and the run ends as the agent it was handed to."""

from __future__ import annotations

import importlib.util
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType

import anyio
import pytest

import plait
from plait.testing import make_kernel

SCRIPT = Path(__file__).with_name("handoff_crash_agent.py")
TRIALS = 8


def _agent_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plait_handoff_crash_agent", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _pythonpath() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": path} if path else {}


def _start(store: str, side: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), store, str(side)],
        stdout=subprocess.PIPE,
        text=True,
        env={"PLAIT_DISABLE_PLUGIN_AUTOLOAD": "1", "PATH": "", **_pythonpath()},
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_killed_handoff_runs_resume_without_repeating_a_side_effect(
    tmp_path: Path, anyio_backend: str
) -> None:
    agent = _agent_module()
    rng = random.Random(1303)
    kinds: Counter[str] = Counter()
    for trial in range(TRIALS):
        store = f"sqlite:///{tmp_path}/t{trial}.db"
        side = tmp_path / f"side{trial}.txt"
        proc = _start(store, side)
        await anyio.sleep(rng.uniform(0.0, 0.25))  # the run takes about 0.1-0.2 s after "ready"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        assert proc.stdout is not None
        proc.stdout.close()
        kernel = make_kernel()
        triage = agent.agents(str(side), kernel)
        try:
            result = await triage.arun(model=agent.model(), store=store, resume=agent.RUN_ID)
        except plait.StoreError as exc:  # killed before the run was recorded
            missing = str(exc)
            kinds["before the record"] += 1
            await kernel.aclose()
            assert "no run" in missing
            continue
        await kernel.aclose()
        lines = side.read_text().splitlines() if side.exists() else []
        ids = Counter(line.split()[0] for line in lines)
        assert all(n == 1 for n in ids.values()), f"trial {trial}: repeated {ids}"
        assert result.status in ("success", "failed"), result
        if result.status == "success":  # an interrupted write may fail the run: unknown
            assert result.last_agent == "billing" and result.output == "billed"
        kinds[f"{result.status} as {result.last_agent}"] += 1
    assert sum(kinds.values()) == TRIALS
    assert any(k.startswith("success as billing") for k in kinds), kinds
