"""How the CLI shows errors: one readable line with a hint, a traceback only with --debug."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from .._errors import (
    ConfigError,
    ModelNotConfigured,
    PlaitError,
    PluginConfigConflict,
    PluginErrors,
    PluginNotFound,
)
from .._store._errors import SchemaTooNew, StoreBusy, StoreError, StoreFull, ThreadConflict

__all__ = ["CliError", "Outcome", "report_errors"]


class CliError(PlaitError):
    """A command-line mistake: one line with its own hint; ``status`` 2 for bad usage."""

    def __init__(self, message: str, *, hint: str, status: int = 1) -> None:
        super().__init__(message)
        self.hint = hint
        self.status = status


HINTS: dict[type[BaseException], str] = {
    ConfigError: "fix the configuration named above",
    PluginErrors: "block a broken plugin with PLAIT_BLOCK_PLUGINS=name, or drop --strict",
    ModelNotConfigured: "see `plait plugins` for installed providers",
    # store errors: the specific ones first (the first matching class gives the hint)
    ThreadConflict: "another run appended to the thread; run again on the new history",
    StoreBusy: "another process holds the store's lock; retry, or raise busy_timeout in the URL",
    StoreFull: "free disk space (or raise the file-size limit); earlier steps are intact",
    SchemaTooNew: "the store was written by a newer plait; upgrade plait",
    StoreError: "check the store URL (--store, config `store` or PLAIT_STORE)",
}


@dataclass
class Outcome:
    """The exit status a command sets."""

    status: int = 0


def _hint(exc: BaseException) -> str:
    if isinstance(exc, CliError):
        return f" (hint: {exc.hint})"
    if isinstance(exc, PluginErrors) and all(
        isinstance(e, (PluginNotFound, PluginConfigConflict)) for e in exc.errors
    ):  # nothing is broken: a switch names the wrong plugin or contradicts another
        return " (hint: fix the plugin switches named below; `plait plugins` lists the installed)"
    for cls, hint in HINTS.items():
        if isinstance(exc, cls):
            return f" (hint: {hint})"
    return " (hint: run again with --debug for the traceback)"


@contextmanager
def report_errors(*, debug: bool) -> Iterator[Outcome]:
    """Turn a ``PlaitError`` into one line on stderr and exit status 1."""
    outcome = Outcome()
    try:
        yield outcome
    except BrokenPipeError:  # output piped into `head` and closed: not an error
        sys.stderr.close()
        outcome.status = 0
    except KeyboardInterrupt:
        print("plait: interrupted", file=sys.stderr)
        outcome.status = 130
    except PlaitError as exc:
        if debug:
            traceback.print_exc()
        first, *more = str(exc).splitlines() or [type(exc).__name__]
        print(f"plait: error: {first}{_hint(exc)}", file=sys.stderr)
        for line in more:
            print(f"  {line.strip()}", file=sys.stderr)
        outcome.status = exc.status if isinstance(exc, CliError) else 1
