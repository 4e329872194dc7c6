"""``plait stack``: the effective stack every run gets, and where each item came from.

Reads the configuration (``[tool.plait.stack]``, the profile in force, ``PLAIT_*``) and
the installed plugins, checks every name, and prints each item with its source and the
plugin (distribution, version) that provides it. See docs/guardrails.md.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["add_arguments", "collect", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")


def collect(kernel: Any) -> dict[str, Any]:
    """The effective stack as plain JSON, with the profile and default model."""
    config = kernel.config
    stack = kernel.stack()
    described = stack.describe() if stack is not None else None
    return {
        "profile": config.profile,
        "profile_source": config.origins.get("profile"),
        "model": config.model,
        "model_source": config.origins.get("model"),
        "stack": described,
    }


def _print(data: dict[str, Any]) -> None:
    if data["profile"]:
        print(f"profile: {data['profile']} ({data['profile_source']})")
    if data["model"]:
        print(f"model: {data['model']} ({data['model_source']})")
    stack = data["stack"]
    if stack is None:
        print("no stack configured: runs get only what their code passes (docs/guardrails.md)")
        return
    print(f"enforced: {', '.join(stack['enforce']) or 'nothing (every item is a default)'}")
    for item in stack["items"]:
        provider = item["plugin"] or "?"
        if item["distribution"]:
            provider += f" ({item['distribution']} {item['version'] or ''})".replace(" )", ")")
        mark = "enforced" if item["enforced"] else "default"
        print(f"  {item['kind'][:-1]:<9} {item['name']:<24} {mark:<8} {provider}; {item['source']}")
    sources = stack["sources"]
    for key in ("limits", "retry"):
        if stack[key] is not None:
            values = ", ".join(f"{k}={v}" for k, v in stack[key].items())
            print(f"  {key:<9} {values}; {sources.get(key, 'configuration')}")
    if stack["redact"] is not None:
        state = "on" if stack["redact"] else "off"
        print(f"  redact    {state}; {sources.get('redact', 'configuration')}")


def run(args: argparse.Namespace) -> int:
    from .._kernel import Kernel

    kernel = Kernel(strict=True if args.strict else None)
    data = collect(kernel)
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        _print(data)
    return 0
