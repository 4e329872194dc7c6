"""CPU per step: a plain tool-call run against the same run taking a handoff.

    python tests/bench/bench_handoff.py --runs 300 --rounds 5

Both runs take three model turns on the scripted model: the plain run calls a tool twice
and answers; the handoff run calls a tool, hands the run to a second agent (its tools
and instructions resolved then) and that agent answers. Each round runs the cases
interleaved; the figure is the median over rounds of the median CPU time
(``time.process_time``) per run, and per step (a run here is 7 loop steps).
"""

from __future__ import annotations

import argparse
import statistics
import time
from typing import Any

import anyio

import plait
from plait.testing import ScriptedModel, call

STEPS = 7  # start, model, tools, model, tools, model, answer (+ end, the same in both)


@plait.tool
def lookup(q: str) -> str:
    """Look something up."""
    return q.upper()


def plain(kernel: plait.Kernel) -> tuple[plait.Agent[str], list[Any]]:
    agent = plait.Agent("solo", instructions="Help.", tools=[lookup], kernel=kernel)
    script: list[Any] = [[call("lookup", q="a")], [call("lookup", q="b")], "done"]
    return agent, script


def handoff(kernel: plait.Kernel) -> tuple[plait.Agent[str], list[Any]]:
    second = plait.Agent("second", instructions="Answer.", tools=[lookup], kernel=kernel)
    first = plait.Agent("first", instructions="Route.", tools=[lookup], handoffs=[second],
                        kernel=kernel)  # fmt: skip
    script: list[Any] = [[call("lookup", q="a")], [call("transfer_to_second")], "done"]
    return first, script


CASES = {"plain tool run": plain, "run with a handoff": handoff}


async def measure(case: Any, runs: int) -> float:
    kernel = plait.Kernel(entry_points=())
    agent, script = case(kernel)
    times = []
    for _ in range(runs):
        model = ScriptedModel(script)
        start = time.process_time()
        result = await agent.arun("go", model=model)
        times.append(time.process_time() - start)
        assert result.status == "success"
    await kernel.aclose()
    return statistics.median(times)


async def main(runs: int, rounds: int) -> dict[str, float]:
    figures: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(rounds):
        for name, case in CASES.items():
            figures[name].append(await measure(case, runs))
    return {name: statistics.median(values) for name, values in figures.items()}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    result = anyio.run(main, args.runs, args.rounds)
    base = result["plain tool run"]
    for name, seconds in result.items():
        print(
            f"{name:20} {seconds * 1e6:8.0f} µs/run  {seconds * 1e6 / STEPS:6.0f} µs/step"
            f"  ({seconds / base:.2f}x)"
        )
