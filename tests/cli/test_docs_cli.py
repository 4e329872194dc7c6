"""docs/cli.md names every command, sub-action and flag of `plait`, walked from the real
parsers (the COMMANDS table): a flag added without its documentation fails here."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from plait._cli import COMMANDS, _full_parser, _parser

DOC = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text()
EVERYWHERE = {"-h", "--help", "--debug", "--strict"}  # on every command: documented once


def _walk(parser: argparse.ArgumentParser) -> tuple[set[str], set[str]]:
    """Every option string and every sub-action name of ``parser``, recursively."""
    flags: set[str] = set()
    actions: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                actions.add(name)
                more_flags, more_actions = _walk(sub)
                flags |= more_flags
                actions |= more_actions
        else:
            flags.update(action.option_strings)
    return flags, actions


def _code(text: str) -> str:
    """The code of ``text``: fenced blocks and inline spans."""
    blocks = re.findall(r"```.*?\n(.*?)```", text, flags=re.S)
    spans = re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))
    return "\n".join(blocks + spans)


def _section(name: str) -> str:
    """The sections whose heading names ``plait NAME``."""
    parts = re.split(r"^(?=## )", DOC, flags=re.M)
    return "\n".join(p for p in parts if re.match(rf"## .*`plait {name}\b", p))


def _missing(tokens: set[str], text: str) -> list[str]:
    code = _code(text)
    return sorted(t for t in tokens if not re.search(rf"(?<![\w-]){re.escape(t)}(?![\w-])", code))


def test_the_global_flags_are_documented() -> None:
    flags, _ = _walk(_parser())
    assert flags >= {"--version", "--debug", "--strict"}
    assert _missing(flags, DOC) == []


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_flag_and_action_of_a_command_is_in_its_section(name: str) -> None:
    section = _section(name)
    assert section, f"docs/cli.md has no section headed `plait {name}`"
    flags, actions = _walk(_full_parser(name))
    assert _missing((flags - EVERYWHERE) | actions, section) == []


def test_the_walk_finds_what_it_must() -> None:
    flags, actions = _walk(_full_parser("logs"))
    assert {"-n", "--json", "--store"} <= flags and {"list", "show", "off", "on"} <= actions
    assert _missing({"--no-such-flag"}, DOC) == ["--no-such-flag"]
