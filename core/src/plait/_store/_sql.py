"""The plumbing under ``SqlEngine``: the dialect, transactions, encoding records, blobs.

Every JSON record is encoded before its transaction begins: media bytes are taken out
into blobs (``_blobs.py``, capped by ``max_blob_bytes``: ``BlobTooLarge``), then what is
left is checked against ``max_record_bytes`` (``RecordTooLarge``): a refused call writes
nothing. The blobs go to ``plait_blobs`` in the same transaction as the record, written
once per key, with one ``plait_blob_refs`` row per owner (a thread, or a run without a
thread) so deleting a thread deletes exactly the blobs nothing else references.

Concurrency: SQLite's ``BEGIN IMMEDIATE`` serialises writers. On a server database a
writer adding blob references holds ``Dialect.blob_lock`` (shared) and the deleter of
unreferenced blobs ``Dialect.blob_gc_lock`` (exclusive), so a blob is never deleted
between another transaction finding it present and committing its reference to it.
Both are taken after the call's row locks, in the same order everywhere.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from .._messages import Message
from ._blobs import BlobSink
from ._errors import RecordTooLarge, StoreCorrupted, StoreError
from ._records import DEFAULT_MAX_BLOB_BYTES, DEFAULT_MAX_RECORD_BYTES, encode_json, encode_message

__all__ = ["BlobReader", "Dialect", "SqlBase", "run_owner", "thread_owner"]


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between databases: placeholders, transaction starts, row locks.

    ``binary`` is the column type of bytes (``BLOB``; PostgreSQL ``BYTEA``). A dialect
    whose ``migrations`` stop before ``SCHEMA_VERSION`` gets the later ones built from
    its fields (``schema_v2(binary=...)``). ``blob_lock`` / ``blob_gc_lock`` are the
    shared / exclusive transaction-level locks of a server database (see the module).
    """

    name: str
    placeholder: str
    begin_write: str
    begin_read: str
    for_update: str
    integrity_errors: tuple[type[BaseException], ...]
    migrations: Sequence[Sequence[str]]
    migration_lock: str | None = None
    binary: str = "BLOB"
    blob_lock: str | None = None
    blob_gc_lock: str | None = None


def thread_owner(thread_id: str) -> str:
    """The blob-reference owner of a thread's records (its messages, runs and steps)."""
    return f"thread:{thread_id}"


def run_owner(run_id: str) -> str:
    """The blob-reference owner of the records of a run that has no thread."""
    return f"run:{run_id}"


class SqlBase:
    """One DB-API connection, its dialect and caps; each public method is one transaction."""

    def __init__(
        self,
        conn: Any,
        dialect: Dialect,
        label: str,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
        max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES,
    ) -> None:
        self.conn = conn
        self.dialect = dialect
        self.label = label
        self.max_record_bytes = max_record_bytes
        self.max_blob_bytes = max_blob_bytes

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run one statement (``?`` placeholders) and return the cursor."""
        if self.dialect.placeholder != "?":
            sql = sql.replace("?", self.dialect.placeholder)
        return self.conn.execute(sql, tuple(params))

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[None]:
        """One transaction: committed when the block ends, rolled back when it raises."""
        self.conn.execute(self.dialect.begin_write if write else self.dialect.begin_read)
        try:
            yield
            self.conn.execute("COMMIT")
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        # The original error matters; the transaction is gone either way.
        with suppress(Exception):
            self.conn.execute("ROLLBACK")

    # --- encoding records -------------------------------------------------------------

    def sink(self) -> BlobSink:
        """A new collector of the blobs of one call's records."""
        return BlobSink(self.max_blob_bytes, self.label)

    def _fits(self, text: str, what: str) -> str:
        """``text`` if its UTF-8 size is within ``max_record_bytes``, else ``RecordTooLarge``."""
        limit = self.max_record_bytes
        # A character is at most 4 bytes: only a text this long is measured (no copy else).
        if len(text) > limit // 4 and (size := len(text.encode())) > limit:
            raise RecordTooLarge(
                f"{self.label}: {what} is {size:,} bytes, over this store's limit of "
                f"max_record_bytes={limit}; nothing was written (raise max_record_bytes "
                "in the store URL to keep larger records)",
                size,
                limit,
            )
        return text

    def _json(self, value: Any, what: str, sink: BlobSink | None = None) -> str:
        text = encode_json(value, what)
        return self._fits(text if sink is None else sink.take(text, what), what)

    def _messages_json(self, messages: Sequence[Message], where: str, sink: BlobSink) -> list[str]:
        encoded = []
        short = self.max_record_bytes // 4
        for i, message in enumerate(messages):
            what = f"message {i + 1} ({message.role}) {where}"
            text = sink.take(encode_message(message), what)
            if len(text) > short:  # only then is it measured
                self._fits(text, what)
            encoded.append(text)
        return encoded

    # --- blobs ------------------------------------------------------------------------

    def _store_blobs(self, sink: BlobSink, owner: str) -> None:
        """Write the call's new blobs (once per key) and ``owner``'s references to them."""
        if not sink.refs:
            return
        if self.dialect.blob_lock:
            self.execute(self.dialect.blob_lock)
        now = time.time()
        for blob in sink.blobs.values():
            self.execute(
                "INSERT INTO plait_blobs (key, media_type, size, data, created_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                (blob.key, blob.media_type, len(blob.data), blob.data, now),
            )
        for key in sorted(sink.refs - sink.blobs.keys()):
            if self.execute("SELECT 1 FROM plait_blobs WHERE key = ?", (key,)).fetchone() is None:
                raise StoreError(
                    f"{self.label}: a media part refers to blob {key!r}, which this store "
                    "does not hold; pass the bytes (data=) instead; nothing was written"
                )
        for key in sorted(sink.refs):
            self.execute(
                "INSERT INTO plait_blob_refs (owner, blob) VALUES (?, ?) "
                "ON CONFLICT (owner, blob) DO NOTHING",
                (owner, key),
            )

    def _drop_blobs(self, owner: str) -> None:
        """Forget ``owner``'s references; delete the blobs nothing else references."""
        if (
            self.execute("SELECT 1 FROM plait_blob_refs WHERE owner = ?", (owner,)).fetchone()
            is None
        ):
            return
        if self.dialect.blob_gc_lock:
            self.execute(self.dialect.blob_gc_lock)
        self.execute(
            "DELETE FROM plait_blobs WHERE key IN "
            "(SELECT blob FROM plait_blob_refs WHERE owner = ?) AND NOT EXISTS "
            "(SELECT 1 FROM plait_blob_refs r WHERE r.blob = plait_blobs.key AND r.owner <> ?)",
            (owner, owner),
        )
        self.execute("DELETE FROM plait_blob_refs WHERE owner = ?", (owner,))


class BlobReader:
    """Fetches blobs for the records read in one transaction (each key read once)."""

    def __init__(self, engine: SqlBase) -> None:
        self.engine = engine
        self.where = engine.label
        self._cache: dict[str, bytes] = {}

    def __call__(self, key: str) -> bytes:
        data = self._cache.get(key)
        if data is None:
            row = self.engine.execute("SELECT data FROM plait_blobs WHERE key = ?", (key,))
            found = row.fetchone()
            if found is None:
                raise StoreCorrupted(
                    f"{self.where}: a stored record refers to blob {key!r}, which is missing"
                )
            data = self._cache[key] = bytes(found[0])
        return data
