"""``plait run "task"``: run an agent from the command line and watch it work.

The task is the argument, or stdin: ``echo task | plait run`` and ``plait run -`` read
it from stdin. With an argument *and* piped stdin, the task is stdin's text, a blank
line, then the argument (stdin first, as ``llm`` does: ``cat notes.txt | plait run
"summarise this"``).

On a terminal the run is shown live (model text, tool calls and results, guardrail and
verifier decisions, a status line while waiting), then its status, output and usage.
Piped, only the answer is printed (``_show``). ``--json`` prints every event as one JSON
line and the result as the last line, for scripts. Every run is logged in the store
unless logging is off (``_record``). The exit status reflects the result's status
(``EXIT_CODES``).
"""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TextIO

from ._errors import CliError
from ._flags import add_agent_arguments

if TYPE_CHECKING:
    from ._live import LivePrinter

__all__ = ["EXIT_CODES", "add_arguments", "read_task", "run"]

EXIT_CODES: Mapping[str, int] = {
    "success": 0,
    "skipped": 0,
    "failed": 1,
    "blocked": 3,
    "incomplete": 4,
    "cancelled": 130,
    "paused": 5,
}
"""Exit status per result status; configuration and plugin errors exit with 1 or 2."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "task", nargs="?",
        help="what the agent should do; '-' (or none, with input piped) reads it from stdin",
    )  # fmt: skip
    add_agent_arguments(parser, output_type=True)
    parser.add_argument(
        "--json", action="store_true", help="print events and the result as JSON lines"
    )


def _piped(stdin: TextIO) -> bool:
    """stdin is a pipe or a file (not a terminal, not /dev/null, not a socket)."""
    try:
        mode = os.fstat(stdin.fileno()).st_mode
    except (OSError, ValueError):  # closed, or replaced by an object without a descriptor
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISREG(mode)


def read_task(arg: str | None, stdin: TextIO) -> str:
    """The task: the argument, stdin (``-`` or no argument), or stdin then the argument."""
    if arg == "-" or (arg is None and not stdin.isatty()):
        text = stdin.read().rstrip()
    elif arg is None:
        raise CliError(
            "no task given",
            hint='plait run "your task", or pipe it: echo "your task" | plait run',
            status=2,
        )
    else:
        piped = stdin.read().rstrip() if _piped(stdin) else ""
        text = f"{piped}\n\n{arg}" if piped else arg
    if not text.strip():
        raise CliError("the task is empty", hint="give the agent something to do", status=2)
    return text


def _options(args: argparse.Namespace, kernel: Any) -> dict[str, Any]:
    from ._flags import agent_options, parse_options, resolve_model
    from ._load import load_output

    model_options = parse_options(args.option)
    # resolve first: a bad name fails before anything runs
    model = resolve_model(kernel, args.model, model_options)
    options = agent_options(args, kernel, model, model_options)
    options["output"] = load_output(args.output)
    return options


def _printer(args: argparse.Namespace, model: Any) -> LivePrinter | None:
    """The live view on a terminal; nothing when piped or with ``--json``."""
    if args.json or not sys.stdout.isatty():
        return None
    from ._live import LivePrinter, loads_on_first_use

    return LivePrinter(sys.stdout, tty=True, loading=loads_on_first_use(model))


def run(args: argparse.Namespace) -> int:
    import anyio

    from .._kernel import Kernel
    from ._flags import close_model, parse_options
    from ._record import conversation
    from ._show import print_plain, print_summary, result_to_json, watch

    task = read_task(args.task, sys.stdin)
    kernel = Kernel(strict=True if args.strict else None)
    options = _options(args, kernel)
    printer = _printer(args, options["model"])

    async def main() -> Any:
        try:
            options.update((await conversation(args, kernel)).options())
            return await watch(task, options, printer=printer, json_lines=args.json)
        finally:
            await close_model(options["model"], parse_options(args.option))
            await kernel.aclose()

    from ._interrupt import recorded_command

    with recorded_command(args) as interrupt:  # Ctrl-C: recorded as cancelled, exit 130
        result = anyio.run(main)
    if interrupt.status is not None:
        return interrupt.status
    if args.json:
        print(json.dumps({"result": result_to_json(result)}, default=str))
    elif printer is not None:
        print_summary(result, sys.stdout, shown=printer.last_text)
    else:
        print_plain(result, sys.stdout, sys.stderr)
    return EXIT_CODES.get(result.status, 1)
