"""CPU per task: a 100-task graph of width 10 against the same number of plain runs.

    python tests/bench/bench_tasks.py --graphs 5 --rounds 5

The graph has 10 layers of 10 tasks; each task depends on two tasks of the layer before
(so up to 10 run side by side, ``max_concurrency=10``) and gets their results in its
prompt. Every run (a task's or a plain one) is one turn of the scripted model on one
kernel. Each round measures the cases interleaved; the figure is the median over rounds
of the median CPU time (``time.process_time``) per task, and per plain run: the
difference is what a task costs over a run (scheduling, prompt, events, executor).
"""

from __future__ import annotations

import argparse
import statistics
import time

import anyio

import plait
from plait import Task, arun_tasks
from plait.testing import ScriptedModel

WIDTH, DEPTH = 10, 10
TASKS = WIDTH * DEPTH


def graph() -> list[Task]:
    tasks: list[Task] = []
    for layer in range(DEPTH):
        for i in range(WIDTH):
            deps = () if layer == 0 else (f"t{layer - 1}.{i}", f"t{layer - 1}.{(i + 1) % WIDTH}")
            tasks.append(Task(f"step {layer}.{i}", name=f"t{layer}.{i}", depends_on=deps))
    return tasks


async def per_task(kernel: plait.Kernel, graphs: int) -> float:
    times = []
    for _ in range(graphs):
        tasks, model = graph(), ScriptedModel(["ok"] * TASKS)
        start = time.process_time()
        result = await arun_tasks(tasks, model=model, kernel=kernel, max_concurrency=WIDTH)
        times.append((time.process_time() - start) / TASKS)
        assert result.ok and len(result) == TASKS
    return statistics.median(times)


async def per_run(kernel: plait.Kernel, graphs: int) -> float:
    times = []
    for _ in range(graphs):
        model = ScriptedModel(["ok"] * TASKS)
        start = time.process_time()
        for _ in range(TASKS):
            result = await plait.arun("step", model=model, kernel=kernel)
            assert result.ok
        times.append((time.process_time() - start) / TASKS)
    return statistics.median(times)


async def main(graphs: int, rounds: int) -> dict[str, float]:
    kernel = plait.Kernel(entry_points=())
    figures: dict[str, list[float]] = {"plain run": [], "task of a graph": []}
    try:
        await per_task(kernel, 1)  # warm-up: imports, the kernel's registrations
        for _ in range(rounds):
            figures["plain run"].append(await per_run(kernel, graphs))
            figures["task of a graph"].append(await per_task(kernel, graphs))
    finally:
        await kernel.aclose()
    return {name: statistics.median(values) for name, values in figures.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--graphs", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = anyio.run(main, args.graphs, args.rounds)
    base = result["plain run"]
    for name, seconds in result.items():
        print(f"{name:16} {seconds * 1e6:8.0f} µs  ({seconds / base:.2f}x)")
    print(f"{'overhead':16} {(result['task of a graph'] - base) * 1e6:8.0f} µs per task")
