"""Task graphs survive kill -9: a graph recorded in a store, killed at random moments,
is finished by running it again with the same graph id — finished tasks are not run
again and no ``idempotent=False`` side effect happens twice."""

from __future__ import annotations

import importlib.util
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from types import ModuleType

import anyio
import pytest

from plait._tasks import run_tasks  # plait.run_tasks once it is exported
from plait.testing import make_kernel

SCRIPT = Path(__file__).with_name("tasks_crash_graph.py")
TRIALS = 5


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("plait_tasks_crash_graph", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _start(url: str, graph_id: str, side: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, str(SCRIPT), url, graph_id, str(side)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None and child.stdin is not None
    assert child.stdout.readline() == "ready\n"
    return child


def _go(child: subprocess.Popen[str]) -> float:
    assert child.stdin is not None
    child.stdin.write("go\n")
    child.stdin.close()
    return time.perf_counter()


def _finish(child: subprocess.Popen[str]) -> str:
    child.wait()
    assert child.stdout is not None
    out = child.stdout.read()
    child.stdout.close()
    return out


def _finished_runs(url: str, graph_id: str, names: list[str]) -> set[str]:
    """The tasks whose runs the store holds as finished with success."""

    async def load() -> set[str]:
        kernel = make_kernel()
        async with kernel.stores()["sqlite"].open(url) as conn:
            runs = {n: await conn.load_run(f"{graph_id}.{n}") for n in names}
        await kernel.aclose()
        return {n for n, r in runs.items() if r is not None and r.run.status == "success"}

    found: set[str] = anyio.run(load)
    return found


@pytest.mark.timeout(60)
def test_a_killed_graph_finishes_without_repeating_finished_tasks(tmp_path: Path) -> None:
    graph = _load()
    names = list(graph.DEPS)
    url = f"sqlite:///{tmp_path}/graph.db?synchronous=normal"
    # one uninterrupted graph: how long the kill window is
    child = _start(url, "measure", tmp_path / "measure.txt")
    began = _go(child)
    out = _finish(child)
    total = time.perf_counter() - began
    assert "finished success" in out, out
    rng = random.Random(13)
    killed_mid_graph = resumed_finished = 0
    for n in range(TRIALS):
        graph_id, side = f"g{n}", tmp_path / f"side-{n}.txt"
        child = _start(url, graph_id, side)
        _go(child)
        time.sleep(rng.uniform(total * 0.1, total * 0.9))
        if child.poll() is None:
            child.send_signal(signal.SIGKILL)  # our own child, by its handle
        out = _finish(child)
        killed_mid_graph += "finished" not in out
        done_before = _finished_runs(url, graph_id, names)
        seen_ended = {n for n in names if f"ended {n} success" in out}
        assert seen_ended <= done_before  # what the child saw finish is recorded
        asked: list[str] = []
        result = run_tasks(
            graph.tasks(), model=graph.model(asked), tools=[graph.write_tool(str(side))],
            store=url, graph_id=graph_id,
        )  # fmt: skip
        assert result.ok, {n: (t.status, t.error) for n, t in result.items()}
        assert not done_before & set(asked), f"finished tasks ran again: {done_before & set(asked)}"
        assert {n for n, t in result.items() if t.resumed} >= done_before
        resumed_finished += len(done_before)
        written = Counter(side.read_text().splitlines() if side.exists() else [])
        assert all(count <= 1 for count in written.values()), written
        for name in done_before:  # a finished task's side effect happened, once
            assert written[name] == 1, (name, written)
    print(f"task graph crash trial: {killed_mid_graph} killed mid-graph, "
          f"{resumed_finished} finished tasks not run again")  # fmt: skip
    assert killed_mid_graph >= TRIALS // 2  # the kills really land mid-graph
    assert resumed_finished > 0  # some finished tasks were found and not run again
