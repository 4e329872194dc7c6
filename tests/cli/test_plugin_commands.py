"""Commands plugins add to `plait` (entry-point group ``plait.commands``): listed by
`plait --help` without importing them, run like built-in ones, a known one that is not
installed names its distribution, and clashes are refused. Entry points are faked
(``plait.testing.FakeEntryPoint``) so the installed plugins do not matter."""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from plait._cli import main
from plait.testing import FakeEntryPoint

HELLO = '''
"""A plugin's command."""
HELP = "say hello"


def add_arguments(parser):
    parser.add_argument("who")
    parser.add_argument("--shout", action="store_true")


def run(args):
    text = f"hello {args.who}"
    print(text.upper() if args.shout else text)
    return 3 if args.who == "nobody" else 0
'''


@pytest.fixture
def installed(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., list[FakeEntryPoint]]:
    """``installed(ep, ...)``: these are the ``plait.commands`` entry points installed.
    The module ``hello_command`` (a command module) can be imported from ``tmp_path``."""
    (tmp_path / "hello_command.py").write_text(HELLO)
    (tmp_path / "shapeless_command.py").write_text("HELP = 'nothing else'\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("hello_command", "shapeless_command"):
        monkeypatch.delitem(sys.modules, name, raising=False)

    def install(*eps: FakeEntryPoint) -> list[FakeEntryPoint]:
        def entry_points(*, group: str) -> list[FakeEntryPoint]:
            assert group == "plait.commands"
            return list(eps)

        monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
        return list(eps)

    return install


def test_help_lists_plugin_commands_without_importing_them(
    installed: Callable[..., list[FakeEntryPoint]], capsys: pytest.CaptureFixture[str]
) -> None:
    installed(
        FakeEntryPoint("hello", "hello_command", distribution="acme-hello"),
        FakeEntryPoint("mcp", "plait_mcp_not_imported.cli", distribution="plait-mcp"),
    )
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert "\n    hello     a command of acme-hello (plait hello --help)\n" in out
    assert "\n    mcp       serve an agent and tools over MCP" in out
    assert "hello_command" not in sys.modules


def test_a_plugin_command_runs_like_a_built_in_one(
    installed: Callable[..., list[FakeEntryPoint]], capsys: pytest.CaptureFixture[str]
) -> None:
    installed(FakeEntryPoint("hello", "hello_command", distribution="acme-hello"))
    assert main(["hello", "world", "--shout"]) == 0
    assert capsys.readouterr().out == "HELLO WORLD\n"
    assert main(["--debug", "hello", "nobody"]) == 3  # its status is plait's
    with pytest.raises(SystemExit) as exited:
        main(["hello", "--help"])
    assert exited.value.code == 0
    assert "usage: plait hello [-h] [--debug] [--strict] [--shout] who" in capsys.readouterr().out


def test_a_known_command_not_installed_names_its_distribution(
    installed: Callable[..., list[FakeEntryPoint]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed()

    def distribution(name: str) -> object:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "distribution", distribution)
    assert main(["mcp", "serve", "agent.py:agent"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "plait: error: `plait mcp` is a command of plait-mcp, which is not installed "
        "(hint: pip install plait-mcp)\n"
    )


def test_a_known_command_missing_from_an_installed_plugin_says_reinstall(
    installed: Callable[..., list[FakeEntryPoint]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    installed()  # plait-mcp installed, but its metadata adds no command (stale or old)
    monkeypatch.setattr(importlib.metadata, "distribution", lambda name: object())
    assert main(["mcp", "serve"]) == 2
    err = capsys.readouterr().err
    assert "but the installed plait-mcp does not add it" in err
    assert "(hint: upgrade or reinstall plait-mcp (pip install -U plait-mcp))" in err


def test_an_unknown_command_lists_the_choices(
    installed: Callable[..., list[FakeEntryPoint]], capsys: pytest.CaptureFixture[str]
) -> None:
    installed(FakeEntryPoint("hello", "hello_command", distribution="acme-hello"))
    with pytest.raises(SystemExit) as exited:
        main(["helo", "world"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'helo'" in err and "'hello'" in err


def test_a_plugin_cannot_replace_a_built_in_command(
    installed: Callable[..., list[FakeEntryPoint]], capsys: pytest.CaptureFixture[str]
) -> None:
    installed(FakeEntryPoint("logs", "hello_command", distribution="acme-evil"))
    with pytest.raises(SystemExit):
        main(["--help"])
    captured = capsys.readouterr()
    assert (
        "plait: warning: acme-evil adds a command 'logs', the name of a built-in command: "
        "ignored" in captured.err
    )
    assert captured.out.count("\n    logs ") == 1
    with pytest.raises(SystemExit):
        main(["logs", "--help"])
    assert "usage: plait logs" in capsys.readouterr().out
    assert "hello_command" not in sys.modules


def test_one_name_from_two_distributions_is_refused(
    installed: Callable[..., list[FakeEntryPoint]], capsys: pytest.CaptureFixture[str]
) -> None:
    installed(
        FakeEntryPoint("hello", "hello_command", distribution="acme-hello"),
        FakeEntryPoint("hello", "other_hello", distribution="other-hello"),
        FakeEntryPoint("hello", "hello_command", distribution="acme-hello"),  # seen twice
    )
    assert main(["hello", "world"]) == 1
    err = capsys.readouterr().err
    assert "`plait hello` is added by more than one distribution: acme-hello " in err
    assert "other-hello (other_hello)" in err and "uninstall all but one" in err


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("no_such_command_module", "failed to import no_such_command_module: ModuleNotFound"),
        ("shapeless_command", "shapeless_command has no add_arguments or run()"),
    ],
)
def test_a_broken_plugin_command_is_one_line(
    installed: Callable[..., list[FakeEntryPoint]],
    capsys: pytest.CaptureFixture[str],
    value: str,
    message: str,
) -> None:
    installed(FakeEntryPoint("hello", value, distribution="acme-hello"))
    assert main(["hello", "world"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("plait: error: `plait hello` (acme-hello")
    assert message in err and len(err.splitlines()) == 1
    with pytest.raises(SystemExit) as exited:  # the top-level help still works
        main(["--help"])
    assert exited.value.code == 0
