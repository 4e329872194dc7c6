"""The store benchmark keeps running (tiny sizes, SQLite only; PostgreSQL is smoke-tested
in plugins/postgres/tests)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).parents[1] / "bench" / "bench_store.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_store", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_store_bench_runs() -> None:
    medians = load_bench().main(["--steps", "20", "--repeats", "1", "--no-postgres", "--json"])
    assert set(medians) == {
        f"sqlite {kind}{extra}"
        for kind in ("file, synchronous=full", "file, synchronous=normal", ":memory:")
        for extra in ("", " + message")
    }
    assert all(value > 0 for value in medians.values())
