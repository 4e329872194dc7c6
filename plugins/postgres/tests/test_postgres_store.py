"""PostgreSQL-specific promises: registration, URLs, clear errors for an unreachable server
and a held row lock, several writer processes, and a disk-full error mapped to StoreFull."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator

import anyio
import psycopg
import pytest

from plait import ConfigError
from plait.provider import PlaitConfig
from plait.store import SCHEMA_VERSION, NewStep, StoreBusy, StoreError, StoreFull
from plait_postgres import hooks
from plait_postgres.store import PostgresStore, map_postgres_error, redact_url

pytestmark = pytest.mark.anyio


def test_hooks_register_both_schemes() -> None:
    stores = list(hooks.plait_register_stores(PlaitConfig()))
    assert sorted(s.scheme for s in stores) == ["postgres", "postgresql"]


def test_entry_point_is_declared() -> None:
    from importlib.metadata import entry_points

    (ep,) = [ep for ep in entry_points(group="plait") if ep.name == "postgres"]
    assert ep.value == "plait_postgres.hooks"


def test_hooks_module_does_not_import_the_driver() -> None:
    probe = "import sys, plait_postgres.hooks; print('psycopg' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr


def test_password_never_appears_in_the_url_or_errors() -> None:
    url = "postgresql://app:s3cret@127.0.0.1:1/db"
    assert redact_url(url) == "postgresql://app:***@127.0.0.1:1/db"
    assert "s3cret" not in PostgresStore().open(url).url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://h/db", "not a PostgreSQL store URL"),
        ("postgresql://h/db?busy_timeout=never", "busy_timeout must be seconds"),
        ("postgresql://h/db?max_blob_bytes=0", "max_blob_bytes must be a whole number"),
    ],
)
def test_bad_urls(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        PostgresStore().open(url)


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield s.getsockname()[1]  # bound, not listening: connections are refused


async def test_unreachable_server_is_a_store_error(closed_port: int) -> None:
    url = f"postgresql://app:s3cret@127.0.0.1:{closed_port}/db?connect_timeout=5"
    async with PostgresStore().open(url) as conn:
        with pytest.raises(StoreError, match="cannot reach the server") as info:
            await conn.list_threads()
    assert "s3cret" not in str(info.value)


async def test_row_lock_held_past_busy_timeout_is_store_busy(pg_url: str) -> None:
    async with PostgresStore().open(f"{pg_url}?busy_timeout=0.3") as conn:
        await conn.create_run("r")
        with psycopg.connect(pg_url) as other:  # a transaction that holds the run's row lock
            other.execute("SELECT id FROM plait_runs WHERE id = 'r' FOR UPDATE")
            with anyio.fail_after(10), pytest.raises(StoreBusy, match=r"busy_timeout=0.3s"):
                await conn.append_step("r", NewStep(kind="check"))
        assert (await conn.append_step("r", NewStep(kind="check"))).seq == 1


def test_disk_full_maps_to_store_full() -> None:
    exc = psycopg.errors.DiskFull("could not extend file: No space left on device")
    mapped = map_postgres_error(exc, "postgresql store x", 30)
    assert isinstance(mapped, StoreFull) and "not written" in str(mapped)


WRITER = textwrap.dedent(
    """
    import sys, anyio
    from plait.store import NewStep
    from plait_postgres.store import PostgresStore

    async def main(url, name, steps):
        async with PostgresStore().open(url) as conn:  # first use migrates, concurrently
            await conn.create_run(name, thread_id="shared")
            for i in range(steps):
                await conn.append_step(name, NewStep(kind="check", payload={"i": i}))

    anyio.run(main, sys.argv[1], sys.argv[2], int(sys.argv[3]))
    """
)


async def test_several_writer_processes_on_a_fresh_database(pg_url: str) -> None:
    processes, steps = 4, 100
    async with anyio.create_task_group() as tg:
        for n in range(processes):
            tg.start_soon(
                anyio.run_process, [sys.executable, "-c", WRITER, pg_url, f"w{n}", str(steps)]
            )
    async with PostgresStore().open(pg_url) as conn:
        for n in range(processes):
            state = await conn.load_run(f"w{n}")
            assert state is not None
            assert [s.payload["i"] for s in state.steps] == list(range(steps))
    with psycopg.connect(pg_url) as db:
        assert db.execute("SELECT COUNT(*) FROM plait_schema_version").fetchone() == (
            SCHEMA_VERSION,
        )


async def test_lost_server_connection_fails_one_call_then_reconnects(pg_url: str) -> None:
    async with PostgresStore().open(pg_url) as conn:
        await conn.create_run("r")
        with psycopg.connect(pg_url, autocommit=True) as admin:  # kill the store's session
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(StoreError):
            await conn.append_step("r", NewStep(kind="check"))
        assert (await conn.append_step("r", NewStep(kind="check"))).seq == 1


async def test_a_v1_database_migrates_forward_and_keeps_media_in_bytea(pg_url: str) -> None:
    from plait import Image, Text, UserMessage
    from plait.store import schema_v1

    with psycopg.connect(pg_url, autocommit=True) as db:  # as plait wrote it before blobs
        for statement in schema_v1(real="DOUBLE PRECISION"):
            db.execute(statement)
        db.execute("CREATE TABLE plait_schema_version (version INTEGER PRIMARY KEY, "
                   "applied_at DOUBLE PRECISION NOT NULL)")  # fmt: skip
        db.execute("INSERT INTO plait_schema_version VALUES (1, 0)")
        db.execute("INSERT INTO plait_threads VALUES ('old', 1, '{}', 0, 0)")
        old = UserMessage(content="from before").model_dump_json()
        db.execute("INSERT INTO plait_messages VALUES ('old', 1, NULL, 1, %s)", (old,))
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
    look = UserMessage(content=[Text("and now"), Image.from_bytes(png)])
    async with PostgresStore().open(pg_url) as conn:
        await conn.append_messages("old", [look], expected_head=1)
        history = await conn.load_messages("old")
    assert history.messages == [UserMessage(content="from before"), look]
    with psycopg.connect(pg_url) as db:
        versions = db.execute("SELECT version FROM plait_schema_version ORDER BY 1").fetchall()
        assert versions == [(1,), (2,)]
        assert db.execute("SELECT data FROM plait_blobs").fetchall() == [(png,)]
