"""``plait run "task"``: run an agent from the command line and watch it work.

Streams the run live (model text, tool calls and results, guardrail and verifier
decisions, a spinner while the model thinks) and prints the final result. ``--json``
prints every event as one JSON line and the result as the last line, for scripts.
The exit status reflects the result's status (see ``EXIT_CODES``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["EXIT_CODES", "add_arguments", "result_to_json", "run"]

EXIT_CODES: Mapping[str, int] = {
    "success": 0,
    "skipped": 0,
    "failed": 1,
    "blocked": 3,
    "incomplete": 4,
    "cancelled": 130,
}
"""Exit status per result status; configuration and plugin errors exit with 1 or 2."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("task", help="what the agent should do")
    parser.add_argument("-m", "--model", help="'provider:model-id' (default: see docs/cli.md)")
    parser.add_argument(
        "-t",
        "--tool",
        action="append",
        default=[],
        metavar="MODULE:FUNCTION",
        help="a tool: module:function or path/to/file.py:function (repeatable)",
    )
    parser.add_argument(
        "-o",
        "--output",
        metavar="SCHEMA.json|MODULE:TYPE",
        help="structured output: a JSON-schema file or a type pydantic can validate",
    )
    parser.add_argument("-i", "--instructions", help="instructions for the model")
    parser.add_argument("--thread", metavar="NAME", help="continue (or start) a named thread")
    parser.add_argument("--max-turns", type=int, metavar="N", help="stop after N model turns")
    parser.add_argument(
        "--json", action="store_true", help="print events and the result as JSON lines"
    )


def result_to_json(result: Any) -> dict[str, Any]:
    """The result as plain JSON values (messages left out; they are in the events)."""
    from pydantic_core import to_jsonable_python

    data: dict[str, Any] = to_jsonable_python(result, fallback=str)
    data.pop("messages", None)
    data.pop("new_messages", None)
    return data


def _options(args: argparse.Namespace, kernel: Any) -> dict[str, Any]:
    from ._load import load_object, load_output

    options: dict[str, Any] = {
        "kernel": kernel,
        "model": kernel.model(args.model),  # resolve first: a bad name fails before anything runs
        "tools": [load_object(ref, what="--tool") for ref in args.tool],
        "output": load_output(args.output),
        "raise_on_failure": False,
        "on_limit": "partial",
    }
    if args.instructions:
        options["instructions"] = args.instructions
    if args.max_turns:
        options["max_turns"] = args.max_turns
    if args.thread:
        options["thread"] = args.thread
    return options


def _print_result(result: Any, out: Any) -> None:
    data = result_to_json(result)
    output = data.get("output")
    shown = output if isinstance(output, str) else json.dumps(output, indent=2)
    out.write(f"\nstatus: {result.status} ({result.stop_reason})\n")
    if output is not None:
        out.write(f"output: {shown}\n")
    usage = result.usage
    out.write(
        f"usage: {usage.requests} requests, {usage.input_tokens} in / "
        f"{usage.output_tokens} out tokens, {usage.tool_calls} tool calls; "
        f"{result.duration:.2f}s\n"
    )
    if result.error:
        out.write(f"error: {result.error}\n")


async def _watch(args: argparse.Namespace, options: dict[str, Any]) -> Any:
    from ._live import LivePrinter

    printer = LivePrinter(sys.stdout, tty=sys.stdout.isatty() and not args.json)
    try:
        return await _stream(args, options, printer)
    except BaseExceptionGroup as group:  # the spinner's task group wraps the run's error
        raise _only(group) from None
    finally:
        printer.finish()


def _only(group: BaseExceptionGroup[BaseException]) -> BaseException:
    while isinstance(group, BaseExceptionGroup) and len(group.exceptions) == 1:
        group = group.exceptions[0]  # type: ignore[assignment]
    return group


async def _stream(args: argparse.Namespace, options: dict[str, Any], printer: Any) -> Any:
    import anyio

    import plait

    async with anyio.create_task_group() as tg:
        if printer.tty:

            async def spin() -> None:
                while True:
                    await anyio.sleep(0.12)
                    printer.tick()

            tg.start_soon(spin)
        async with plait.stream(args.task, **options) as stream:
            async for event in stream:
                if args.json:
                    print(event.to_json(), flush=True)
                else:
                    printer.show(event)
            result = await stream.result()
        tg.cancel_scope.cancel()
    return result


def run(args: argparse.Namespace) -> int:
    import anyio

    from .._kernel import Kernel

    kernel = Kernel(strict=True if args.strict else None)
    options = _options(args, kernel)

    async def main() -> Any:
        try:
            return await _watch(args, options)
        finally:
            await kernel.aclose()

    result = anyio.run(main)
    if args.json:
        print(json.dumps({"result": result_to_json(result)}, default=str))
    else:
        _print_result(result, sys.stdout)
    return EXIT_CODES.get(result.status, 1)
