"""A paused run is resumed by another process, with each kind of decision, also after
the pausing process was killed with SIGKILL; a side effect happens exactly once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BANK = Path(__file__).with_name("bank.py")
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "BANK_"))}
    # built-in plugins only (the store, the test models): quicker, and nothing installed interferes
    env["PLAIT_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return {**env, "BANK_LEDGER": str(tmp_path / "ledger.txt"), **extra}


def _bank(tmp_path: Path, *args: str, **extra: str) -> tuple[int, dict[str, Any]]:
    """``python bank.py ARGS`` in a process of its own: its exit status and JSON line."""
    proc = subprocess.run(
        [sys.executable, str(BANK), *args],
        env=_env(tmp_path, **extra),
        capture_output=True,
        text=True,
        timeout=60,
    )
    lines = proc.stdout.splitlines()
    return proc.returncode, (json.loads(lines[-1]) if lines else {"stderr": proc.stderr})


def _ledger(tmp_path: Path) -> list[str]:
    path = tmp_path / "ledger.txt"
    return path.read_text().splitlines() if path.exists() else []


DECISIONS = {
    "approve": (["approve"], "sent 500 to eve; 1000", ["eve 500"]),
    "deny": (["deny", "later"], "Tool 'transfer' was not approved: later.; 1000", []),
    "edit": (["edit", {"amount": 5, "to": "eve"}], "sent 5 to eve; 1000", ["eve 5"]),
}


@pytest.mark.parametrize("kind", sorted(DECISIONS))
def test_a_second_process_resumes_with_each_decision(tmp_path: Path, db: str, kind: str) -> None:
    decision, output, ledger = DECISIONS[kind]
    code, paused = _bank(tmp_path, "pause", db, "r1", "pay eve:500")
    assert (code, paused) == (0, {"status": "paused", "output": None, "pending": ["t0"]})
    code, done = _bank(tmp_path, "resume", db, "r1", json.dumps({"t0": decision}))
    assert (code, done["status"], done["output"]) == (0, "success", output)
    assert _ledger(tmp_path) == ledger


def test_a_pause_survives_kill_9_and_the_decision_is_used_once(tmp_path: Path, db: str) -> None:
    argv = [sys.executable, str(BANK), "pause", db, "r1", "pay eve:500 bob:7", "--sleep"]
    with subprocess.Popen(argv, env=_env(tmp_path), stdout=subprocess.PIPE, text=True) as proc:
        try:
            assert proc.stdout is not None
            paused = json.loads(proc.stdout.readline())  # the run returned: it is paused
            assert paused["status"] == "paused" and paused["pending"] == ["t0", "t1"]
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait(timeout=30) == -signal.SIGKILL
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
    decisions = json.dumps({"t0": ["approve"], "t1": ["edit", {"amount": 8, "to": "bob"}]})
    code, done = _bank(tmp_path, "resume", db, "r1", decisions)
    assert (code, done["output"]) == (0, "sent 500 to eve; sent 8 to bob; 1000")
    code, again = _bank(tmp_path, "resume", db, "r1", decisions)  # replayed: refused
    assert code == 2 and "is not paused" in again["error"]
    assert sorted(_ledger(tmp_path)) == ["bob 8", "eve 500"]  # each exactly once


def test_a_process_killed_inside_an_approved_call_never_repeats_it(tmp_path: Path, db: str) -> None:
    _bank(tmp_path, "pause", db, "r1", "pay eve:500")
    code, _ = _bank(
        tmp_path, "resume", db, "r1", json.dumps({"t0": ["approve"]}), BANK_DIE_AFTER_TRANSFER="1"
    )  # fmt: skip
    assert code == -signal.SIGKILL
    assert _ledger(tmp_path) == ["eve 500"]
    code, done = _bank(tmp_path, "resume", db, "r1", "{}")  # the recorded decision holds
    assert code == 0 and done["status"] == "success"
    assert "outcome of this call is unknown" in done["output"]  # not called again
    assert _ledger(tmp_path) == ["eve 500"]
