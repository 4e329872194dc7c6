"""The python code blocks of docs/approvals.md run as written (offline), and the page
keeps to what the code says: every stop reason and status it names exists."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from plait._run import STATUSES, STOP_REASONS

DOC = Path(__file__).parents[2] / "docs" / "approvals.md"
TEXT = DOC.read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", TEXT, flags=re.S)


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_block_runs(block: str) -> None:
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    out = subprocess.run(
        [sys.executable, "-c", block],
        capture_output=True,
        text=True,
        timeout=90,
        env={
            "PLAIT_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PYTHONIOENCODING": "utf-8",
            "PATH": "",
            "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in paths if p),
        },
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "paused approval",
        'transfer t1 {"amount":500,"to":"eve"}',
        "success Sent 50 to Eve.",
    ]


def test_the_page_names_what_exists() -> None:
    assert BLOCKS
    assert "paused" in STATUSES and "approval" in STOP_REASONS
