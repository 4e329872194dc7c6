"""The crash test's trials, shared by the SQLite test and the PostgreSQL plugin's test.

Each trial starts ``crash_agent.py`` in a subprocess, waits until plait is imported,
sleeps a random part of the measured run time and kills it with SIGKILL; then resumes
the run in this process and checks, against the store and the side-effect file:

* every step the child saw committed is still recorded, with the same kind, and the
  run's steps are numbered 1..n without a gap;
* no ``idempotent=False`` call wrote its line twice, and a call whose result was
  recorded as a success wrote it exactly once;
* the run ends ``success``.
"""

from __future__ import annotations

import importlib.util
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import anyio

SCRIPT = Path(__file__).with_name("crash_agent.py")


def load_agent() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plait_crash_agent", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, module)
    spec.loader.exec_module(module)
    return module


@dataclass
class Counts:
    trials: int = 0
    killed_mid_run: int = 0  # the child was killed before it finished the run
    not_recorded: int = 0  # killed before the run was created: started afresh
    resumed: int = 0
    steps_checked: int = 0  # acknowledged steps found again after the kill
    unknown_outcomes: int = 0  # writes interrupted between tool_started and tool_result
    run_seconds: float = 0.0  # the measured uninterrupted run (median of 3)


def _start(url: str, run_id: str, side: Path) -> subprocess.Popen[str]:
    """The child, its stderr kept next to the side file (what a failed start says)."""
    with open(side.with_suffix(".err"), "w") as err:
        return subprocess.Popen(
            [sys.executable, str(SCRIPT), "echo+" + url, run_id, str(side)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
        )


def _go(child: subprocess.Popen[str]) -> None:
    """Wait until the child is ready, then let it run."""
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline() == "ready\n"
    child.stdin.write("go\n")
    child.stdin.close()


def measure(url: str, folder: Path, n: int = 0) -> tuple[float, float]:
    """Seconds from ``ready`` to the first committed step, and to the end of the run."""
    child = _start(url, f"measure-{n}", folder / f"measure-{n}.txt")
    assert child.stdout is not None
    _go(child)
    began = time.perf_counter()
    first = child.stdout.readline()
    first_at = time.perf_counter() - began
    out = child.stdout.read()
    child.wait()
    child.stdout.close()
    assert first.startswith("step 1 ") and "finished success" in out, first + out
    return first_at, time.perf_counter() - began


def _acknowledged(out: str) -> list[tuple[int, str]]:
    acked = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "step":
            acked.append((int(parts[1]), parts[2]))
    return acked


async def _finish_run(agent: ModuleType, kernel: Any, url: str, run_id: str, side: Path,
                      counts: Counts) -> Any:  # fmt: skip
    import plait
    from plait.testing import ScriptedModel

    async with kernel.stores()[url.split(":", 1)[0]].open(url) as conn:
        state = await conn.load_run(run_id)
    tools = agent.make_tools(str(side))
    if state is None:  # killed before the run was recorded: nothing to resume
        counts.not_recorded += 1
        return await plait.arun(
            "do the chores", model=ScriptedModel(agent.TURNS), tools=tools, store=url,
            run_id=run_id, kernel=kernel,
        )  # fmt: skip
    turns = sum(1 for s in state.steps if s.kind == "model_response")
    counts.resumed += 1
    return await plait.aresume(
        run_id, store=url, model=ScriptedModel(agent.TURNS[turns:]), tools=tools, kernel=kernel
    )


async def _check(agent: ModuleType, kernel: Any, url: str, run_id: str, side: Path,
                 acked: list[tuple[int, str]], counts: Counts) -> None:  # fmt: skip
    async with kernel.stores()[url.split(":", 1)[0]].open(url) as conn:
        state = await conn.load_run(run_id)
    assert state is not None
    assert state.run.status == "success", state.run
    kinds = {s.seq: s.kind for s in state.steps}
    assert sorted(kinds) == list(range(1, len(kinds) + 1)), f"gap in steps: {sorted(kinds)}"
    for seq, kind in acked:
        assert kinds.get(seq) == kind, f"{run_id}: acknowledged step {seq} {kind} lost"
    counts.steps_checked += len(acked)
    path = anyio.Path(side)
    lines = (await path.read_text()).splitlines() if await path.exists() else []
    written = Counter(line.split()[0] for line in lines)
    for call_id in agent.WRITE_IDS:
        assert written[call_id] <= 1, f"{run_id}: side effect of {call_id} happened twice"
    for s in state.steps:
        if s.kind == "tool_result" and s.payload.get("tool") == "write":
            call_id = s.payload["call_id"]
            if not s.payload["is_error"]:
                assert written[call_id] == 1, f"{run_id}: {call_id} recorded but not written"
            else:
                counts.unknown_outcomes += 1


async def run_trials(url: str, folder: Path, trials: int, seed: int = 6) -> Counts:
    """``trials`` kill-and-resume rounds against the store at ``url``."""
    agent = load_agent()
    kernel = agent.kernel()
    rng = random.Random(seed)
    first, total = sorted(measure(url, folder, n) for n in range(3))[1]  # the median run
    counts = Counts(run_seconds=total)
    # the next child starts while this trial resumes and checks (2 cores, half the time)
    upcoming = _start(url, "crash-0", folder / "side-0.txt")
    try:
        for n in range(trials):
            run_id, side = f"crash-{n}", folder / f"side-{n}.txt"
            child = upcoming
            assert child.stdout is not None
            _go(child)
            # most kills between the run's first step and its end, some before or after
            await anyio.sleep(rng.uniform(first * 0.5, total * 0.9))
            if child.poll() is None:
                child.send_signal(signal.SIGKILL)  # our own child, by its handle
            child.wait()
            out = child.stdout.read()
            child.stdout.close()
            if "finished" not in out:
                counts.killed_mid_run += 1
            if n + 1 < trials:
                upcoming = _start(url, f"crash-{n + 1}", folder / f"side-{n + 1}.txt")
            result = await _finish_run(agent, kernel, url, run_id, side, counts)
            assert result.status == "success"
            await _check(agent, kernel, url, run_id, side, _acknowledged(out), counts)
            counts.trials += 1
    finally:
        if upcoming.poll() is None:  # a failed trial: stop the child waiting for "go"
            upcoming.kill()
        upcoming.wait()
        for pipe in (upcoming.stdin, upcoming.stdout):
            if pipe is not None:
                pipe.close()
        await kernel.aclose()
    return counts
