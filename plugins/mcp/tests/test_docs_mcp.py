"""The python code blocks of docs/mcp.md's client half run as written (offline)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
DOC = ROOT / "docs" / "mcp.md"


def test_the_client_doc_examples_run() -> None:
    client_half = DOC.read_text(encoding="utf-8").split("## Serving plait over MCP")[0]
    blocks = re.findall(r"```python\n(.*?)```", client_half, flags=re.S)
    assert blocks
    for block in blocks:
        out = subprocess.run(
            [sys.executable, "-c", block],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            env={"PLAIT_DISABLE_PLUGIN_AUTOLOAD": "1", "PYTHONIOENCODING": "utf-8"},
            check=False,
        )
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip()
