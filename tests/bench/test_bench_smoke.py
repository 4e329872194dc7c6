"""The benchmark scripts must keep running: each is executed with tiny sizes."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import anyio
import pytest

HERE = Path(__file__).parent


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_import_bench_runs() -> None:
    medians = _load("bench_import").main(["--runs", "1", "--json"])
    assert set(medians) == {
        "import pydantic",
        "import pydantic + one model",
        "import plait",
        "import plait + public API",
        "plait --help (wall)",
    }
    assert all(value > 0 for value in medians.values())


def test_stack_bench_runs(capsys: pytest.CaptureFixture[str]) -> None:
    bench = _load("bench_stack")
    anyio.run(bench.main, 2, 1)
    out = capsys.readouterr().out
    assert "no stack" in out and "full pack, enforced" in out


def test_handoff_bench_runs() -> None:
    figures = anyio.run(_load("bench_handoff").main, 2, 1)
    assert set(figures) == {"plain tool run", "run with a handoff"}
    assert all(value > 0 for value in figures.values())


def test_tasks_bench_runs() -> None:
    figures = anyio.run(_load("bench_tasks").main, 1, 1)
    assert set(figures) == {"plain run", "task of a graph"}
    assert all(value > 0 for value in figures.values())


def test_mcp_bench_runs() -> None:
    medians = anyio.run(_load("bench_mcp").main, 2, 1)
    assert set(medians) == {"sdk", "plait tool", "plait run, MCP tool", "plait run, local tool"}
    assert all(value > 0 for value in medians.values())
