"""CPU per run: no stack, an empty stack section, and the full plait-guardrails pack.

    python tests/bench/bench_stack.py --runs 300 --rounds 5

One tool-call run (``ScriptedModel``: a call to ``lookup``, then a text answer) on a
kernel with no plugins but the pack, so every stage runs: input, tool_call,
tool_result, output. The stack is read from a policy file as a platform team writes
it. Each round runs the cases interleaved; the figure is the median over rounds of the
median CPU time (``time.process_time``) per run. The model-graded ``judge.*``
guardrails are left out (they ask a model: their cost is that model's).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import anyio

import plait
from plait.testing import ScriptedModel, call

PACK = [
    "pii.input", "pii.output", "pii.tool_call", "pii.tool_result",
    "secrets.input", "secrets.output", "secrets.tool_call", "secrets.tool_result",
    "injection.input", "injection.tool_result", "tool_policy",
    "size_caps.input", "size_caps.output", "size_caps.tool_call", "size_caps.tool_result",
]  # fmt: skip

CASES = {
    "no stack": "",
    "empty [stack]": "[stack]\n",
    "full pack, enforced": (
        "[stack]\nguardrails = ["
        + ", ".join(f'"{g}"' for g in PACK)
        + ']\nenforce = ["guardrails"]\n'
    ),
}


@plait.tool
def lookup(city: str) -> str:
    """Look a city up."""
    return f"{city}: 21 C, sunny, contact desk@example.com"


def kernel(folder: Path, policy: str) -> plait.Kernel:
    from plait_guardrails import hooks

    path = folder / "plait.toml"
    path.write_text(policy)
    return plait.Kernel(plait.load_config(path, environ={}), plugins=[hooks], entry_points=())


async def one_run(k: plait.Kernel) -> None:
    turns: list[Any] = [[call("lookup", city="Paris")], "Paris is sunny."]
    await plait.arun("Weather in Paris?", model=ScriptedModel(turns), tools=[lookup], kernel=k)


async def median_cpu(k: plait.Kernel, runs: int) -> float:
    times = []
    for _ in range(runs):
        began = time.process_time()
        await one_run(k)
        times.append(time.process_time() - began)
    return statistics.median(times)


async def main(runs: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        kernels = {}
        for i, (name, policy) in enumerate(CASES.items()):
            folder = Path(tmp) / str(i)
            folder.mkdir()
            kernels[name] = kernel(folder, policy)
            await one_run(kernels[name])  # warm: schemas, regexes, phonenumbers
        results: dict[str, list[float]] = {name: [] for name in CASES}
        for _ in range(rounds):
            for name, k in kernels.items():
                results[name].append(await median_cpu(k, runs))
    base = statistics.median(results["no stack"])
    print(f"{'case':<22} {'CPU per run':>12} {'ratio':>7}")
    for name, values in results.items():
        value = statistics.median(values)
        print(f"{name:<22} {value * 1e6:>9.0f} µs {value / base:>6.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    anyio.run(main, args.runs, args.rounds)
