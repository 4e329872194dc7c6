"""The python code blocks of docs/run.md run as written."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

DOC = Path(__file__).parents[2] / "docs" / "run.md"


def test_run_doc_examples_run() -> None:
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 2
    for block in blocks:
        out = subprocess.run(
            [sys.executable, "-c", block],
            capture_output=True,
            text=True,
            timeout=60,
            env={"PLAIT_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONIOENCODING": "utf-8"},
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip()
