"""Ctrl-C in ``plait run``: nothing is lost, and the run can be resumed without flags.

``plait run`` runs its event loop inside ``recorded_command(args)``:

* its ``--tool`` and ``--output`` references (files made absolute) are recorded with the
  run it starts, so ``plait runs resume RUN_ID`` loads them again by itself;
* on Ctrl-C, the event loop cancels the run, which records what it had (the task, every
  completed step) and is marked ``cancelled`` — shielded and bounded, before
  ``anyio.run`` raises ``KeyboardInterrupt``. That becomes exit status 130 and one line
  on stderr naming the run and the command that continues it. A second Ctrl-C stops at
  once.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from .._run._command_line import COMMAND_LINE, CommandLine

__all__ = ["EXIT_INTERRUPTED", "Interrupt", "absolute_ref", "recorded_command"]

EXIT_INTERRUPTED = 130
"""The exit status of an interrupted command (128 + SIGINT)."""


@dataclass
class Interrupt:
    """Set when the command was interrupted: the exit status to return."""

    status: int | None = None


def absolute_ref(ref: str) -> str:
    """``file.py:name`` and ``schema.json`` with an absolute path; ``module:name`` as is."""
    if ref.endswith(".json"):
        return str(Path(ref).resolve())
    target, sep, attr = ref.rpartition(":")
    if sep and target.endswith(".py"):
        return f"{Path(target).resolve()}:{attr}"
    return ref


@contextmanager
def recorded_command(args: argparse.Namespace) -> Iterator[Interrupt]:
    """Record ``args``' references with the run; turn Ctrl-C into exit status 130."""
    output = getattr(args, "output", None)
    cli = CommandLine(
        tools=[absolute_ref(ref) for ref in getattr(args, "tool", None) or ()],
        output=absolute_ref(output) if output else None,
    )
    token = COMMAND_LINE.set(cli)
    outcome = Interrupt()
    try:
        yield outcome
    except KeyboardInterrupt:
        outcome.status = EXIT_INTERRUPTED
        print(_message(cli), file=sys.stderr, flush=True)
    finally:
        COMMAND_LINE.reset(token)


def _message(cli: CommandLine) -> str:
    if not cli.run_ids:  # not recorded (no thread, no store): nothing to resume
        return "plait: interrupted"
    run_id = cli.run_ids[-1]
    return (
        f"plait: interrupted; run {run_id} was recorded as cancelled "
        f"(hint: `plait runs resume {run_id}` continues it)"
    )
