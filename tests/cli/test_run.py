"""`plait run`: live output, JSON lines, exit codes, and one-line errors."""

from __future__ import annotations

import json

WEATHER = ["--model", "scripted:weather", "--tool", "weather_tools:get_weather"]


def test_live_output_shows_tool_calls_results_completion_and_the_result(cli) -> None:
    result = cli("run", "Weather in Paris?", *WEATHER, "--output", "forecast.json")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "▶ model " in out and "· tools: get_weather" in out
    assert '→ get_weather({"city": "Paris"})' in out
    assert "← get_weather: Sunny, 21C in Paris" in out
    assert "● complete: success — sunny" in out
    assert "status: success (completion)" in out
    assert '"sky": "sunny"' in out
    assert out.index("→ get_weather") < out.index("← get_weather") < out.index("status:")


def test_streamed_text_appears_as_it_arrives(cli) -> None:
    result = cli("run", "Say hello", "--model", "scripted:text")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[1] == "Hello from a script."
    assert "output: Hello from a script." in result.stdout


def test_json_lines_parse_and_end_with_the_result(cli) -> None:
    result = cli("run", "Weather?", *WEATHER, "--output", "forecast.json", "--json")
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    events, final = lines[:-1], lines[-1]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "run.start" and kinds[-1] == "run.end"
    assert {"tool.start", "tool.end", "completion"} <= set(kinds)
    assert [e["seq"] for e in events] == list(range(len(events)))
    assert all(e["v"] == 1 and e["run_id"] == final["result"]["run_id"] for e in events)
    assert final["result"]["status"] == "success"
    assert final["result"]["output"] == {"city": "Paris", "temperature_c": 21.0, "sky": "sunny"}


def test_exit_status_reflects_the_result(cli) -> None:
    assert cli("run", "x", "--model", "scripted:fail").returncode == 1
    limited = cli("run", "x", *WEATHER, "--max-turns", "2")
    assert limited.returncode == 4, limited.stdout + limited.stderr
    assert "status: incomplete" in limited.stdout
    invalid = cli("run", "x", "--model", "scripted:bad-output", "--output", "forecast.json")
    assert invalid.returncode == 1
    assert "status: failed" in invalid.stdout


def test_errors_are_one_line_with_a_hint(cli) -> None:
    for args, expected in [
        (["--tool", "weather_tools:nope"], "has no attribute 'nope'"),
        (["--tool", "no_colon"], "expected 'module:name'"),
        (["--output", "missing.json"], "cannot be read"),
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
        "scripted:fail",
        "scripted:loop",
        "scripted:text",
        "scripted:weather",
    ]
