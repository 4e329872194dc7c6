"""``plait threads list|show NAME|export NAME|delete NAME``: conversations in a store.

The store is ``--store URL``, else config ``store`` / ``PLAIT_STORE``, else the built-in
SQLite file. ``export`` writes one JSON document: the thread, its messages, and every
run with its steps (``ThreadExport``).
"""

from __future__ import annotations

import argparse
import base64
import json
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._show import plural

if TYPE_CHECKING:
    from .._messages import Message
    from .._store._contract import StoreConnection

__all__ = ["add_arguments", "add_store_option", "describe", "run", "stamp", "with_store"]


def add_store_option(parser: argparse.ArgumentParser, *, sub: bool = False) -> None:
    """``--store URL``; on an action too (``plait threads list --store URL``)."""
    parser.add_argument(
        "--store",
        metavar="URL",
        # on an action, only a given value may replace the command's (argparse quirk)
        default=argparse.SUPPRESS if sub else None,
        help="store URL (default: config `store`, PLAIT_STORE, else the SQLite file)",
    )


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_store_option(parser)
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    listing = sub.add_parser("list", help="threads, most recently updated first")
    listing.add_argument("--limit", type=int, default=100)
    listing.add_argument("--json", action="store_true", help="print JSON")
    show = sub.add_parser("show", help="a thread's messages")
    show.add_argument("name")
    show.add_argument("--json", action="store_true", help="print the messages as JSON")
    export = sub.add_parser("export", help="the thread, its messages, runs and steps")
    export.add_argument("name")
    export.add_argument("--format", choices=["json"], default="json")
    delete = sub.add_parser("delete", help="delete a thread with its runs and steps")
    delete.add_argument("name")
    for action in (listing, show, export, delete):
        add_store_option(action, sub=True)


def stamp(ts: float | None) -> str:
    """A timestamp as UTC ISO text (``-`` when missing)."""
    return "-" if ts is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


def describe(message: Message) -> str:
    """One line for a message: role, then text or tool calls (shortened)."""
    from .._messages import AssistantMessage, ToolResultMessage

    if isinstance(message, AssistantMessage):
        calls = ", ".join(f"{c.name}({c.arguments}) [{c.id}]" for c in message.tool_calls)
        body = " | ".join(p for p in (message.text, calls and f"calls {calls}") if p)
    elif isinstance(message, ToolResultMessage):
        flag = " (error)" if message.is_error else ""
        body = f"{message.name} [{message.tool_call_id}]{flag}: {message.content}"
    else:
        from .._parts import text_of  # parts: their text, media as short markers

        body = text_of(getattr(message, "content", ""))
    body = body.replace("\n", " ")
    return f"{message.role:>9}: {body[:200]}{'...' if len(body) > 200 else ''}"


def with_store(args: argparse.Namespace, work: Callable[[StoreConnection], Awaitable[int]]) -> int:
    """Run ``work`` with a connection to the chosen store, on a fresh event loop."""
    import anyio

    from .._kernel import Kernel
    from .._thread import open_connection, store_url

    async def main() -> int:
        async with Kernel(strict=True if args.strict else None) as kernel:
            url = store_url(args.store, None, kernel)
            async with open_connection(url, kernel) as conn:
                return await work(conn)

    result: int = anyio.run(main)
    return result


async def _list(conn: StoreConnection, args: argparse.Namespace) -> int:
    threads = await conn.list_threads(limit=args.limit)
    if args.json:
        print(json.dumps([t.model_dump(mode="json") for t in threads], indent=2))
        return 0
    if not threads:
        print(f"no threads in {conn.url}")
    for t in threads:
        meta = f"  {json.dumps(t.metadata)}" if t.metadata else ""
        print(f"{t.id}  {plural(t.head, 'message')}  updated {stamp(t.updated_at)}{meta}")
    return 0


def _missing(conn: StoreConnection, name: str) -> Exception:
    from .._store._errors import StoreError

    return StoreError(f"{conn.url}: no thread named {name!r} (see `plait threads list`)")


async def _show(conn: StoreConnection, args: argparse.Namespace) -> int:
    if await conn.get_thread(args.name) is None:
        raise _missing(conn, args.name)
    history = await conn.load_messages(args.name)
    if args.json:
        dumped = [_without_bytes(m.model_dump(mode="json")) for m in history.messages]
        print(json.dumps(dumped, indent=2))
        return 0
    for n, message in enumerate(history.messages, 1):
        print(f"{n:>4} {describe(message)}")
    return 0


def _without_bytes(value: Any) -> Any:
    """``value`` with each media part's bytes replaced by their size and store key (for
    reading; ``plait threads export`` keeps the bytes)."""
    if isinstance(value, list):
        return [_without_bytes(item) for item in value]
    if not isinstance(value, dict):
        return value
    if value.get("type") in ("image", "document", "audio") and isinstance(value.get("data"), str):
        from .._parts import blob_key

        data = base64.b64decode(value["data"])
        return {**value, "data": None, "blob": blob_key(data), "bytes": len(data)}
    return {key: _without_bytes(item) for key, item in value.items()}


async def _export(conn: StoreConnection, args: argparse.Namespace) -> int:
    exported = await conn.export_thread(args.name)
    if exported is None:
        raise _missing(conn, args.name)
    print(exported.model_dump_json(indent=2))
    return 0


async def _delete(conn: StoreConnection, args: argparse.Namespace) -> int:
    if not await conn.delete_thread(args.name):
        raise _missing(conn, args.name)
    print(f"deleted thread {args.name!r} with its runs")
    return 0


ACTIONS = {"list": _list, "show": _show, "export": _export, "delete": _delete}


def run(args: argparse.Namespace) -> int:
    action = ACTIONS[args.action]
    return with_store(args, lambda conn: action(conn, args))
