"""`plait run`: the live view on a terminal, only the answer when piped, JSON lines, exit
codes, and one-line errors."""

from __future__ import annotations

import json

WEATHER = ["--model", "scripted:weather", "--tool", "weather_tools:get_weather"]
FORECAST = {"city": "Paris", "temperature_c": 21.0, "sky": "sunny"}


def test_on_a_terminal_the_run_is_shown_live_then_its_result(tty) -> None:
    term = tty("run", "Weather in Paris?", *WEATHER, "--output-type", "forecast.json")
    assert term.wait() == 0, term.text
    out = term.text
    assert "▶ model " in out and "· tools: get_weather" in out
    assert '→ get_weather({"city": "Paris"})' in out
    assert "← get_weather: Sunny, 21C in Paris" in out
    assert "● complete: success — sunny" in out
    assert "status: success (completion)" in out
    assert '"sky": "sunny"' in out
    assert "usage: 2 requests, 1 tool call, " in out
    assert out.index("→ get_weather") < out.index("← get_weather") < out.index("status:")


def test_on_a_terminal_a_text_answer_is_shown_once_as_it_arrives(tty) -> None:
    term = tty("run", "Say hello", "--model", "scripted:text")
    assert term.wait() == 0, term.text
    lines = term.text.splitlines()
    assert lines[1] == "Hello from a script."
    assert term.text.count("Hello from a script.") == 1  # no "output:" repeating it
    assert "status: success (answer)" in term.text
    assert "usage: 1 request, 0 tool calls, " in term.text


def test_on_a_terminal_a_status_line_shows_while_the_model_thinks(tty) -> None:
    term = tty("run", "Take your time", "--model", "scripted:slow")
    assert term.wait() == 0, term.text
    assert "thinking… " in term.text
    assert "Done." in term.text


def test_piped_output_is_only_the_answer(cli) -> None:
    result = cli("run", "Say hello", "--model", "scripted:text")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "Hello from a script.\n"
    assert result.stderr == ""
    slow = cli("run", "Take your time", "--model", "scripted:slow")
    assert slow.stdout == "Done.\n", "no status line, no header on a pipe"


def test_piped_structured_output_is_its_json(cli) -> None:
    result = cli("run", "Weather in Paris?", *WEATHER, "--output-type", "forecast.json")
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("\n") == 1
    assert json.loads(result.stdout) == FORECAST
    for alias in ("--schema", "--output"):
        again = cli("run", "Weather in Paris?", *WEATHER, alias, "weather_tools:get_weather")
        assert "output type" not in again.stderr, (alias, again.stderr)


def test_a_failed_run_prints_no_answer_and_one_line_on_stderr(cli) -> None:
    result = cli("run", "x", "--model", "scripted:fail")
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("plait: failed (")
    assert len(result.stderr.splitlines()) == 1


def test_json_lines_parse_and_end_with_the_result(cli) -> None:
    result = cli("run", "Weather?", *WEATHER, "--output-type", "forecast.json", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    events, final = lines[:-1], lines[-1]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "run.start" and kinds[-1] == "run.end"
    assert {"tool.start", "tool.end", "completion"} <= set(kinds)
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert all(e["v"] == 1 and e["run_id"] == final["result"]["run_id"] for e in events)
    assert final["result"]["status"] == "success"
    assert final["result"]["output"] == FORECAST


def test_exit_status_reflects_the_result(cli) -> None:
    assert cli("run", "x", "--model", "scripted:fail").returncode == 1
    limited = cli("run", "x", *WEATHER, "--max-turns", "2")
    assert limited.returncode == 4, limited.stdout + limited.stderr
    assert limited.stderr.startswith("plait: incomplete (limit:turns)")
    invalid = cli("run", "x", "--model", "scripted:bad-output", "--output-type", "forecast.json")
    assert invalid.returncode == 1
    assert invalid.stderr.startswith("plait: failed (output_retries)")


def test_errors_are_one_line_with_a_hint(cli) -> None:
    for args, expected in [
        (["--tool", "weather_tools:nope"], "has no attribute 'nope'"),
        (["--tool", "no_colon"], "expected 'module:name'"),
        (["--output-type", "missing.json"], "cannot be read"),
        (["--model", "nowhere:x"], "no provider named 'nowhere'"),
    ]:
        result = cli("run", "x", "--model", "scripted:text", *args)
        assert result.returncode == 1, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith("plait: error:") and expected in lines[0], lines
        assert "hint:" in lines[0]
        assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(cli) -> None:
    result = cli("--debug", "run", "x", "--model", "scripted:text", "--tool", "nope:nope")
    assert "Traceback" in result.stderr


def test_model_resolution_uses_plait_model(cli) -> None:
    result = cli("run", "x", "--json", env={"PLAIT_MODEL": "scripted:text"})
    final = json.loads(result.stdout.splitlines()[-1])["result"]
    assert final["status"] == "success" and final["output"] == "Hello from a script."


def test_models_lists_the_scripted_provider(cli) -> None:
    result = cli("models", "--json")
    rows = {r["provider"]: r for r in json.loads(result.stdout)}
    assert rows["scripted"]["models"] == [
        "scripted:bad-output",
        "scripted:broken-tool",
        "scripted:fail",
        "scripted:loop",
        "scripted:slow",
        "scripted:text",
        "scripted:weather",
    ]
