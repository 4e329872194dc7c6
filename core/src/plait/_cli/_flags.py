"""The flags ``plait run`` and ``plait chat`` share, and the run options they turn into.

``-o/--option KEY VALUE`` (repeatable, like ``llm``): the value is JSON when it parses as
JSON (``0.2``, ``true``, ``["a", "b"]``), else the string as given. A key that is a
``ModelSettings`` field (``temperature``, ``max_tokens``, ``top_p``, ``seed``, ``stop``,
``tool_choice``, ``parallel_tool_calls``, ``timeout``, ``first_event_timeout``) becomes a
setting of every request; any other key is a model option, passed to the provider as
``kernel.model(spec, **options)`` (e.g. ``-o n_ctx 2048`` for ``local:`` models).
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING, Any

from ._errors import CliError

if TYPE_CHECKING:
    from .._contracts import Model
    from .._kernel import Kernel
    from .._settings import ModelSettings

__all__ = [
    "SETTING_NAMES",
    "add_agent_arguments",
    "agent_options",
    "close_model",
    "model_settings",
    "parse_options",
    "resolve_model",
]

SETTING_NAMES = frozenset(
    {
        "temperature",
        "max_tokens",
        "top_p",
        "seed",
        "stop",
        "tool_choice",
        "parallel_tool_calls",
        "timeout",
        "first_event_timeout",
    }
)
"""``-o`` keys that are ``ModelSettings`` fields (``stream`` is ``--no-stream``)."""

OPTION_HINT = "write -o KEY VALUE, e.g. -o temperature 0.2 -o max_tokens 300"


def add_agent_arguments(parser: argparse.ArgumentParser, *, output_type: bool) -> None:
    """``-m -t -o -i --thread -c --max-turns --no-stream --no-log --store`` (and
    ``--output-type`` for ``run``)."""
    parser.add_argument("-m", "--model", help="'provider:model-id' (default: see docs/cli.md)")
    parser.add_argument(
        "-t", "--tool", action="append", default=[], metavar="MODULE:FUNCTION",
        help="a tool: module:function or path/to/file.py:function (repeatable)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--option", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
        help="a model option or setting, e.g. -o temperature 0.2 (repeatable; "
        "VALUE is JSON when it parses, else text)",
    )  # fmt: skip
    if output_type:
        parser.add_argument(
            "--output-type", "--schema", "--output", dest="output", metavar="REF",
            help="structured output: a JSON-schema file (schema.json) or a type "
            "(module:Type, file.py:Type)",
        )  # fmt: skip
    parser.add_argument("-i", "--instructions", help="instructions for the model")
    parser.add_argument("--thread", metavar="NAME", help="continue (or start) a named thread")
    parser.add_argument(
        "-c", "--continue", dest="continue_", action="store_true",
        help="continue the last conversation (the thread of the latest run or chat)",
    )  # fmt: skip
    parser.add_argument("--max-turns", type=int, metavar="N", help="stop after N model turns")
    parser.add_argument(
        "--no-stream", action="store_true", help="ask the model unstreamed; answer at the end"
    )
    parser.add_argument(
        "--no-log", action="store_true", help="do not log this run in the store (see plait logs)"
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="store for logs and threads (default: config `store`, PLAIT_STORE, else the "
        "SQLite file)",
    )


def _value(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_options(pairs: list[list[str]] | None) -> dict[str, Any]:
    """``-o KEY VALUE`` pairs as a dict (``max-tokens`` is ``max_tokens``)."""
    options: dict[str, Any] = {}
    for key, raw in pairs or ():
        name = key.strip().replace("-", "_")
        if not name.isidentifier():
            raise CliError(f"-o {key!r}: not an option name", hint=OPTION_HINT, status=2)
        options[name] = _value(raw)
    return options


def model_settings(options: dict[str, Any], *, no_stream: bool) -> ModelSettings | None:
    """The ``ModelSettings`` among the options (``None`` when there are none)."""
    from pydantic import ValidationError

    from .._settings import ModelSettings

    fields = {k: v for k, v in options.items() if k in SETTING_NAMES}
    if isinstance(fields.get("stop"), str):
        fields["stop"] = [fields["stop"]]
    if no_stream:
        fields["stream"] = False
    if not fields:
        return None
    try:
        return ModelSettings(**fields)
    except ValidationError as exc:
        problems = "; ".join(
            f"-o {'.'.join(map(str, e['loc']))} {options.get(str(e['loc'][0]))!r}: {e['msg']}"
            for e in exc.errors()
        )
        raise CliError(problems, hint=OPTION_HINT, status=2) from None


def resolve_model(kernel: Kernel, spec: str | None, options: dict[str, Any]) -> Model:
    """The model, with the options that are not settings (a bad name fails here). A model
    made with options is not the kernel's to close: ``close_model`` does it."""
    extra = {k: v for k, v in options.items() if k not in SETTING_NAMES}
    if not extra:
        return kernel.model(spec)
    try:
        return kernel.model(spec, **extra)
    except (TypeError, ValueError) as exc:
        names = ", ".join(sorted(extra))
        raise CliError(
            f"the model does not take option(s) {names}: {exc}",
            hint="see the provider's docs for its model options",
            status=2,
        ) from None


async def close_model(model: Model, options: dict[str, Any]) -> None:
    """Close a model ``resolve_model`` made with options (the kernel closes the others)."""
    if any(k not in SETTING_NAMES for k in options):
        await model.aclose()


def agent_options(
    args: argparse.Namespace, kernel: Kernel, model: Model, options: dict[str, Any]
) -> dict[str, Any]:
    """The run options of the shared flags (``options``: the parsed ``-o`` pairs); the
    conversation and the output type are added by the command."""
    from ._load import load_object

    run_options: dict[str, Any] = {
        "kernel": kernel,
        "model": model,
        "tools": [load_object(ref, what="--tool") for ref in args.tool],
        "raise_on_failure": False,
        "on_limit": "partial",
    }
    settings = model_settings(options, no_stream=args.no_stream)
    if settings is not None:
        run_options["settings"] = settings
    if args.instructions:
        run_options["instructions"] = args.instructions
    if args.max_turns:
        run_options["max_turns"] = args.max_turns
    return run_options
