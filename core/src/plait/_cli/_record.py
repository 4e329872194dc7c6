"""Where ``plait run`` and ``plait chat`` keep a conversation, and the log switch.

Every CLI run and chat turn is logged: recorded in the store (``--store URL``, else
config ``store`` / ``PLAIT_STORE``, else the default SQLite file
``$XDG_DATA_HOME/plait/plait.db``) in a thread — a new one per conversation, named
``cli-YYYYMMDD-HHMMSS-xxxx``; ``--thread NAME``; or, with ``-c``, the thread of the most
recent CLI run. A run is a CLI run when ``plait run`` / ``plait chat`` recorded its
command line with it (``RunRecord.options["cli"]``).

Logging is off with ``--no-log``, ``PLAIT_LOGS=off``, or ``plait logs off`` (a file
``logs-off`` in plait's data folder; ``plait logs on`` removes it; ``PLAIT_LOGS=on``
wins over it). ``--thread`` and ``-c`` keep their conversation in the store either way.
"""

from __future__ import annotations

import argparse
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import CliError

if TYPE_CHECKING:
    from .._kernel import Kernel
    from .._store._contract import StoreConnection
    from .._store._records import RunRecord

__all__ = [
    "LOGS_ENV",
    "Conversation",
    "cli_runs",
    "conversation",
    "logs_enabled",
    "off_file",
    "set_logs",
]

LOGS_ENV = "PLAIT_LOGS"
_OFF = {"off", "0", "false", "no"}
_ON = {"on", "1", "true", "yes"}


def off_file() -> Path:
    """The file whose presence turns logging off: ``logs-off`` beside the default store."""
    from .._store._url import default_sqlite_path

    return default_sqlite_path().parent / "logs-off"


def logs_enabled(*, no_log: bool = False) -> bool:
    """``--no-log``, then ``PLAIT_LOGS``, then ``plait logs off|on``; on by default."""
    if no_log:
        return False
    value = os.environ.get(LOGS_ENV, "").strip().lower()
    if value in _OFF:
        return False
    if value in _ON:
        return True
    if value:
        raise CliError(f"{LOGS_ENV}={value!r} is not understood", hint="set it to on or off")
    return not off_file().exists()


def set_logs(on: bool) -> Path:
    """Persist the switch (``plait logs on|off``); returns the file that holds it."""
    path = off_file()
    if on:
        path.unlink(missing_ok=True)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("plait run and plait chat do not log while this file exists\n")
    return path


def new_thread_name() -> str:
    """A fresh conversation's thread: ``cli-20250102-150405-a1b2``."""
    return f"cli-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


async def cli_runs(conn: StoreConnection, limit: int) -> list[RunRecord]:
    """The most recent runs ``plait run`` / ``plait chat`` recorded, newest first."""
    runs = await conn.list_runs(limit=max(limit * 10, 500))
    return [r for r in runs if r.options.get("cli") is not None][:limit]


@dataclass(frozen=True)
class Conversation:
    """The thread a CLI run belongs to (``None``: not logged) and the store it is kept in."""

    thread: str | None = None
    store: str | bool | None = None

    def options(self) -> dict[str, Any]:
        """``thread=`` and ``store=`` for the run (nothing when not logged)."""
        if self.thread is None:
            return {}
        return {"thread": self.thread, "store": self.store}


async def _last_thread(args: argparse.Namespace, kernel: Kernel) -> str:
    from .._thread import open_connection, store_url

    url = store_url(args.store, None, kernel)
    async with open_connection(url, kernel) as conn:
        for record in await cli_runs(conn, 100):
            if record.thread_id:
                return record.thread_id
    raise CliError(
        f"nothing to continue: no `plait run` or `plait chat` conversation in {conn.url}",
        hint="start one without -c (and with logging on: see `plait logs`)",
    )


async def conversation(args: argparse.Namespace, kernel: Kernel) -> Conversation:
    """``--thread``, ``-c``, a new logged thread, or nothing (logging off)."""
    store: str | bool = args.store or True
    if args.continue_ and args.thread:
        raise CliError("-c/--continue and --thread both name a thread", hint="pass one", status=2)
    if args.continue_:
        return Conversation(await _last_thread(args, kernel), store)
    if args.thread:
        return Conversation(args.thread, store)
    if logs_enabled(no_log=args.no_log):
        return Conversation(new_thread_name(), store)
    return Conversation()
