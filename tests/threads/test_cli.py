"""``plait threads ...`` and ``plait runs ...`` against a real SQLite store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import plait
from plait._cli import main
from plait.testing import ScriptedModel, call, make_kernel

TOOL_MODULE = '''
from plait import tool

CALLS = []

@tool(idempotent=False)
def note(text: str) -> str:
    """Write a note."""
    CALLS.append(text)
    return "noted " + text
'''


@pytest.fixture
def filled(db: str) -> str:
    kernel = make_kernel()
    plait.run("hello", model=ScriptedModel(["hi there"]), thread="support-42", store=db,
              kernel=kernel, run_id="run-a")  # fmt: skip
    plait.run("bye", model=ScriptedModel(["goodbye"]), thread="support-42", store=db,
              kernel=kernel, run_id="run-b")  # fmt: skip
    return db


def _out(capsys: Any, *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_threads_list_show_export_delete(filled: str, capsys: Any) -> None:
    status, out, _ = _out(capsys, "threads", "--store", filled, "list")
    assert status == 0 and out.startswith("support-42  4 messages")
    status, out, _ = _out(capsys, "threads", "--store", filled, "show", "support-42")
    lines = out.splitlines()
    assert status == 0 and len(lines) == 4
    assert "user: hello" in lines[0] and "assistant: goodbye" in lines[3]
    status, out, _ = _out(capsys, "threads", "--store", filled, "export", "support-42",
                          "--format", "json")  # fmt: skip
    exported = json.loads(out)
    assert exported["thread"]["id"] == "support-42" and len(exported["messages"]) == 4
    assert sorted(r["run"]["id"] for r in exported["runs"]) == ["run-a", "run-b"]
    status, out, _ = _out(capsys, "threads", "--store", filled, "delete", "support-42")
    assert status == 0 and "deleted" in out
    status, _, err = _out(capsys, "threads", "--store", filled, "show", "support-42")
    assert status == 1
    assert err.startswith("plait: error: ") and "no thread named 'support-42'" in err
    assert "(hint: check the store URL" in err and len(err.strip().splitlines()) == 1


def test_runs_list_and_show(filled: str, capsys: Any) -> None:
    status, out, _ = _out(capsys, "runs", "--store", filled, "list", "--thread", "support-42")
    assert status == 0 and [line.split()[0] for line in out.splitlines()] == ["run-b", "run-a"]
    status, out, _ = _out(capsys, "runs", "list", "--status", "running", "--store", filled)
    assert out.startswith("no runs")
    status, out, _ = _out(capsys, "runs", "--store", filled, "show", "run-a")
    assert status == 0 and "run run-a: success" in out
    assert "1 model_response" in out and "2 completion      success (answer)" in out
    status, out, _ = _out(capsys, "runs", "--store", filled, "show", "run-a", "--json")
    assert [s["kind"] for s in json.loads(out)["steps"]] == ["model_response", "completion"]


def test_runs_resume_with_tools(
    db: str, tmp_path: Path, capsys: Any, monkeypatch: Any, crash_kernel: Any
) -> None:
    (tmp_path / "cli_tools.py").write_text(TOOL_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    import cli_tools  # type: ignore[import-not-found]

    # a run that died right after its model turn was recorded: it stays `running`
    kernel = crash_kernel("model_response", 1, "after")
    model = ScriptedModel([call("note", text="x", id="n1")])
    with pytest.raises(BaseException, match="after model_response"):
        plait.run("note it", model=model, tools=[cli_tools.note], store="crash+" + db,
                  kernel=kernel, run_id="run-r")  # fmt: skip
    status, _, err = _out(capsys, "runs", "--store", db, "resume", "run-r", "--model",
                          "test:echo")  # fmt: skip
    assert status == 2 and "missing note" in err and "--tool" in err
    status, out, _ = _out(capsys, "runs", "--store", db, "resume", "run-r",
                          "--tool", "cli_tools:note", "--model", "test:echo")  # fmt: skip
    assert status == 0, out
    assert out.splitlines()[0] == "run run-r: success (answer)"
    assert cli_tools.CALLS == ["x"]


def test_the_store_comes_from_plait_store(filled: str, capsys: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("PLAIT_STORE", filled)
    status, out, _ = _out(capsys, "threads", "list")
    assert status == 0 and out.startswith("support-42  4 messages")
