"""Kernel overhead benchmark (issue 3): CPU per model turn and per tool call, no HTTP.

Run by hand:  python tests/bench/bench_kernel.py [--runs 2000] [--concurrent 10000]

* every figure is a median of CPU time (``time.process_time_ns``, all threads) over
  ``--runs`` runs of one script, minus the median CPU of the scripted model alone;
* per model turn and per tool call come from slopes (runs of 1 vs 21 turns, or 1 vs 21
  calls in one turn), so the fixed cost of a run is reported on its own;
* concurrency: ``--concurrent`` runs in flight at once in one process (each waits in
  its model turn), memory per run measured with tracemalloc at two sizes to show that
  it stays flat.

``tests/run/test_bench.py`` runs ``main`` with tiny numbers so this script cannot rot.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

import plait
from plait._contracts import RequestParams
from plait._kernel import Kernel
from plait._messages import UserMessage
from plait.testing import ScriptedModel, Turn, call, complete


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def add_async(a: int, b: int) -> int:
    """Add two integers (async: no worker thread)."""
    return a + b


async def _median_ns(runs: int, make: Callable[[], Awaitable[Any]]) -> float:
    samples: list[int] = []
    for _ in range(runs):
        start = time.process_time_ns()
        await make()
        samples.append(time.process_time_ns() - start)
    return statistics.median(samples)


def _tool_turns(turns: int, calls_per_turn: int, name: str) -> list[Any]:
    # every call has its own arguments: identical ones would meet the loop protection
    # (Limits.repeated_tool_calls) and be answered from history instead of being run
    script: list[Any] = [
        Turn(calls=tuple(call(name, a=t * calls_per_turn + i, b=2) for i in range(calls_per_turn)))
        for t in range(turns)
    ]
    return [*script, "done"]


def _text_turns(turns: int) -> list[Any]:
    # with require_completion=True each text answer is one more turn (a corrective loop)
    return ["not yet"] * turns + [complete(result="done")]


async def _model_only(script: list[Any]) -> None:
    """What the scripted model alone costs for ``script`` (subtracted from the runs).

    Unstreamed, as the loop asks it: these runs have no event handler (nobody watches).
    """
    model = ScriptedModel(script)
    params = RequestParams()
    msgs = [UserMessage(content="hi")]
    for _ in script:
        await model.request(msgs, params)


async def _kernel_ns(runs: int, script: list[Any], **options: Any) -> float:
    """Median CPU of a whole run minus the scripted model's own median CPU."""

    def one() -> Awaitable[Any]:
        return plait.arun("hi", model=ScriptedModel(script), **options)

    return await _median_ns(runs, one) - await _median_ns(runs, lambda: _model_only(script))


async def measure(runs: int) -> dict[str, float]:
    """Median CPU microseconds of the kernel per model turn, per tool call, per run.

    Slopes, so the fixed cost of a run does not inflate the per-turn figures:
    ``turn_us`` from runs of 1 vs 21 text turns; ``turn_with_call_us`` from runs of 1 vs
    21 turns of one tool call each; ``tool_call_us`` from one turn of 1 vs 21 parallel
    calls; ``sync_tool_call_us`` the same with a sync tool (worker thread).
    """
    kernel = Kernel(entry_points=())
    t_async, t_sync = plait.tool(add_async), plait.tool(add)
    text = {
        "kernel": kernel,
        "require_completion": True,
        "limits": plait.Limits(output_retries=100),
    }
    for _ in range(100):  # warm up caches and the worker threads
        for t in (t_async, t_sync):
            await plait.arun(
                "hi", model=ScriptedModel(_tool_turns(2, 2, t.name)), tools=[t], kernel=kernel
            )
        await plait.arun("hi", model=ScriptedModel(_text_turns(2)), **text)

    async def slope(make: Callable[[int], list[Any]], **options: Any) -> float:
        low = await _kernel_ns(runs, make(1), **options)
        high = await _kernel_ns(runs, make(21), **options)
        return (high - low) / 20 / 1000

    return {
        "turn_us": await slope(_text_turns, **text),
        "turn_with_call_us": await slope(
            lambda n: _tool_turns(n, 1, t_async.name), tools=[t_async], kernel=kernel
        ),
        "tool_call_us": await slope(
            lambda n: _tool_turns(1, n, t_async.name), tools=[t_async], kernel=kernel
        ),
        "sync_tool_call_us": await slope(
            lambda n: _tool_turns(1, n, t_sync.name), tools=[t_sync], kernel=kernel
        ),
        "run_us": await _kernel_ns(runs, ["hi"], kernel=kernel) / 1000,
    }


async def _in_flight(n: int, trace: bool) -> tuple[float, float]:
    """Start ``n`` runs that all wait in their model turn; (bytes in flight, seconds)."""
    kernel = Kernel(entry_points=())
    gate = anyio.Event()
    all_in = anyio.Event()
    arrived = 0

    async def waiting_model(messages: Any, params: Any) -> str:
        nonlocal arrived
        arrived += 1
        if arrived == n:
            all_in.set()
        await gate.wait()
        return "done"

    results: list[Any] = []

    async def one() -> None:
        model = plait.testing.FunctionModel(waiting_model)
        results.append(await plait.arun("hi", model=model, kernel=kernel))

    gc.collect()
    if trace:
        tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(n):
            tg.start_soon(one)
        await all_in.wait()
        in_flight = tracemalloc.get_traced_memory()[0] - base
        gate.set()
    elapsed = time.perf_counter() - start
    tracemalloc.stop()
    assert len(results) == n and all(r.status == "success" for r in results)
    return in_flight, elapsed


async def concurrent(n: int) -> dict[str, float]:
    """``n`` runs in flight at once: memory per run (tracemalloc) and wall time (untraced)."""
    in_flight, _ = await _in_flight(n, trace=True)
    _, seconds = await _in_flight(n, trace=False)
    return {"runs": n, "bytes_per_run": in_flight / n, "seconds": seconds}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--concurrent", type=int, default=10_000)
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {"overhead": anyio.run(measure, args.runs)}
    small = max(1, args.concurrent // 10)
    figures["concurrency"] = [anyio.run(concurrent, small), anyio.run(concurrent, args.concurrent)]
    return figures


if __name__ == "__main__":
    out = main()
    o = out["overhead"]
    print(f"kernel CPU per model turn:             {o['turn_us']:8.1f} µs")
    print(f"kernel CPU per turn with one tool call:{o['turn_with_call_us']:8.1f} µs")
    print(f"kernel CPU per parallel tool call:     {o['tool_call_us']:8.1f} µs")
    print(f"kernel CPU per sync tool call:         {o['sync_tool_call_us']:8.1f} µs")
    print(f"kernel CPU of a one-turn run:          {o['run_us']:8.1f} µs")
    for c in out["concurrency"]:
        print(
            f"{c['runs']:>6} concurrent runs: {c['bytes_per_run'] / 1024:6.1f} KiB per run, "
            f"{c['seconds']:.2f} s"
        )
