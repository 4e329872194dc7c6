"""`plait run`: the task from stdin, model options (`-o KEY VALUE`) and `--no-stream`."""

from __future__ import annotations

import json


def _seen(stdout: str) -> dict:
    """What the probe model was given (it answers with that, as JSON)."""
    return json.loads(stdout)


def test_the_task_is_read_from_piped_stdin(cli) -> None:
    result = cli("run", "--model", "scripted:probe", input="Say it back\n")
    assert result.returncode == 0, result.stderr
    assert _seen(result.stdout)["users"] == ["Say it back"]
    dash = cli("run", "-", "--model", "scripted:probe", input="From a dash\n")
    assert _seen(dash.stdout)["users"] == ["From a dash"]


def test_piped_stdin_comes_first_then_the_argument(cli) -> None:
    result = cli("run", "Summarise this.", "--model", "scripted:probe", input="notes\nmore\n")
    assert result.returncode == 0, result.stderr
    assert _seen(result.stdout)["users"] == ["notes\nmore\n\nSummarise this."]


def test_an_argument_alone_is_the_task(cli) -> None:
    result = cli("run", "Only this", "--model", "scripted:probe")  # stdin is /dev/null
    assert _seen(result.stdout)["users"] == ["Only this"]


def test_no_task_at_all_is_a_usage_error(cli) -> None:
    result = cli("run", "--model", "scripted:probe", input="  \n")
    assert result.returncode == 2
    assert result.stderr.startswith("plait: error: the task is empty (hint: ")
    assert result.stdout == ""


def test_options_reach_the_model_and_its_settings(cli) -> None:
    result = cli(
        "run", "x", "--model", "scripted:probe",
        "-o", "temperature", "0.5", "--option", "max-tokens", "100", "-o", "stop", "END",
        "-o", "depth", "3", "-o", "flavour", "spicy", "-o", "tags", '["a", "b"]',
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    seen = _seen(result.stdout)
    assert seen["settings"] == {"temperature": 0.5, "max_tokens": 100, "stop": ["END"]}
    assert seen["options"] == {"depth": 3, "flavour": "spicy", "tags": ["a", "b"]}


def test_a_bad_option_value_is_one_clear_line(cli) -> None:
    for option, expected in [
        (["-o", "temperature", "hot"], "-o temperature 'hot': Input should be a valid number"),
        (["-o", "max_tokens", "-5"], "-o max_tokens -5: Input should be greater than 0"),
        (["-o", "not a name", "1"], "-o 'not a name': not an option name"),
    ]:
        result = cli("run", "x", "--model", "scripted:probe", *option)
        assert result.returncode == 2, (option, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("plait: error: "), lines
        assert expected in lines[0] and "(hint: write -o KEY VALUE" in lines[0]


def test_no_stream_asks_the_model_unstreamed(cli) -> None:
    streamed = cli("run", "x", "--model", "scripted:probe", "--json")
    final = json.loads(streamed.stdout.splitlines()[-1])["result"]
    assert json.loads(final["output"])["mode"] == "stream"
    unstreamed = cli("run", "x", "--model", "scripted:probe", "--json", "--no-stream")
    lines = [json.loads(line) for line in unstreamed.stdout.splitlines()]
    assert json.loads(lines[-1]["result"]["output"])["mode"] == "request"
    deltas = [e for e in lines[:-1] if e["kind"] == "text.delta"]
    assert len(deltas) == 1, "the answer arrives at the end, in one piece"


def test_no_stream_on_a_terminal_shows_the_answer_at_the_end(tty) -> None:
    term = tty("run", "x", "--model", "scripted:probe", "--no-stream")
    assert term.wait() == 0, term.text
    assert '"mode": "request"' in term.text
    assert "status: success (answer)" in term.text


def test_no_task_on_a_terminal_says_how_to_give_one(tty) -> None:
    term = tty("run", "--model", "scripted:probe")
    assert term.wait() == 2
    assert 'plait: error: no task given (hint: plait run "your task", or pipe it' in term.text
