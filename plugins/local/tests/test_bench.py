"""The local-model benchmark script keeps running (executed with tiny sizes)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parents[3] / "tests" / "bench" / "bench_local.py"


@pytest.mark.slow
def test_bench_local_runs_and_compares_like_with_like(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("bench_local", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "bench_local", module)  # dataclasses look it up
    spec.loader.exec_module(module)
    result = module.main(["--runs", "2", "--max-tokens", "6", "--json"])
    assert result["runs"] == 2
    assert result["identical_outputs"] == 2  # same seed, same settings: the same tokens
    assert result["plait_tokens_per_s"] > 0 and result["direct_tokens_per_s"] > 0
    assert result["plait_ttft_ms"] > 0 and result["direct_ttft_ms"] > 0
