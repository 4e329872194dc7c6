"""Running the commands plugins add to ``plait`` (the ``plait.commands`` entry points,
listed by ``plait._cli.plugin_commands`` from metadata alone).

A distribution adds ``plait NAME`` with an entry point ``NAME = "package.module"`` in
this group (pyproject.toml: ``[project.entry-points."plait.commands"]``). The module is
shaped like a built-in command's: ``HELP`` (one line), ``add_arguments(parser)`` and
``run(args) -> int``. ``plait --help`` lists the plugin
commands from the installed metadata alone (no plugin is imported, so a broken plugin
cannot break it); the module is imported only when its command runs or its help is asked.

Refused, with a warning: a plugin command named like a built-in one (the built-in always
wins). Refused when run: one name added by two distributions. A command plait knows a
distribution for (``KNOWN``: ``plait mcp`` comes from plait-mcp) but that is not installed
fails with the distribution to install.
"""

from __future__ import annotations

import importlib
from collections.abc import Collection
from types import ModuleType
from typing import Any, cast

from . import KNOWN, PluginCommand, plugin_commands

__all__ = ["find_plugin_command", "load"]


def find_plugin_command(name: str, builtin: Collection[str]) -> PluginCommand | None:
    """The plugin command ``name``, or ``None`` when no plugin adds it and plait knows
    none of that name. Raises ``CliError`` for a known command whose distribution is not
    installed, and for a name two distributions add."""
    from ._errors import CliError

    candidates = plugin_commands(builtin).get(name, [])
    if len(candidates) > 1:
        who = ", ".join(f"{c.dist} ({c.module})" for c in candidates)
        raise CliError(
            f"`plait {name}` is added by more than one distribution: {who}",
            hint="uninstall all but one of them",
        )
    if candidates:
        return candidates[0]
    if name in KNOWN:
        dist = KNOWN[name][1]
        if _installed(dist):  # an older version, or an editable install's stale metadata
            raise CliError(
                f"`plait {name}` is a command of {dist}, but the installed {dist} does not add it",
                hint=f"upgrade or reinstall {dist} (pip install -U {dist})",
                status=2,
            )
        raise CliError(
            f"`plait {name}` is a command of {dist}, which is not installed",
            hint=f"pip install {dist}",
            status=2,
        )
    return None


def _installed(dist: str) -> bool:
    from importlib import metadata

    try:
        metadata.distribution(dist)
    except metadata.PackageNotFoundError:
        return False
    return True


def load(command: PluginCommand) -> ModuleType:
    """Import the command's module (``module``, or an object: ``module:attribute``) and
    check its shape (``add_arguments``, ``run``)."""
    from ._errors import CliError

    name, _, attr = command.module.partition(":")
    try:
        module: Any = importlib.import_module(name)
        for part in filter(None, attr.split(".")):
            module = getattr(module, part)
    except Exception as exc:
        raise CliError(
            f"`plait {command.name}` ({command.dist}) failed to import {command.module}: "
            f"{type(exc).__name__}: {exc}",
            hint=f"reinstall {command.dist}; --debug shows the traceback",
        ) from exc
    missing = [n for n in ("add_arguments", "run") if not callable(getattr(module, n, None))]
    if missing:
        raise CliError(
            f"`plait {command.name}` ({command.dist}): {command.module} has no "
            f"{' or '.join(missing)}() (a command module needs add_arguments and run)",
            hint=f"report it to the authors of {command.dist}",
        )
    return cast("ModuleType", module)  # or an object of a module's shape (module:attr)
