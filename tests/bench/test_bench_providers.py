"""The provider benchmark must keep running: executed with tiny sizes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

HERE = Path(__file__).parent


def test_provider_bench_runs() -> None:
    spec = importlib.util.spec_from_file_location("bench_providers", HERE / "bench_providers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    medians = module.main(
        [
            "--runs",
            "4",
            "--rounds",
            "1",
            "--concurrency",
            "1,4",
            "--memory-runs",
            "4",
            "--clients",
            "raw,plait-model",
            "--json",
        ]
    )
    assert set(medians) == {"raw", "plait-model"}
    for figures in medians.values():
        assert figures["cpu_per_tool_run_us"] > 0
        assert figures["runs_per_s_at_4"] > 0
        assert figures["cpu_per_chunk_us"] > 0
        assert figures["bytes_per_inflight_run"] > 0
