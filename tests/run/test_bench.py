"""The kernel benchmark script keeps running (tiny sizes; the figures are in docs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "bench" / "bench_kernel.py"


def test_bench_kernel_runs() -> None:
    spec = importlib.util.spec_from_file_location("bench_kernel", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    figures = module.main(["--runs", "20", "--concurrent", "50"])
    assert set(figures["overhead"]) >= {"turn_us", "tool_call_us"}
    assert [c["runs"] for c in figures["concurrency"]] == [5, 50]
    assert all(c["bytes_per_run"] > 0 for c in figures["concurrency"])
