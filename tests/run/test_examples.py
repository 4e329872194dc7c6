"""Every run example executes offline and prints what its docstring promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

EXPECTED = {
    "run_sync.py": "It is 21°C and sunny in Paris.",
    "run_async.py": "apple: 0.5 € (success)",
    "run_stream.py": "sync: no event loop needed",
    "run_iter.py": "output: The answer is 42.",
    "run_background.py": "status: cancelled",
    "agent.py": "cashier: Bye!",
    "structured_output.py": "status=success verified=True turns=3",
    "handoffs.py": "writer -> editor: Edited and done.",
    "team.py": "(style & facts & tone) | editor -> Edited after 3 reviews. [4 requests]",
    "task_graph.py": "plan: 3 nights in Oslo for 720 EUR",
    "planning.py": "plan revision 2: 3/3 steps done",
    "repeat.py": "poller: runs=4 successes=3 failures=1",
    "jobs.py": "reader: Summary(title='Plait', words=9) status=success verified=True",
    "mcp_serve_agent.py": "cashier: That is 11.0 USD.",
    "mcp_tools.py": "Oslo tomorrow: 21.5°C (70.7°F), cloudy.",
    "approval_app.py": "decided -> 200 success: sent 50 to eve; Tool 'transfer' was not approved",
    "conversation_state.py": "request 2: previous=resp_1 input=['function_call_output']",
    "inputs.py": "refused: image for test:text-only; requests sent: 0",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(name: str) -> None:
    proc = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        capture_output=True,
        text=True,
        timeout=90,
        encoding="utf-8",
        env={"PYTHONIOENCODING": "utf-8", "PATH": "", "PLAIT_DISABLE_PLUGIN_AUTOLOAD": "1"},
    )
    assert proc.returncode == 0, proc.stderr
    assert EXPECTED[name] in proc.stdout


def test_every_run_example_is_tested() -> None:
    run_examples = {
        p.name
        for p in EXAMPLES.glob("*.py")
        if p.name.startswith(
            (
                "run_",
                "agent",
                "structured_output",
                "handoffs",
                "team",
                "task_graph",
                "planning",
                "repeat",
                "jobs",
                "mcp_serve",
                "mcp_tools",
                "approval_app",
                "conversation_state",
                "inputs",
            )
        )
    }
    assert run_examples == set(EXPECTED)
