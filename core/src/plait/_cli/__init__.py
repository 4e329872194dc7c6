"""The ``plait`` command line. ``plait --help`` imports no plugin and no subcommand module.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args) -> int``; it is imported only when invoked (or when its own help is asked).
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import TextIO

__all__ = ["COMMANDS", "main"]

# name -> (one-line help, module). Static so the top-level help needs no imports.
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("run an agent on a task and watch it work", "run"),
    "chat": ("talk with a model turn by turn (one thread per conversation)", "chat"),
    "logs": ("list or show logged runs and chats; turn logging off or on", "logs"),
    "plugins": ("list installed plugins, their status and what they registered", "plugins"),
    "models": ("list model providers from installed plugins and the models they name", "models"),
    "stack": ("show the stack every run gets (guardrails, limits, ...) and its sources", "stack"),
    "threads": ("list, show, export or delete conversation threads in a store", "threads"),
    "runs": ("list or show recorded runs, or resume an interrupted one", "runs"),
}

EXIT_USAGE = 2
EXIT_ERROR = 1

EPILOG = """\
Run `plait COMMAND --help` for a command's flags.

Environment: PLAIT_MODEL, PLAIT_STORE, PLAIT_LOGS, PLAIT_CONFIG, PLAIT_PROFILE,
PLAIT_PLUGINS, PLAIT_BLOCK_PLUGINS, PLAIT_DISABLE_PLUGIN_AUTOLOAD, PLAIT_STRICT_PLUGINS,
PLAIT_TOOLS, PLAIT_GUARDRAILS, PLAIT_VERIFIERS, PLAIT_HANDLERS, PLAIT_ENFORCE.

Documentation: docs/cli.md (every command and flag), docs/run.md, docs/threads.md and
docs/providers.md in plait's source repository (pip does not install them). The
installed package carries its README as metadata:
  python -c "import importlib.metadata as m; print(m.metadata('plait')['Description'])"
"""


class _Version(argparse.Action):
    """``--version``: reads the installed version only when asked (keeps --help fast)."""

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest, nargs=0, help="print plait's version and exit")

    def __call__(self, parser: argparse.ArgumentParser, *args: object) -> None:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("plait")
        except PackageNotFoundError:  # run from a source tree that is not installed
            number = "unknown (not installed)"
        print(f"plait {number}")
        parser.exit(0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plait",
        description="plait: a small, fast run kernel for AI agents.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action=_Version)
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument(
        "--strict", action="store_true", help="fail on any plugin error (default: report and go on)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (help_text, _module) in COMMANDS.items():
        sub.add_parser(name, help=help_text, add_help=False)
    return parser


def _command_module(name: str) -> ModuleType:
    return importlib.import_module(f"plait._cli.{COMMANDS[name][1]}")


def _full_parser(name: str) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=f"plait {name}", description=COMMANDS[name][0])
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--strict", action="store_true", help="fail on any plugin error")
    _command_module(name).add_arguments(parser)
    return parser


def _split(argv: Sequence[str]) -> tuple[list[str], str | None, list[str]]:
    """Global options, the command, and the rest (so subcommand modules parse their own)."""
    for index, arg in enumerate(argv):
        if arg in COMMANDS:
            return list(argv[:index]), arg, list(argv[index + 1 :])
    return list(argv), None, []


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``plait`` script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    head, command, rest = _split(args)
    top = _parser().parse_args(head)
    if command is None:
        _parser().print_help()
        return EXIT_USAGE if not args else 0
    options = _full_parser(command).parse_args(rest)
    options.debug = options.debug or top.debug
    options.strict = options.strict or top.strict
    from ._errors import report_errors

    with warnings.catch_warnings(), report_errors(debug=options.debug) as outcome:
        warnings.showwarning = _show_warning
        outcome.status = int(_command_module(command).run(options))
    return outcome.status


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: TextIO | None = None,
    line: str | None = None,
) -> None:
    """Warnings as one ``plait: warning: ...`` line each: a person reads them, and the
    source line that called into plait means nothing on the command line."""
    print(f"plait: warning: {message}", file=sys.stderr if file is None else file)
