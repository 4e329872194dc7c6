"""Precision and recall on the labelled set stay at or above the figures in
docs/guardrails-pack.md (tests/bench/bench_guardrails_pack.py computes them)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[3]

# detector -> (precision, recall) as reported in docs/guardrails-pack.md
FLOORS = {
    "pii": (0.98, 1.0),
    "secrets": (1.0, 1.0),
    "injection": (0.94, 0.90),
    "tool_policy": (1.0, 1.0),
}


def _bench() -> ModuleType:
    path = ROOT / "tests" / "bench" / "bench_guardrails_pack.py"
    spec = importlib.util.spec_from_file_location("bench_guardrails_pack", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("detector", sorted(FLOORS))
def test_precision_and_recall_hold(detector: str) -> None:
    scores = _bench().score(detector)
    precision, recall = FLOORS[detector]
    assert scores.examples >= 60
    assert scores.precision >= precision, scores
    assert scores.recall >= recall, scores


def test_each_set_mixes_positives_and_negatives() -> None:
    bench = _bench()
    for detector in FLOORS:
        rows, _ = bench.load(detector)
        positives = sum(1 for r in rows if r["label"])
        assert 0.3 < positives / len(rows) < 0.7, detector


def test_the_benchmark_runs() -> None:
    report = _bench().main(["--repeats", "1", "--json"], out=lambda _: None)
    assert set(report) == {*FLOORS, "size_caps_cpu_us"}
    assert all(report[d]["cpu_us_per_check"] > 0 for d in FLOORS)
