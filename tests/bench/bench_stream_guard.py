"""What output and stream guardrails cost a streamed answer (docs/guardrails.md).

Run by hand:  python tests/bench/bench_stream_guard.py [--runs 30] [--chunks 20]
              [--delay 0.01] [--json]

* latency: a scripted streaming model sends ``--chunks`` text pieces, ``--delay``
  seconds apart; for a run without guardrails and for runs with one output guardrail or
  one stream guardrail (async, sync, and a sync one that takes 20 ms; a stream guardrail
  is checked at each sentence end, each chunk here) it reports the median over ``--runs``
  runs of the time from entering ``plait.stream`` to the first ``text.delta`` the
  consumer receives (time to first visible text) and to the end of the run;
* CPU: the median cost of ``private_copy`` (what each guardrail is handed) on typical
  outputs, and of one sync guardrail call (a worker thread) against an async one.

``tests/run/test_stream_guardrails.py`` runs ``main`` with tiny numbers so this script
cannot rot.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from typing import Any

import anyio
from pydantic import BaseModel

import plait
from plait._context import Context
from plait._contracts import GuardrailStage
from plait._kernel import Kernel
from plait._run._checks import private_copy, run_guardrails
from plait.testing import ScriptedModel, Turn, make_kernel


class Forecast(BaseModel):
    """A typical structured output: a few scalars and a list."""

    city: str
    summary: str
    temperatures: list[float]


def _fine_sync(text: str) -> bool:
    return True


async def _fine_async(text: str) -> bool:
    return True


def _slow_sync(text: str) -> bool:
    time.sleep(0.02)
    return True


GUARDS: dict[str, tuple[GuardrailStage, Callable[..., Any]] | None] = {
    "no guardrail": None,
    "output guardrail (async)": ("output", _fine_async),
    "output guardrail (sync, thread)": ("output", _fine_sync),
    "output guardrail (sync, 20 ms)": ("output", _slow_sync),
    "stream guardrail (async)": ("stream", _fine_async),
    "stream guardrail (sync, thread)": ("stream", _fine_sync),
    "stream guardrail (sync, 20 ms)": ("stream", _slow_sync),
}


async def _one(
    guard: tuple[GuardrailStage, Callable[..., Any]] | None,
    chunks: int,
    delay: float,
    kernel: Kernel,
) -> tuple[float, float]:
    text = "".join(f"word{i:03d}. " for i in range(chunks))  # 9 characters a chunk
    model = ScriptedModel([Turn(text=text, delay=delay)], chunk_size=9)
    guards = [] if guard is None else [plait.guardrail(stage=guard[0])(guard[1])]
    start = time.perf_counter()
    first = None
    async with plait.stream("x", model=model, guardrails=guards, kernel=kernel) as s:
        async for event in s:
            if first is None and event.kind == "text.delta":
                first = time.perf_counter() - start
        await s.result()
    assert first is not None
    return first, time.perf_counter() - start


async def latency(runs: int, chunks: int, delay: float) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {}
    kernel = make_kernel()  # one kernel: its setup is not what is measured
    for label, guard in GUARDS.items():
        samples = [await _one(guard, chunks, delay, kernel) for _ in range(runs)]
        figures[label] = {
            "first_text_ms": statistics.median(s[0] for s in samples) * 1e3,
            "total_ms": statistics.median(s[1] for s in samples) * 1e3,
        }
    return figures


def _median_us(fn: Callable[[], Any], runs: int) -> float:
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1e3


def copy_costs(runs: int) -> dict[str, float]:
    forecast = Forecast(city="Paris", summary="mild, some rain", temperatures=[21.0, 19.5, 18.0])
    subjects: dict[str, Any] = {
        "str (500 chars)": "x" * 500,
        "pydantic model (3 fields, a list)": forecast,
        "dict of lists": {"cities": ["Paris", "Lyon"], "temps": [21, 19]},
        "ToolCall (str fields)": plait.ToolCall(id="c1", name="pay", arguments='{"amount": 5}'),
    }
    return {label: _median_us(lambda v=v: private_copy(v), runs) for label, v in subjects.items()}


async def check_costs(runs: int) -> dict[str, float]:
    ctx = Context(run_id="bench")
    figures = {}
    for label, fn in (("async guardrail call", _fine_async), ("sync guardrail call", _fine_sync)):
        guards = [plait.guardrail(stage="output")(fn)]
        samples = []
        for _ in range(runs):
            start = time.perf_counter_ns()
            await run_guardrails(guards, "output", "text", ctx)
            samples.append(time.perf_counter_ns() - start)
        figures[label] = statistics.median(samples) / 1e3
    return figures


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--chunks", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.01)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    figures: dict[str, Any] = {
        "stream": anyio.run(latency, args.runs, args.chunks, args.delay),
        "copy_us": copy_costs(max(args.runs, 1) * 100),
        "check_us": anyio.run(check_costs, max(args.runs, 1) * 10),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"{args.chunks} chunks, {args.delay * 1e3:g} ms apart; median of {args.runs} runs")
        for label, f in figures["stream"].items():
            first, end = f["first_text_ms"], f["total_ms"]
            print(f"  {label:34} first text {first:7.1f} ms   end {end:7.1f} ms")
        for kind in ("copy_us", "check_us"):
            for label, us in figures[kind].items():
                print(f"  {label:34} {us:8.2f} µs")
    return figures


if __name__ == "__main__":
    main()
