"""The ``plait`` command line. ``plait --help`` imports no plugin and no subcommand module.

Each subcommand lives in its own module with ``add_arguments(parser)`` and
``run(args) -> int``; it is imported only when invoked (or when its own help is asked).
Plugins add commands of the same shape through the ``plait.commands`` entry-point group
(``_commands``): listed by ``plait --help`` from metadata, imported only when run.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings
from collections.abc import Collection, Mapping, Sequence
from types import ModuleType
from typing import TextIO

__all__ = ["COMMANDS", "KNOWN", "PLUGIN_GROUP", "PluginCommand", "main", "plugin_commands"]

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


PLUGIN_GROUP = "plait.commands"
"""The entry-point group of commands plugins add (``_commands`` runs them)."""

KNOWN: Mapping[str, tuple[str, str]] = {
    "mcp": ("serve an agent and tools over MCP (Model Context Protocol)", "plait-mcp"),
}
"""Plugin commands plait documents: name -> (one-line help, the distribution adding it)."""


class PluginCommand:
    """One ``plait NAME`` a distribution adds: ``module`` holds its code. (A plain class:
    ``dataclasses`` would cost ``plait --help`` an import of ``inspect``.)"""

    __slots__ = ("dist", "module", "name")

    def __init__(self, name: str, module: str, dist: str) -> None:
        self.name, self.module, self.dist = name, module, dist

    def __repr__(self) -> str:
        return f"PluginCommand({self.name!r}, {self.module!r}, {self.dist!r})"

    @property
    def help(self) -> str:
        """The line ``plait --help`` shows (read from metadata: nothing is imported)."""
        known = KNOWN.get(self.name)
        if known is not None and known[1] == self.dist:
            return known[0]
        return f"a command of {self.dist} (plait {self.name} --help)"


def plugin_commands(builtin: Collection[str]) -> dict[str, list[PluginCommand]]:
    """Installed plugin commands by name, from entry-point metadata (nothing imported);
    two distributions adding one name give a list of two (refused when run). A plugin
    command with the name of a built-in one is ignored with a warning."""
    from importlib import metadata

    found: dict[str, list[PluginCommand]] = {}
    for ep in metadata.entry_points(group=PLUGIN_GROUP):
        dist = ep.dist.name if ep.dist is not None else "an unnamed distribution"
        command = PluginCommand(ep.name, ep.value, dist)
        if ep.name in builtin:
            print(
                f"plait: warning: {dist} adds a command {ep.name!r}, the name of a "
                "built-in command: ignored",
                file=sys.stderr,
            )
            continue
        same = found.setdefault(ep.name, [])
        if all(c.module != command.module for c in same):  # one install seen twice: once
            same.append(command)
    return found


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


def _parser(*, plugins: bool = False) -> argparse.ArgumentParser:
    """The top-level parser; with ``plugins``, plugin commands are choices too (read from
    entry-point metadata: only ``plait --help`` and an unknown command need them)."""
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
    if plugins:
        for name, found in sorted(plugin_commands(COMMANDS).items()):
            sub.add_parser(name, help=found[0].help, add_help=False)
    return parser


def _command_module(name: str) -> ModuleType:
    """A built-in command's module, or the module a plugin adds (``_commands``)."""
    if name in COMMANDS:
        return importlib.import_module(f"plait._cli.{COMMANDS[name][1]}")
    from ._commands import find_plugin_command, load

    command = find_plugin_command(name, COMMANDS)
    if command is None:
        raise KeyError(name)
    return load(command)


def _full_parser(name: str, module: ModuleType | None = None) -> argparse.ArgumentParser:
    module = _command_module(name) if module is None else module
    description = COMMANDS[name][0] if name in COMMANDS else getattr(module, "HELP", None)
    parser = argparse.ArgumentParser(prog=f"plait {name}", description=description)
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--strict", action="store_true", help="fail on any plugin error")
    module.add_arguments(parser)
    return parser


def _split(argv: Sequence[str]) -> tuple[list[str], str | None, list[str]]:
    """Global options, the command, and the rest (so subcommand modules parse their own).
    The command is the first word that is not an option (the global options take no
    value); it may be a plugin's command, checked when it is looked up."""
    for index, arg in enumerate(argv):
        if not arg.startswith("-"):
            return list(argv[:index]), arg, list(argv[index + 1 :])
    return list(argv), None, []


def _plugin_module(command: str, *, debug: bool) -> tuple[ModuleType | None, int]:
    """The module of a plugin's command (``None``: no plugin adds one of that name) and
    an exit status: a known command not installed, or one that fails to import, is
    reported here as one line."""
    from ._commands import find_plugin_command, load
    from ._errors import report_errors

    module: ModuleType | None = None
    with report_errors(debug=debug) as outcome:
        found = find_plugin_command(command, COMMANDS)
        module = None if found is None else load(found)
    return module, outcome.status


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``plait`` script; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    head, command, rest = _split(args)
    module: ModuleType | None = None
    if command is not None and command not in COMMANDS:
        module, status = _plugin_module(command, debug="--debug" in head)
        if status:
            return status
        if module is None:  # no such command: argparse says so, listing the choices
            head, command = args, None
    # plugin commands are read (entry-point metadata) only for the list in the help
    parser = _parser(plugins=command is None and "--version" not in head)
    top = parser.parse_args(head)
    if command is None:
        parser.print_help()
        return EXIT_USAGE if not args else 0
    if module is None:
        module = _command_module(command)
    options = _full_parser(command, module).parse_args(rest)
    options.debug = options.debug or top.debug
    options.strict = options.strict or top.strict
    from ._errors import report_errors

    with warnings.catch_warnings(), report_errors(debug=options.debug) as outcome:
        warnings.showwarning = _show_warning
        outcome.status = int(module.run(options))
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
