"""The README's Python example runs as written on the embedded local model, and is right.

The example is run by ``tests/bench/bench_readme.py`` (the benchmark that reports how
often it is right over many runs) in fresh processes with no plait configuration: once
with the defaults a newcomer gets, and with two other sampler seeds set through
configuration, since another CPU gives other tokens as another seed does. Each run must
be *correct* — a success whose Forecast names Paris with a sunny sky — not merely valid.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parent / "bench" / "bench_readme.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_readme", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_the_readme_shows_one_python_example() -> None:
    code = _bench().readme_code()
    assert "plait.run(" in code and "output=Forecast" in code


@pytest.mark.timeout(900)  # three real-model runs in fresh processes
@pytest.mark.parametrize("seed", [None, 1, 2])
def test_the_readme_example_is_right(seed: int | None) -> None:
    bench = _bench()
    outcome = bench.run_once(bench.readme_code(), seed, timeout=300)
    assert outcome.exit_code == 0, outcome.output
    assert outcome.correct, f"{outcome.status} {outcome.output}"


def test_a_validated_but_wrong_answer_is_not_correct() -> None:
    bench = _bench()
    assert bench.is_correct("success city='Paris' sky='sunny'\n")
    assert not bench.is_correct("success city='success' sky='sunny'\n")
    assert not bench.is_correct("success city='Paris' sky='cloudy'\n")
    assert not bench.is_correct("failed None\n")
