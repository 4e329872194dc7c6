"""The store benchmark's PostgreSQL cases keep running (tiny sizes, the test cluster)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).parents[3] / "tests" / "bench" / "bench_store.py"


def test_store_bench_runs_on_postgres(pg_cluster_url: str) -> None:
    spec = importlib.util.spec_from_file_location("bench_store", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    medians = bench.main(["--steps", "10", "--repeats", "1", "--postgres-url", pg_cluster_url])
    assert medians["postgresql (local, fsync on)"] > 0
    assert medians["postgresql (local, fsync on) + message"] > 0
