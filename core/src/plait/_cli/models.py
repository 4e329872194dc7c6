"""``plait models``: providers from installed plugins and the models they name.

A provider may offer an optional ``models() -> Iterable[str]`` (cheap, no I/O) listing
model ids it knows, *without* its prefix (provider ``echo`` lists ``"default"``, shown as
``echo:default``); any other id its API accepts works too. An id that carries the prefix
anyway is shown once, not as ``echo:echo:default``.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_arguments", "collect", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def collect(kernel: Any) -> list[dict[str, Any]]:
    """One entry per provider: name, plugin, known models, whether it is the default."""
    from .._errors import ModelNotConfigured

    try:
        default = kernel.default_model_spec()
    except ModelNotConfigured:
        default = None
    owners = {
        name: info.name
        for info in kernel.plugins()
        for name in info.registered.get("providers", [])
    }
    rows = []
    for name, provider in sorted(kernel.providers().items()):
        lister = getattr(provider, "models", None)
        listed = lister() if callable(lister) else []
        models = sorted({str(m).removeprefix(f"{name}:") for m in listed})
        rows.append(
            {
                "provider": name,
                "plugin": owners.get(name),
                "models": [f"{name}:{m}" for m in models],
                "default": default if default and default.startswith(f"{name}:") else None,
            }
        )
    return rows


def run(args: argparse.Namespace) -> int:
    from .._kernel import Kernel

    kernel = Kernel(strict=True if args.strict else None)
    kernel.collect_all()
    rows = collect(kernel)
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    for row in rows:
        marker = "  (default: " + row["default"] + ")" if row["default"] else ""
        print(f"{row['provider']}  [plugin {row['plugin']}]{marker}")
        for model in row["models"] or [f"{row['provider']}:<model-id>"]:
            print(f"  {model}")
    return 0
