"""``examples/threads.py`` runs offline and prints what it promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "threads.py"


def test_threads_example_runs() -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLE)],
        capture_output=True,
        text=True,
        timeout=90,
        encoding="utf-8",
        env={"PYTHONIOENCODING": "utf-8", "PATH": "", "PLAIT_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines == [
        "the model saw 3 messages",
        "thread support-42: Your order number is 1234.",
        "interrupted",
        "resumed: success: Done: Ada knows her order ships today, and the ticket is closed.",
        "emails sent: 1, tickets closed: ['T-1234']",
        "thread support-42 holds 10 messages",
    ]
