"""The crash test on SQLite: random SIGKILLs mid-run, each followed by a resume.

100 trials by default; ``PLAIT_CRASH_TRIALS=600`` runs more (docs/reliability.md).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

_spec = importlib.util.spec_from_file_location(
    "plait_crash_trials", Path(__file__).with_name("crash_trials.py")
)
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
async def test_killed_runs_resume_without_loss_or_repeats_sqlite(tmp_path: Path) -> None:
    # synchronous=normal: a killed process loses nothing in WAL mode (power loss could)
    url = f"sqlite:///{tmp_path}/crash.db?synchronous=normal"
    counts = await crash_trials.run_trials(url, tmp_path, TRIALS)
    print(f"sqlite crash test: {counts}")
    assert counts.trials == TRIALS
    assert counts.killed_mid_run >= TRIALS // 2  # the kills really land mid-run
    assert counts.resumed >= TRIALS // 3
    assert counts.steps_checked > 0
