"""The agent of the crash test: run as a script (killed at random), or loaded to resume it.

``python crash_agent.py STORE_URL RUN_ID SIDE_FILE`` prints ``ready`` once plait is
imported and the store is open, waits for a line on stdin, then runs a 6-turn scripted
agent whose tools append to SIDE_FILE, printing
``step SEQ KIND`` after each step the store acknowledged (committed), then ``finished``.
The store URL is wrapped (``echo+`` prefix) so the acknowledgements come from the store
connection itself, after its transaction committed.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable
from typing import Any

from plait import Context, hookimpl, tool
from plait._store import StoreConnection
from plait.testing import ScriptedModel, call, make_kernel

ECHO = "echo+"

# Six model turns; c-ids are explicit so a resumed (re-scripted) model reuses them.
TURNS: list[Any] = [
    [call("write", line="a", id="c1"), call("lookup", key="x", id="c2")],
    [call("write", line="b", id="c3")],
    [call("write", line="c", id="c4"), call("write", line="d", id="c5")],
    [call("lookup", key="y", id="c6")],
    [call("write", line="e", id="c7")],
    "done",
]
WRITE_IDS = ("c1", "c3", "c4", "c5", "c7")


def make_tools(side_file: str) -> list[Any]:
    @tool(idempotent=False)
    def write(ctx: Context[Any], line: str) -> str:
        """Append a line: a side effect that must never happen twice."""
        time.sleep(0.002)
        with open(side_file, "a") as f:
            f.write(f"{ctx.tool_call_id} {line}\n")
        time.sleep(0.002)
        return "written"

    @tool(idempotent=True)
    def lookup(key: str) -> str:
        """Read something: safe to repeat."""
        time.sleep(0.003)
        return key.upper()

    return [write, lookup]


class EchoConnection:
    """A ``StoreConnection`` that prints each committed step and forwards the rest.

    The forwarding methods are real methods (made below): Python 3.12's Protocol
    ``isinstance`` does not see what a ``__getattr__`` would forward.
    """

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.url = inner.url

    async def append_step(self, run_id: str, step: Any, **kwargs: Any) -> Any:
        record = await self._inner.append_step(run_id, step, **kwargs)
        sys.stdout.write(f"step {record.seq} {record.kind}\n")
        sys.stdout.flush()
        return record

    async def __aenter__(self) -> EchoConnection:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._inner.aclose()


def _forward(name: str) -> Any:
    def method(self: EchoConnection, *args: Any, **kwargs: Any) -> Any:
        return getattr(self._inner, name)(*args, **kwargs)

    method.__name__ = name
    return method


for _name, _member in vars(StoreConnection).items():
    if callable(_member) and not _name.startswith("_") and _name not in vars(EchoConnection):
        setattr(EchoConnection, _name, _forward(_name))


class EchoStore:
    """Store plugin object for ``echo+<scheme>://`` URLs."""

    def __init__(self, inner: Any, scheme: str) -> None:
        self.inner = inner
        self.scheme = ECHO + scheme

    def open(self, url: str) -> Any:
        conn = EchoConnection(self.inner.open(url[len(ECHO) :]))
        assert isinstance(conn, StoreConnection)
        return conn


class EchoPlugin:
    @hookimpl
    def plait_register_stores(self, config: Any) -> Iterable[Any]:
        from plait._store._sqlite import SQLiteStore

        stores: list[Any] = [EchoStore(SQLiteStore(), "sqlite")]
        try:
            from plait_postgres.store import PostgresStore
        except ImportError:  # the plugin is not installed: SQLite only
            return stores
        stores.append(EchoStore(PostgresStore("postgresql"), "postgresql"))
        stores.append(PostgresStore("postgresql"))
        return stores


def kernel() -> Any:
    return make_kernel(EchoPlugin())


def main(argv: list[str]) -> int:
    import anyio

    from plait import arun

    url, run_id, side_file = argv
    k = kernel()

    async def warm() -> None:
        # connect, migrate and import the run's modules now: the kills should land in
        # the run, not in start-up work
        import plait._run._durable  # noqa: F401

        async with k.stores()[url.split(":", 1)[0]].open(url) as conn:
            await conn.list_runs(limit=1)

    anyio.run(warm)
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    sys.stdin.readline()  # "go": the test starts its clock now

    async def go() -> None:
        result = await arun(
            "do the chores",
            model=ScriptedModel(TURNS),
            tools=make_tools(side_file),
            store=url,
            run_id=run_id,
            kernel=k,
        )
        sys.stdout.write(f"finished {result.status}\n")
        sys.stdout.flush()

    anyio.run(go)
    os._exit(0)  # skip interpreter teardown: the test measures the run, not the exit


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
