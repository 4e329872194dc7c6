"""``plait logs``: the runs and chat turns ``plait run`` / ``plait chat`` logged.

``plait logs [list] [-n N]`` lists the most recent (id, time, status, model, prompt),
``plait logs show [ID]`` shows one (the latest without ``ID``; a unique start of an id is
enough), ``plait logs off`` / ``on`` switches logging (persisted for the user),
``plait logs status`` says whether it is on and where logs go. The logs are the runs of
the store (``--store``, config ``store`` / ``PLAIT_STORE``, else the default SQLite file)
that the command line recorded; ``plait runs`` and ``plait threads`` see them too.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import TYPE_CHECKING, Any

from ._errors import CliError

if TYPE_CHECKING:
    from .._store._contract import StoreConnection
    from .._store._records import RunRecord, StoredRun

__all__ = ["add_arguments", "run"]


def _store_flag(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    parser.add_argument(
        "--store", metavar="URL", default=argparse.SUPPRESS if sub else None,
        help="store URL (default: config `store`, PLAIT_STORE, else the SQLite file)",
    )  # fmt: skip


def _list_flags(parser: argparse.ArgumentParser, *, sub: bool) -> None:
    default = argparse.SUPPRESS if sub else None
    parser.add_argument("-n", "--count", type=int, metavar="N", default=default,
                        help="how many (default: 20)")  # fmt: skip
    parser.add_argument("--json", action="store_true", default=default, help="print JSON")
    _store_flag(parser, sub=sub)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _list_flags(parser, sub=False)
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    _list_flags(sub.add_parser("list", help="the most recent logged runs (the default)"), sub=True)
    show = sub.add_parser("show", help="one logged run: prompt, answer, status, usage")
    show.add_argument("run_id", nargs="?", metavar="ID", help="a run id or its start (latest)")
    show.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="JSON")
    _store_flag(show, sub=True)
    sub.add_parser("off", help="stop logging runs and chats (persisted)")
    sub.add_parser("on", help="log runs and chats again")
    _store_flag(sub.add_parser("status", help="whether logging is on, and where to"), sub=True)


def _when(ts: float | None) -> str:
    return "-" if ts is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def _model(record: RunRecord) -> str:
    return str(record.options.get("model") or record.options.get("model_name") or "-")


def _one_line(text: Any, limit: int = 60) -> str:
    line = " ".join(str(text or "").split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _row(record: RunRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "started_at": record.started_at,
        "status": record.status,
        "model": _model(record),
        "thread": record.thread_id,
        "prompt": record.options.get("task"),
    }


async def _list(conn: StoreConnection, args: argparse.Namespace) -> int:
    from ._record import cli_runs

    records = await cli_runs(conn, args.count or 20)
    if args.json:
        print(json.dumps([_row(r) for r in records], indent=2))
        return 0
    if not records:
        print(f"no logged runs in {conn.url}")
    for r in records:
        print(f"{r.id}  {_when(r.started_at)}  {r.status:<10} {_model(r)}  "
              f"{_one_line(r.options.get('task'))}")  # fmt: skip
    return 0


async def _find(conn: StoreConnection, wanted: str | None) -> StoredRun:
    from ._record import cli_runs

    state = await conn.load_run(wanted) if wanted else None
    if state is not None:
        return state
    records = await cli_runs(conn, 1000)
    found = [r for r in records if r.id.startswith(wanted or "")][:2]
    if len(found) == 1 or (found and not wanted):
        state = await conn.load_run(found[0].id)
    if state is None:
        what = f"run {wanted!r}" if wanted else "run"
        why = "two runs start with it" if len(found) > 1 and wanted else "none is logged"
        raise CliError(f"{conn.url}: no logged {what} ({why})", hint="see `plait logs`")
    return state


def _usage(usage: dict[str, Any]) -> str:
    from ._show import plural

    tokens_in, tokens_out = usage.get("input_tokens", 0), usage.get("output_tokens", 0)
    return (
        f"{plural(usage.get('requests', 0), 'request')}, "
        f"{plural(usage.get('tool_calls', 0), 'tool call')}, "
        f"{plural(tokens_in + tokens_out, 'token')} ({tokens_in} in, {tokens_out} out)"
    )


async def _show(conn: StoreConnection, args: argparse.Namespace) -> int:
    state = await _find(conn, args.run_id)
    r = state.run
    end = next((s.payload for s in reversed(state.steps) if s.kind == "completion"), {})
    if getattr(args, "json", False):
        print(json.dumps({**_row(r), "ended_at": r.ended_at, "completion": end}, indent=2))
        return 0
    took = f" ({r.ended_at - r.started_at:.2f}s)" if r.ended_at else ""
    print(f"run {r.id}: {r.status}" + (f" ({end['stop_reason']})" if end else ""))
    print(f"time: {_when(r.started_at)}{took}")
    print(f"model: {_model(r)}")
    print(f"thread: {r.thread_id or '-'}")
    print(f"prompt:\n  {str(r.options.get('task') or '').replace(chr(10), chr(10) + '  ')}")
    output = end.get("output")
    if output is not None:
        text = output if isinstance(output, str) else json.dumps(output, indent=2)
        print(f"answer:\n  {text.replace(chr(10), chr(10) + '  ')}")
    if r.error:
        print(f"error: {r.error}")
    if end.get("usage"):
        print(f"usage: {_usage(end['usage'])}")
    return 0


async def _status(conn: StoreConnection, args: argparse.Namespace) -> int:
    from ._record import LOGS_ENV, logs_enabled, off_file

    state = "on" if logs_enabled() else "off"
    print(f"logging is {state} (switches: --no-log, {LOGS_ENV}=on|off, {off_file()})")
    print(f"store: {conn.url}")
    return 0


def _with_store(args: argparse.Namespace, action: Any) -> int:
    import anyio

    from .._kernel import Kernel
    from .._thread import open_connection, store_url

    async def main() -> int:
        async with Kernel(strict=True if args.strict else None) as kernel:
            url = store_url(args.store, None, kernel)
            async with open_connection(url, kernel) as conn:
                status: int = await action(conn, args)
                return status

    result: int = anyio.run(main)
    return result


def run(args: argparse.Namespace) -> int:
    from ._record import set_logs

    if args.action in ("on", "off"):
        from ._record import LOGS_ENV, logs_enabled

        path = set_logs(args.action == "on")
        state = "on" if args.action == "on" else f"off (until `plait logs on`; {path})"
        print(f"logging of plait run and plait chat is {state}")
        if logs_enabled() != (args.action == "on"):
            print(f"plait: note: {LOGS_ENV} in the environment overrides it", file=sys.stderr)
        return 0
    actions = {None: _list, "list": _list, "show": _show, "status": _status}
    return _with_store(args, actions[args.action])
