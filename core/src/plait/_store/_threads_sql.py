"""The thread half of ``SqlEngine``: threads, their messages, compare-and-set appends.

Messages are written with their media bytes taken out into blobs (owned by the thread)
and read back with the bytes put back, so a continued thread sends its images again.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from .._messages import Message
from ._blobs import put_back
from ._errors import StoreCorrupted, ThreadConflict
from ._records import (
    MESSAGE_VERSION,
    PAYLOAD_VERSION,
    ThreadHistory,
    ThreadRecord,
    decode_message,
    decode_payload,
)
from ._sql import BlobReader, SqlBase, thread_owner

__all__ = ["THREAD_COLUMNS", "ThreadOps"]

THREAD_COLUMNS = "id, head, metadata, created_at, updated_at"


class ThreadOps(SqlBase):
    """Threads and their messages (each public method is one transaction)."""

    def get_or_create_thread(self, thread_id: str, metadata: dict[str, Any] | None) -> ThreadRecord:
        with self.transaction(write=True):
            self._create_thread(thread_id, metadata)
            record = self._thread(thread_id)
        assert record is not None  # created above, in the same transaction
        return record

    def get_thread(self, thread_id: str) -> ThreadRecord | None:
        with self.transaction(write=False):
            return self._thread(thread_id)

    def list_threads(self, limit: int) -> list[ThreadRecord]:
        with self.transaction(write=False):
            rows = self.execute(
                f"SELECT {THREAD_COLUMNS} FROM plait_threads ORDER BY updated_at DESC, id LIMIT ?",
                (limit,),
            ).fetchall()
        return [self._thread_record(row) for row in rows]

    def delete_thread(self, thread_id: str) -> bool:
        """Delete the thread, its messages, runs and steps, and the blobs only it used."""
        with self.transaction(write=True):
            # Row locks in the order a step's writer takes them (its run, then the thread),
            # then the blob lock last, as writers do: no deadlock between the two.
            runs = "SELECT id FROM plait_runs WHERE thread_id = ?"
            self.execute(f"DELETE FROM plait_steps WHERE run_id IN ({runs})", (thread_id,))
            self.execute("DELETE FROM plait_runs WHERE thread_id = ?", (thread_id,))
            self.execute("DELETE FROM plait_messages WHERE thread_id = ?", (thread_id,))
            cur = self.execute("DELETE FROM plait_threads WHERE id = ?", (thread_id,))
            self._drop_blobs(thread_owner(thread_id))
            return bool(cur.rowcount)

    def _create_thread(self, thread_id: str, metadata: dict[str, Any] | None) -> None:
        now = time.time()
        self.execute(
            "INSERT INTO plait_threads (id, head, metadata, created_at, updated_at) "
            "VALUES (?, 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (thread_id, self._json(metadata or {}, f"metadata of thread {thread_id!r}"), now, now),
        )

    def _thread(self, thread_id: str) -> ThreadRecord | None:
        row = self.execute(
            f"SELECT {THREAD_COLUMNS} FROM plait_threads WHERE id = ?", (thread_id,)
        ).fetchone()
        return None if row is None else self._thread_record(row)

    def _thread_record(self, row: Sequence[Any]) -> ThreadRecord:
        where = f"{self.label}: thread {row[0]!r}"
        meta = decode_payload(row[2], PAYLOAD_VERSION, f"{where} metadata")
        return ThreadRecord(
            id=row[0], head=row[1], metadata=meta, created_at=row[3], updated_at=row[4]
        )

    # --- messages ---------------------------------------------------------------------

    def load_messages(self, thread_id: str) -> ThreadHistory:
        with self.transaction(write=False):
            thread = self._thread(thread_id)
            head = 0 if thread is None else thread.head
            messages = self._messages(thread_id, head, BlobReader(self))
        return ThreadHistory(thread_id=thread_id, head=head, messages=messages)

    def append_messages(
        self, thread_id: str, messages: Sequence[Message], expected_head: int, run_id: str | None
    ) -> int:
        sink = self.sink()
        encoded = self._messages_json(messages, f"to append to thread {thread_id!r}", sink)
        with self.transaction(write=True):
            head = self._cas_append(thread_id, encoded, expected_head, run_id)
            self._store_blobs(sink, thread_owner(thread_id))
            return head

    def _messages(self, thread_id: str, head: int, reader: BlobReader) -> list[Message]:
        rows = self.execute(
            "SELECT position, v, payload FROM plait_messages WHERE thread_id = ? ORDER BY position",
            (thread_id,),
        ).fetchall()
        if [row[0] for row in rows] != list(range(1, head + 1)):
            raise StoreCorrupted(
                f"{self.label}: thread {thread_id!r} has head {head} but {len(rows)} messages "
                "(positions are not 1..head)"
            )
        where = f"{self.label}: thread {thread_id!r} message"
        messages = []
        for position, version, raw in rows:
            reader.where = f"{where} {position}"
            messages.append(decode_message(put_back(raw, reader), version, reader.where))
        return messages

    def _cas_append(
        self, thread_id: str, encoded: Sequence[str], expected_head: int, run_id: str | None
    ) -> int:
        head = self._locked_head(thread_id)
        if head is None and expected_head == 0:
            self._create_thread(thread_id, None)
            head = self._locked_head(thread_id)
        if head != expected_head:
            raise ThreadConflict(thread_id, expected_head, head)
        for offset, payload in enumerate(encoded, start=1):
            self.execute(
                "INSERT INTO plait_messages (thread_id, position, run_id, v, payload) "
                "VALUES (?, ?, ?, ?, ?)",
                (thread_id, head + offset, run_id, MESSAGE_VERSION, payload),
            )
        new_head = head + len(encoded)
        self.execute(
            "UPDATE plait_threads SET head = ?, updated_at = ? WHERE id = ?",
            (new_head, time.time(), thread_id),
        )
        return new_head

    def _locked_head(self, thread_id: str) -> int | None:
        row = self.execute(
            f"SELECT head FROM plait_threads WHERE id = ?{self.dialect.for_update}", (thread_id,)
        ).fetchone()
        return None if row is None else int(row[0])
