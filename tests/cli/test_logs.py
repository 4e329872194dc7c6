"""Every `plait run` and chat turn is logged in the store; `plait logs`; `-c/--continue`."""

from __future__ import annotations

import json
from pathlib import Path

PROBE = ["--model", "scripted:probe"]


def _users(stdout: str) -> list[str]:
    return json.loads(stdout)["users"]


def test_runs_are_logged_in_the_private_store_and_listed_newest_first(cli, tmp_path) -> None:
    cli("run", "first question", *PROBE)
    cli("run", "second question", "--model", "scripted:text")
    assert (tmp_path / "plait.db").exists()  # PLAIT_STORE from the autouse fixture
    listed = cli("logs").stdout.splitlines()
    assert len(listed) == 2
    assert "success" in listed[0] and "scripted:text" in listed[0]
    assert listed[0].endswith("second question") and listed[1].endswith("first question")
    assert len(cli("logs", "-n", "1").stdout.splitlines()) == 1
    rows = json.loads(cli("logs", "list", "--json").stdout)
    assert [r["prompt"] for r in rows] == ["second question", "first question"]
    assert {"id", "started_at", "status", "model", "thread"} <= set(rows[0])


def test_logs_show_one_run(cli) -> None:
    cli("run", "say hello", "--model", "scripted:text")
    run_id = json.loads(cli("logs", "--json").stdout)[0]["id"]
    for ref in ([run_id], [run_id[:6]], []):  # the id, its start, or the latest
        shown = cli("logs", "show", *ref)
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.startswith(f"run {run_id}: success (answer)")
        assert "model: scripted:text" in shown.stdout
        assert "prompt:\n  say hello" in shown.stdout
        assert "answer:\n  Hello from a script." in shown.stdout
        assert "usage: 1 request, 0 tool calls, " in shown.stdout
    missing = cli("logs", "show", "nope")
    assert missing.returncode == 1
    assert "no logged run 'nope'" in missing.stderr and "hint:" in missing.stderr


def test_no_log_and_plait_logs_off_stop_logging(cli) -> None:
    cli("run", "unlogged", *PROBE, "--no-log")
    cli("run", "unlogged too", *PROBE, env={"PLAIT_LOGS": "off"})
    assert cli("logs").stdout.startswith("no logged runs")
    assert cli("threads", "list").stdout.startswith("no threads")


def test_logs_off_is_persisted_until_logs_on(cli, tmp_path: Path) -> None:
    assert cli("logs", "off").returncode == 0
    assert (tmp_path / "data" / "plait" / "logs-off").exists()  # XDG_DATA_HOME is private
    assert "logging is off" in cli("logs", "status").stdout
    cli("run", "while off", *PROBE)
    assert cli("logs").stdout.startswith("no logged runs")
    cli("run", "env wins", *PROBE, env={"PLAIT_LOGS": "on"})  # PLAIT_LOGS wins over the file
    assert cli("logs", "on").returncode == 0
    assert "logging is on" in cli("logs", "status").stdout
    cli("run", "while on", *PROBE)
    prompts = [r["prompt"] for r in json.loads(cli("logs", "--json").stdout)]
    assert prompts == ["while on", "env wins"]


def test_a_bad_plait_logs_value_is_an_error(cli) -> None:
    result = cli("run", "x", *PROBE, env={"PLAIT_LOGS": "maybe"})
    assert result.returncode == 1 and "PLAIT_LOGS='maybe'" in result.stderr


def test_continue_goes_on_with_the_last_conversation(cli) -> None:
    cli("run", "one", *PROBE)
    assert _users(cli("run", "two", *PROBE, "-c").stdout) == ["one", "two"]
    assert _users(cli("run", "three", *PROBE, "--continue").stdout) == ["one", "two", "three"]
    assert _users(cli("run", "fresh", *PROBE).stdout) == ["fresh"]
    chat = cli("chat", *PROBE, "-c", input="four\n")
    assert _users(chat.stdout) == ["fresh", "four"]


def test_a_named_thread_still_works(cli) -> None:
    cli("run", "a", *PROBE, "--thread", "mine")
    cli("run", "elsewhere", *PROBE)
    assert _users(cli("run", "b", *PROBE, "--thread", "mine").stdout) == ["a", "b"]
    conflict = cli("run", "c", *PROBE, "--thread", "mine", "-c")
    assert conflict.returncode == 2 and "-c/--continue and --thread" in conflict.stderr


def test_continue_with_nothing_to_continue(cli) -> None:
    result = cli("run", "x", *PROBE, "-c")
    assert result.returncode == 1
    assert result.stderr.startswith("plait: error: nothing to continue")
