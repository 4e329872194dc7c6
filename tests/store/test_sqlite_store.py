"""SQLite-specific promises: lazy open, WAL, lock waits, several writer processes,
a full disk, a damaged file, and the built-in plugin's registration."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from pathlib import Path

import anyio
import pytest

from plait._builtins import sqlite_store
from plait._config import PlaitConfig
from plait._store._sqlite import SQLiteStore
from plait.store import SCHEMA_VERSION, NewStep, StoreBusy, StoreCorrupted

pytestmark = pytest.mark.anyio


def _query(path: Path, sql: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(sql).fetchall()


def test_builtin_plugin_registers_the_sqlite_scheme() -> None:
    stores = list(sqlite_store.plait_register_stores(PlaitConfig()))
    assert [s.scheme for s in stores] == ["sqlite"]


async def test_open_touches_nothing_until_first_use(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "folder" / "plait.db"
    conn = SQLiteStore().open(f"sqlite:///{path}")
    assert not path.parent.exists()  # open() is free of I/O
    await conn.get_or_create_thread("t")
    await conn.aclose()
    assert _query(path, "PRAGMA journal_mode") == [("wal",)]
    versions = _query(path, "SELECT version FROM plait_schema_version ORDER BY version")
    assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)]


async def test_memory_store_works_and_is_private() -> None:
    store = SQLiteStore()
    async with store.open("sqlite:///:memory:") as one, store.open("sqlite:///:memory:") as two:
        await one.append_messages("t", [], expected_head=0)
        assert await one.get_thread("t") is not None
        assert await two.get_thread("t") is None


async def test_lock_held_past_busy_timeout_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "plait.db"
    async with SQLiteStore().open(f"sqlite:///{path}?busy_timeout=0.2") as conn:
        await conn.create_run("r")
        with closing(sqlite3.connect(path, isolation_level=None)) as other:
            other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
            with anyio.fail_after(5), pytest.raises(StoreBusy, match=r"busy_timeout=0.2s"):
                await conn.append_step("r", NewStep(kind="check"))
            other.execute("ROLLBACK")
        assert (await conn.append_step("r", NewStep(kind="check"))).seq == 1


async def test_connections_racing_to_create_a_new_file_all_succeed(tmp_path: Path) -> None:
    """Switching a new file to WAL answers SQLITE_BUSY at once, without the busy handler,
    while another connection is creating it: the store waits instead of failing."""
    for attempt in range(40):
        url = f"sqlite:///{tmp_path / f'race{attempt}.db'}"

        async def one(url: str = url) -> None:
            async with SQLiteStore().open(url) as conn:
                await conn.get_or_create_thread("t")

        async with anyio.create_task_group() as tg:
            for _ in range(4):
                tg.start_soon(one)
        assert _query(tmp_path / f"race{attempt}.db", "PRAGMA journal_mode") == [("wal",)]


async def test_a_file_that_is_not_a_database(tmp_path: Path) -> None:
    path = tmp_path / "plait.db"
    path.write_bytes(b"this is a text file, not SQLite" * 100)
    async with SQLiteStore().open(f"sqlite:///{path}") as conn:
        with pytest.raises(StoreCorrupted, match="not a readable SQLite database"):
            await conn.list_threads()


WRITER = textwrap.dedent(
    """
    import sys, anyio
    from plait.store import NewStep
    from plait._store._sqlite import SQLiteStore

    async def main(url, name, steps, start):
        while not start.exists():  # all writers begin together, on a file none created yet
            await anyio.sleep(0.001)
        async with SQLiteStore().open(url) as conn:
            await conn.create_run(name, thread_id="shared")
            for i in range(steps):
                await conn.append_step(name, NewStep(kind="check", payload={"i": i}))
                while True:  # also contend for one thread's head
                    head = (await conn.load_messages("shared")).head
                    try:
                        await conn.append_messages("shared", [], expected_head=head)
                        break
                    except Exception as exc:
                        if type(exc).__name__ != "ThreadConflict":
                            raise

    from pathlib import Path
    anyio.run(main, sys.argv[1], sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    """
)


def _run_writers(url: str, start: Path, processes: int, steps: int) -> list[tuple[int, str]]:
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, url, f"w{n}", str(steps), str(start)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(processes)
    ]
    start.touch()
    return [(p.wait(timeout=110), p.communicate()[1]) for p in procs]


async def test_several_writer_processes_never_see_a_locked_database(tmp_path: Path) -> None:
    path, start = tmp_path / "plait.db", tmp_path / "go"
    url, processes, steps = f"sqlite:///{path}?busy_timeout=60", 4, 200
    outcomes = await anyio.to_thread.run_sync(_run_writers, url, start, processes, steps)
    assert [code for code, _ in outcomes] == [0] * processes, [err for _, err in outcomes]
    assert not any("locked" in err for _, err in outcomes)
    async with SQLiteStore().open(f"sqlite:///{path}") as conn:
        for n in range(processes):
            state = await conn.load_run(f"w{n}")
            assert state is not None
            assert [s.payload["i"] for s in state.steps] == list(range(steps))
    assert _query(path, "SELECT COUNT(*) FROM plait_schema_version") == [(SCHEMA_VERSION,)]


DISK_FULL = textwrap.dedent(
    """
    import json, os, resource, signal, sys, anyio
    from plait.store import NewStep, StoreError
    from plait._store._sqlite import SQLiteStore

    async def main(path):
        async with SQLiteStore().open(f"sqlite:///{path}") as conn:
            await conn.create_run("r")
            for i in range(5):
                await conn.append_step("r", NewStep(kind="check", payload={"i": i}))
            # Past RLIMIT_FSIZE a write fails with EFBIG instead of killing the process.
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            used = sum(os.path.getsize(p) for p in (path, path + "-wal") if os.path.exists(p))
            resource.setrlimit(resource.RLIMIT_FSIZE, (used + 150_000, used + 150_000))
            written, error = 5, None
            try:
                for i in range(100):
                    blob = NewStep(kind="check", payload={"blob": "x" * 40_000})
                    await conn.append_step("r", blob)
                    written += 1
            except StoreError as exc:
                error = {"type": type(exc).__name__, "message": str(exc)}
            state = await conn.load_run("r")
            print(json.dumps({"written": written, "error": error, "readable": state.last_seq}))

    anyio.run(main, sys.argv[1])
    """
)


async def test_disk_full_is_a_clear_error_and_keeps_earlier_steps(tmp_path: Path) -> None:
    path = tmp_path / "plait.db"
    with anyio.fail_after(100):
        out = await anyio.run_process([sys.executable, "-c", DISK_FULL, str(path)])
    report = json.loads(out.stdout)
    assert report["error"] is not None, report
    assert report["error"]["type"] == "StoreFull"
    assert "the step was not written" in report["error"]["message"]
    assert report["written"] >= 5 and report["readable"] == report["written"]
    async with SQLiteStore().open(f"sqlite:///{path}") as conn:  # a fresh process, no limit
        state = await conn.load_run("r")
        assert state is not None
        assert [s.seq for s in state.steps] == list(range(1, report["written"] + 1))
        assert [s.payload["i"] for s in state.steps[:5]] == list(range(5))
        assert (await conn.append_step("r", NewStep(kind="check"))).seq == report["written"] + 1
