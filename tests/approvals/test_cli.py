"""``plait runs list|show|approve``: a paused run's pending calls, decided from the shell."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import plait

BANK = Path(__file__).with_name("bank.py")


def _plait(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = Path(sys.executable).parent / "plait"
    assert script.exists(), f"the plait script is not installed beside {sys.executable}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    env["PLAIT_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    paths = env.get("PYTHONPATH", "").split(os.pathsep)  # it runs in another folder
    env["PYTHONPATH"] = os.pathsep.join(os.path.abspath(p) for p in paths if p)
    return subprocess.run(
        [str(script), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


def test_plait_runs_approve_decides_calls_one_by_one(
    bank: ModuleType, db: str, tmp_path: Path
) -> None:
    result = plait.run(
        "pay eve:500 bob:7", model=bank.model(), tools=bank.TOOLS, approve="pause", store=db,
        run_id="r1",
    )  # fmt: skip
    assert result.status == "paused"
    listed = _plait(tmp_path, "runs", "--store", db, "list", "--status", "paused")
    assert listed.returncode == 0 and "r1  paused" in listed.stdout
    shown = _plait(tmp_path, "runs", "--store", db, "show", "r1")
    assert 'pending: transfer [t0] {"amount":500,"to":"eve"}' in shown.stdout
    assert 'pending: transfer [t1] {"amount":7,"to":"bob"}' in shown.stdout
    assert "decide with: plait runs approve r1" in shown.stdout

    # the model is an object (not recorded): --model; the tools are imported from the file
    flags = ["--tool", f"{BANK}:transfer", "--tool", f"{BANK}:balance", "--model", "test:echo"]
    first = _plait(tmp_path, "runs", "approve", "r1", "--store", db, "--call", "t1",
                   "--edit", '{"amount": 8, "to": "bob"}', *flags)  # fmt: skip
    assert first.returncode == 5, first.stderr  # paused again: t0 still waits
    assert "run r1: paused (approval)" in first.stdout and "pending: transfer [t0]" in first.stdout
    assert bank.ledger() == ["bob 8"]

    second = _plait(tmp_path, "runs", "approve", "r1", "--store", db, "--deny", "too much", *flags)
    assert second.returncode == 0, second.stderr
    assert "run r1: success (answer)" in second.stdout
    assert bank.ledger() == ["bob 8"]  # t0 was denied
    shown = _plait(tmp_path, "runs", "--store", db, "show", "r1")
    assert "approval: edit transfer [t1]" in shown.stdout
    assert "approval: deny transfer [t0]" in shown.stdout
    assert "not approved: too much" in shown.stdout

    again = _plait(tmp_path, "runs", "approve", "r1", "--store", db, *flags)
    assert again.returncode == 2 and "is not paused" in again.stderr
    assert bank.ledger() == ["bob 8"]


def test_edit_needs_one_call_and_json(bank: ModuleType, db: str, tmp_path: Path) -> None:
    plait.run(
        "pay eve:500 bob:7", model=bank.model(), tools=bank.TOOLS, approve="pause", store=db,
        run_id="r1",
    )  # fmt: skip
    flags = ["--tool", f"{BANK}:transfer", "--tool", f"{BANK}:balance", "--model", "test:echo"]
    many = _plait(tmp_path, "runs", "approve", "r1", "--store", db, "--edit", "{}", *flags)
    assert many.returncode == 2 and "--edit changes one call: pass --call ID" in many.stderr
    bad = _plait(tmp_path, "runs", "approve", "r1", "--store", db, "--call", "t0",
                 "--edit", "[1]", *flags)  # fmt: skip
    assert bad.returncode == 2 and "JSON object" in bad.stderr
    unknown = _plait(tmp_path, "runs", "approve", "r1", "--store", db, "--call", "zz", *flags)
    assert unknown.returncode == 2 and "no call 'zz' waiting for approval" in unknown.stderr
    assert bank.ledger() == []
