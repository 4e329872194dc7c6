"""`plait chat`: a prompt loop on piped stdin and on a pseudo-terminal, with history."""

from __future__ import annotations

import json


def _answers(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_piped_chat_answers_each_line_and_each_turn_sees_the_previous(cli) -> None:
    result = cli("chat", "--model", "scripted:probe", input="first\n\nsecond\n/exit\nnever\n")
    assert result.returncode == 0, result.stderr
    answers = _answers(result.stdout)  # only the answers: no prompt, no header
    assert [a["users"] for a in answers] == [["first"], ["first", "second"]]


def test_multi_line_input_and_the_end_of_input(cli) -> None:
    text = "!multi\nline one\nline two\n!end\n/quit\n"
    result = cli("chat", "--model", "scripted:probe", input=text)
    assert _answers(result.stdout)[0]["users"] == ["line one\nline two"]
    at_eof = cli("chat", "--model", "scripted:probe", input="only\n")
    assert at_eof.returncode == 0 and _answers(at_eof.stdout)[0]["users"] == ["only"]


def test_chat_takes_the_run_flags(cli) -> None:
    result = cli("chat", "--model", "scripted:probe", "-o", "temperature", "0", "-o", "k", "v",
                 "--no-stream", input="hi\n")  # fmt: skip
    answer = _answers(result.stdout)[0]
    assert answer["settings"]["temperature"] == 0 and answer["options"] == {"k": "v"}
    assert answer["mode"] == "request"


def test_chat_without_logging_keeps_the_history_in_memory(cli) -> None:
    result = cli("chat", "--model", "scripted:probe", "--no-log", input="a\nb\n")
    assert _answers(result.stdout)[1]["users"] == ["a", "b"]
    assert cli("logs").stdout.startswith("no logged runs")


def test_chat_on_a_terminal(tty) -> None:
    term = tty("chat", "--model", "scripted:probe")
    term.expect("/exit or /quit (or Ctrl-D) ends it")
    term.expect("> ")
    term.send("hello")
    term.expect('"users": ["hello"]}')
    term.expect("> ")
    term.send("!multi")
    term.expect("... ")
    term.send("two")
    term.send("lines")
    term.send("!end")
    term.expect('"users": ["hello", "two\\nlines"]}')
    term.send("/exit")
    assert term.wait() == 0, term.text


def test_ctrl_d_ends_a_chat_on_a_terminal(tty) -> None:
    term = tty("chat", "--model", "scripted:probe")
    term.expect("> ")
    term.send("\x04")  # Ctrl-D on an empty line: end of input
    assert term.wait() == 0, term.text
