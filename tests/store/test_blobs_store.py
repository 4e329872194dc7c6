"""Media blobs in the SQL engine: the JSON rewrite, migrating a v1 store, atomic writes."""

from __future__ import annotations

import base64
import dataclasses
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from plait._messages import UserMessage
from plait._parts import Image, Text
from plait._store._blobs import BlobSink, put_back
from plait._store._engine import SqlEngine
from plait._store._sqlite import SQLITE_DIALECT, SQLiteStore
from plait._store._sqlite import _connect as sqlite_connect
from plait._store._url import parse_sqlite_url
from plait.store import SCHEMA_VERSION, BlobTooLarge, NewStep, StoreError, migrate, schema_v1

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
KEY = Image.from_bytes(PNG).digest()


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _part(data: str, **extra: Any) -> dict[str, Any]:
    return {"type": "image", "data": data, "url": None, "blob": None, "media_type": "image/png",
            **extra}  # fmt: skip


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


# --- the JSON rewrite -------------------------------------------------------------------


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_inline_bytes_become_a_blob_and_come_back(encode: Any) -> None:
    record = {"messages": [{"role": "user", "content": [_part(encode(PNG).decode())]}]}
    sink = BlobSink(10_000, "test")
    stored = sink.take(_json(record), "a record")
    part = json.loads(stored)["messages"][0]["content"][0]
    assert (part["data"], part["blob"], part["media_type"]) == (None, KEY, "image/png")
    assert list(sink.blobs) == [KEY] and sink.blobs[KEY].data == PNG and sink.refs == {KEY}
    back = json.loads(put_back(stored, {KEY: PNG}.__getitem__))["messages"][0]["content"][0]
    assert back["data"] == base64.b64encode(PNG).decode() and back["blob"] is None


def test_what_is_not_inline_media_is_left_alone() -> None:
    texts = [
        _json({"role": "user", "content": 'say {"data":"QUJD"} please'}),  # text, escaped
        _json({"type": "text", "data": "QUJD"}),  # not a media part
        _json(_part("not base64!")),  # not bytes of ours
        _json({"type": "image", "url": "https://x/cat.png", "data": None, "blob": None}),
        _json({"payload": {"data": "QUJD"}}),
        _json({"type": "image", "data": "QUJD"}),  # not a dumped part: its own JSON
    ]
    sink = BlobSink(10_000, "test")
    assert [sink.take(text, "a record") for text in texts] == texts
    assert sink.blobs == {} and sink.refs == set()


def test_the_same_bytes_twice_are_one_blob() -> None:
    data = base64.b64encode(PNG).decode()
    sink = BlobSink(10_000, "test")
    sink.take(_json([_part(data), {"nested": [_part(data, name="again")]}]), "a record")
    assert list(sink.blobs) == [KEY]


def test_the_blob_cap_is_checked_before_decoding() -> None:
    sink = BlobSink(len(PNG) - 1, "my store")
    with pytest.raises(BlobTooLarge, match=r"my store: a media part of step 3 is 1,032 bytes"):
        sink.take(_json(_part(base64.b64encode(PNG).decode())), "step 3")
    assert BlobSink(len(PNG), "ok").take(_json(_part(base64.b64encode(PNG).decode())), "s")


# --- migrating a store written by schema version 1 ---------------------------------------


def _v1_store(path: Path) -> None:
    """A SQLite file as plait wrote it before blobs: schema 1, one thread, one message."""
    with closing(sqlite3.connect(path)) as db, db:
        for statement in schema_v1(real="REAL"):
            db.execute(statement)
        db.execute("CREATE TABLE plait_schema_version (version INTEGER PRIMARY KEY, "
                   "applied_at DOUBLE PRECISION NOT NULL)")  # fmt: skip
        db.execute("INSERT INTO plait_schema_version VALUES (1, 0)")
        db.execute("INSERT INTO plait_threads VALUES ('old', 1, '{}', 0, 0)")
        message = UserMessage(content="from before").model_dump_json()
        db.execute("INSERT INTO plait_messages VALUES ('old', 1, NULL, 1, ?)", (message,))


@pytest.mark.anyio
async def test_a_v1_store_migrates_forward(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _v1_store(path)
    async with SQLiteStore().open(f"sqlite:///{path}") as conn:
        history = await conn.load_messages("old")
        assert history.messages == [UserMessage(content="from before")]
        look = UserMessage(content=[Text("and now"), Image.from_bytes(PNG)])
        await conn.append_messages("old", [look], expected_head=1)
        assert (await conn.load_messages("old")).messages[1] == look
    with closing(sqlite3.connect(path)) as db:
        versions = db.execute("SELECT version FROM plait_schema_version ORDER BY 1").fetchall()
        assert versions == [(v,) for v in range(1, SCHEMA_VERSION + 1)] == [(1,), (2,)]
        assert db.execute("SELECT key FROM plait_blobs").fetchall() == [(KEY,)]


def test_a_dialect_without_the_blob_migration_still_gets_it(tmp_path: Path) -> None:
    """A store built on SqlEngine before blobs existed lists only schema_v1: it migrates."""
    older = dataclasses.replace(SQLITE_DIALECT, migrations=(schema_v1(real="REAL"),))
    with closing(sqlite3.connect(tmp_path / "x.db", isolation_level=None)) as conn:
        engine = SqlEngine(conn, older, "third-party store")
        assert migrate(engine) == SCHEMA_VERSION
        engine.append_messages("t", [UserMessage(content=[Image.from_bytes(PNG)])], 0, None)
        assert conn.execute("SELECT size FROM plait_blobs").fetchall() == [(len(PNG),)]


# --- atomic writes -----------------------------------------------------------------------


class _FailingRefs(sqlite3.Connection):
    """A connection whose writes of blob references fail (after the blob was written)."""

    def execute(self, sql: str, *args: Any) -> Any:
        if sql.startswith("INSERT INTO plait_blob_refs"):
            raise sqlite3.OperationalError("disk I/O error")
        return super().execute(sql, *args)


def test_a_failing_write_leaves_neither_blob_nor_record(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    sqlite_connect(parse_sqlite_url(f"sqlite:///{path}")).conn.close()  # migrated
    conn = sqlite3.connect(path, isolation_level=None, factory=_FailingRefs)
    engine = SqlEngine(conn, SQLITE_DIALECT, "test")
    look = UserMessage(content=[Image.from_bytes(PNG)])
    with pytest.raises(sqlite3.OperationalError):
        engine.append_messages("t", [look], 0, None)
    engine.create_run("r", {"thread_id": None, "agent": None, "parent_run_id": None,
                            "options": None})  # fmt: skip
    payload = {"messages": [look.model_dump(mode="json")]}
    with pytest.raises(sqlite3.OperationalError):
        engine.append_step("r", NewStep(kind="check", payload=payload), None, (), None)
    assert conn.execute("SELECT count(*) FROM plait_blobs").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM plait_messages").fetchone() == (0,)
    assert conn.execute("SELECT count(*) FROM plait_steps").fetchone() == (0,)
    conn.close()


def test_a_reference_from_another_store_is_refused(tmp_path: Path) -> None:
    engine = sqlite_connect(parse_sqlite_url(f"sqlite:///{tmp_path}/x.db"))
    elsewhere = UserMessage(content=[Image(blob=KEY, media_type="image/png")])
    with pytest.raises(StoreError, match=f"refers to blob '{KEY}', which this store"):
        engine.append_messages("t", [elsewhere], 0, None)
    assert engine.load_messages("t").head == 0
    engine.conn.close()
