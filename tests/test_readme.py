"""The README's Python example runs as written (on the embedded local model)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"


@pytest.mark.timeout(600)  # a real model in a subprocess: slow on a loaded machine
def test_readme_python_blocks_run(tmp_path: Path) -> None:
    # the code runs as written; configuration pins the local model's sampling so the
    # test is the same run every time (plait-local samples at temperature 0.2)
    (tmp_path / "plait.toml").write_text("[plugin.local]\ntemperature = 0.0\n")
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README shows a Python example"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "OPENAI_"))}
    for code in blocks:
        result = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=300,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        status, _, output = result.stdout.strip().partition(" ")
        assert status == "success", result.stdout
        assert "sky=" in output and "city=" in output
