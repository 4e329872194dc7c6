"""``plait plugins``: one row per plugin — name, distribution, version, hooks, registered
objects by kind, status, error or problems — or JSON with ``--json``. Exits 1 when a plugin
failed to load or the switches have a problem (a name no installed plugin has, a duplicate
name; blocked, disabled or not allowed plugins are not failures), else 0. The problems
themselves are printed once each as ``plait: warning: ...`` when the kernel reports them."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

__all__ = ["add_arguments", "format_table", "run"]

# failures fixed in the configuration, not by blocking a plugin
_CONFIG_KINDS = ("not found", "configuration conflict")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _registered(info: dict[str, Any]) -> str:
    parts = [f"{kind}: {', '.join(names)}" for kind, names in sorted(info["registered"].items())]
    return "; ".join(parts) or "-"


def _errors(info: dict[str, Any]) -> str:
    found = [info["error"], *info.get("problems", ())] if info["error"] else info["problems"]
    return " | ".join(f"{e['kind']}: {e['message']}" for e in found)


def _row(info: dict[str, Any]) -> list[str]:
    return [
        info["name"],
        info["distribution"] or "-",
        info["version"] or "-",
        info["status"],
        ", ".join(h.removeprefix("plait_") for h in info["hooks"]) or "-",
        _registered(info),
        _errors(info),
    ]


def format_table(infos: list[dict[str, Any]]) -> str:
    """The plugin list as an aligned text table."""
    header = ["NAME", "DISTRIBUTION", "VERSION", "STATUS", "HOOKS", "REGISTERED", "ERROR"]
    rows = [header, *(_row(i) for i in infos)]
    widths = [max(len(r[c]) for r in rows) for c in range(len(header) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(widths[c]) for c, cell in enumerate(row[:-1])]
        lines.append("  ".join([*cells, row[-1]]).rstrip())
    return "\n".join(lines)


def _hint(info: dict[str, Any]) -> str | None:
    """The remedy for a failed plugin; none for a mistake in the switches, whose warning
    already says what to fix (the list, where it was set, did you mean ...)."""
    error = info["error"]
    if error["kind"] in _CONFIG_KINDS:
        return None
    return (
        f"plait: plugin {info['name']} failed ({error['kind']}); "
        f"skip it with PLAIT_BLOCK_PLUGINS={info['name']}"
    )


def run(args: argparse.Namespace) -> int:
    from .._kernel import Kernel

    kernel = Kernel(strict=True if args.strict else None)
    try:
        kernel.collect_all()
    except Exception:
        if args.strict:
            raise
    infos = [info.to_dict() for info in kernel.plugins()]
    if args.json:
        print(json.dumps(infos, indent=2))
    else:
        print(format_table(infos))
    failed = [i for i in infos if i["status"] == "failed"]
    for hint in filter(None, map(_hint, failed)):
        print(hint, file=sys.stderr)
    return 1 if failed or any(i["problems"] for i in infos) else 0
