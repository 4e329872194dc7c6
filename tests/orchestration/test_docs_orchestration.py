"""The python code blocks of docs/orchestration.md run as written (offline)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

DOC = Path(__file__).parents[2] / "docs" / "orchestration.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def test_the_page_has_runnable_examples() -> None:
    assert len(BLOCKS) >= 5


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_block_runs(block: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", block],
        capture_output=True,
        text=True,
        timeout=90,
        env={
            "PLAIT_DISABLE_PLUGIN_AUTOLOAD": "1",
            "PYTHONIOENCODING": "utf-8",
            "PATH": "",
            **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},
        },
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip()


def test_every_peer_has_rows_in_the_migration_table() -> None:
    table = DOC.read_text(encoding="utf-8").split("## Migrating", 1)[1]
    for peer in ("marvin", "zyx", "pydantic-ai", "OpenAI Agents SDK", "llmling-agent"):
        assert f"| {peer} |" in table, peer
