"""Ctrl-C in ``plait run --thread``: a real SIGINT to a real ``plait`` process, then
``plait runs resume RUN_ID`` with no flags (issue 9: nothing lost on Ctrl-C)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import anyio
import pytest

from plait import AssistantMessage, UserMessage
from plait._store._sqlite import SQLiteStore

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

TOOLS = '''
def note(text: str) -> str:
    """Write a note."""
    return "noted " + text
'''

TASK = "tell me about the weather"


def _plait() -> str:
    script = Path(sys.executable).parent / "plait"
    assert script.exists(), f"the plait script is not installed beside {sys.executable}"
    return str(script)


def _env(db: str, config: Path) -> dict[str, str]:
    # the model comes from the flags only; nothing from the user's configuration
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    return {**env, "PLAIT_STORE": db, "PLAIT_CONFIG": str(config)}


def _start_and_interrupt(db: str, tmp_path: Path) -> tuple[str, subprocess.CompletedProcess[str]]:
    """``plait run --json --thread t`` on ``test:slow`` (60 s per answer); SIGINT once
    the run has started (its ``run.start`` event is on stdout)."""
    slow = tmp_path / "slow.toml"
    slow.write_text("[plugin.test-models]\nslow_seconds = 60\n")
    argv = [_plait(), "run", "--json", "--thread", "t", "--model", "test:slow",
            "--tool", "tools.py:note", TASK]  # fmt: skip
    proc = subprocess.Popen(argv, cwd=tmp_path, env=_env(db, slow), text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    watchdog = threading.Timer(60, proc.kill)  # a hung child fails the test, never hangs it
    watchdog.start()
    try:
        assert proc.stdout is not None
        run_id = None
        for line in proc.stdout:  # one JSON event per line
            event = json.loads(line) if line.startswith("{") else {}
            if event.get("kind") == "run.start":
                run_id = event["run_id"]
                break
        assert run_id is not None, "the run never started"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate()
    finally:
        watchdog.cancel()
        proc.kill()
    return run_id, subprocess.CompletedProcess(argv, proc.returncode, out, err)


def _recorded(db: str, run_id: str) -> tuple[Any, list[Any]]:
    async def load() -> tuple[Any, list[Any]]:
        async with SQLiteStore().open(db) as store:
            state = await store.load_run(run_id)
            history = await store.load_messages("t")
        return state, list(history.messages)

    return anyio.run(load)


def test_ctrl_c_records_the_run_and_resume_needs_no_flags(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path}/plait.db"
    (tmp_path / "tools.py").write_text(TOOLS)
    run_id, done = _start_and_interrupt(db, tmp_path)

    assert done.returncode == 130, done.stderr
    assert f"`plait runs resume {run_id}`" in done.stderr
    state, thread = _recorded(db, run_id)
    assert state.run.status == "cancelled"
    assert thread == [UserMessage(content=TASK)]
    options = state.run.options
    assert options["model"] == "test:slow"
    assert options["cli"]["tools"] == [f"{tmp_path}/tools.py:note"]

    # elsewhere, with no flags and a model that answers at once: the recorded model and
    # tool (by its absolute path) are used, and the run completes
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    fast = tmp_path / "fast.toml"
    fast.write_text("[plugin.test-models]\nslow_seconds = 0\n")
    resumed = subprocess.run([_plait(), "runs", "resume", run_id], cwd=elsewhere,
                             env=_env(db, fast), capture_output=True, text=True,
                             timeout=60)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    assert resumed.stdout.splitlines() == [f"run {run_id}: success (answer)", TASK]
    state, thread = _recorded(db, run_id)
    assert state.run.status == "success"
    assert thread == [UserMessage(content=TASK), thread[1]]  # the task once, then the answer
    assert isinstance(thread[1], AssistantMessage) and thread[1].text == TASK
