"""The crash test on PostgreSQL: random SIGKILLs mid-run, each followed by a resume.

The trials are shared with the SQLite test (``tests/threads/crash_trials.py``); the
server is the throwaway cluster of ``conftest.py``. 100 trials by default;
``PLAIT_CRASH_TRIALS=400`` runs more (docs/reliability.md).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

_TRIALS_FILE = Path(__file__).parents[3] / "tests" / "threads" / "crash_trials.py"
_spec = importlib.util.spec_from_file_location("plait_crash_trials", _TRIALS_FILE)
assert _spec is not None and _spec.loader is not None
crash_trials = importlib.util.module_from_spec(_spec)
sys.modules.setdefault(_spec.name, crash_trials)  # dataclasses look their module up
_spec.loader.exec_module(crash_trials)

TRIALS = int(os.environ.get("PLAIT_CRASH_TRIALS", "100"))
# about 60-80 s per 100 trials on 2 quiet cores (the default 120 s is tight); a busy
# machine can take 5-10 s per trial: raise PLAIT_CRASH_TIMEOUT (seconds) there
TIMEOUT = int(os.environ.get("PLAIT_CRASH_TIMEOUT", str(max(300, 3 * TRIALS))))


@pytest.mark.slow
@pytest.mark.timeout(TIMEOUT)
@pytest.mark.anyio
async def test_killed_runs_resume_without_loss_or_repeats_postgres(
    pg_url: str, tmp_path: Path
) -> None:
    assert pg_url.startswith("postgresql://")
    counts = await crash_trials.run_trials(pg_url, tmp_path, TRIALS)
    print(f"postgres crash test: {counts}")
    assert counts.trials == TRIALS
    assert counts.killed_mid_run >= TRIALS // 2  # the kills really land mid-run
    assert counts.resumed >= TRIALS // 2
    assert counts.steps_checked > 0
