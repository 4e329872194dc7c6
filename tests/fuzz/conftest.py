"""Fuzz settings: a bounded, reproducible run in CI; longer (and random) on request.

Every fuzz target takes its Hypothesis settings from ``fuzz_settings(n)``, where ``n``
is the target's CI budget (examples). Set ``PLAIT_FUZZ_EXAMPLES`` to run each target
that many examples instead, with a fresh random seed each time (a found failure is
printed with ``@reproduce_failure`` and the minimized example)::

    PLAIT_FUZZ_EXAMPLES=20000 python3 -m uv run --no-sync pytest tests/fuzz -q -p no:randomly

CI mode is derandomized (the same examples every run, so CI never flakes on a new
seed) and keeps no example database.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

__all__ = ["ENV_VAR", "fuzz_settings"]

ENV_VAR = "PLAIT_FUZZ_EXAMPLES"
"""Environment variable: examples per target for a long (randomized) run."""


def _long_run() -> int:
    """The examples per target asked for by ``PLAIT_FUZZ_EXAMPLES``; 0 in CI mode."""
    wanted = os.environ.get(ENV_VAR, "").strip()
    return int(wanted) if wanted.isdigit() else 0


def fuzz_settings(ci_examples: int) -> settings:
    """Hypothesis settings for one fuzz target whose CI budget is ``ci_examples``."""
    long_run = _long_run()
    return settings(
        max_examples=long_run or ci_examples,
        deadline=None,
        derandomize=not long_run,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
        ],
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A long run lifts the suite's per-test timeout from the fuzz targets (only)."""
    if not _long_run():
        return
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.timeout(0))
