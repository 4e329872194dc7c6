"""The store's operations in SQL, shared by SQLite and PostgreSQL.

``SqlEngine`` is synchronous and runs on one DB-API connection in autocommit mode,
opening its own transactions: writes begin with ``Dialect.begin_write`` (SQLite's
``BEGIN IMMEDIATE`` takes the write lock up front, so a waiting writer queues on
``busy_timeout`` instead of failing when it upgrades a read lock) and lock the row they
compare-and-set with ``Dialect.for_update`` (PostgreSQL's ``FOR UPDATE``). The async
connection (``_connection.py``) calls it in a worker thread.

Every JSON record is encoded before its transaction begins and checked against
``max_record_bytes`` there (``RecordTooLarge``): a refused call writes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from .._messages import Message
from ._errors import (
    DuplicateRun,
    RecordTooLarge,
    StepConflict,
    StoreCorrupted,
    StoreError,
    ThreadConflict,
)
from ._records import (
    DEFAULT_MAX_RECORD_BYTES,
    MESSAGE_VERSION,
    PAYLOAD_VERSION,
    STEP_KINDS,
    NewStep,
    RunRecord,
    StepRecord,
    StoredRun,
    StoredRunStatus,
    ThreadExport,
    ThreadHistory,
    ThreadRecord,
    decode_message,
    decode_payload,
    encode_json,
    encode_message,
)

__all__ = ["Dialect", "SqlEngine"]

_RUN_COLUMNS = (
    "id, thread_id, parent_run_id, agent, status, options, error, started_at, ended_at, updated_at"
)
_THREAD_COLUMNS = "id, head, metadata, created_at, updated_at"


@dataclass(frozen=True, slots=True)
class Dialect:
    """What differs between databases: placeholders, transaction starts, row locks."""

    name: str
    placeholder: str
    begin_write: str
    begin_read: str
    for_update: str
    integrity_errors: tuple[type[BaseException], ...]
    migrations: Sequence[Sequence[str]]
    migration_lock: str | None = None


class SqlEngine:
    """All store operations on one DB-API connection; each public method is one transaction.

    ``max_record_bytes`` caps each JSON record written (a message, a step's payload, a
    run's options, a thread's metadata): larger ones raise ``RecordTooLarge``.
    """

    def __init__(
        self,
        conn: Any,
        dialect: Dialect,
        label: str,
        *,
        max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES,
    ) -> None:
        self.conn = conn
        self.dialect = dialect
        self.label = label
        self.max_record_bytes = max_record_bytes

    # --- plumbing ---------------------------------------------------------------------

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

    def _json(self, value: Any, what: str) -> str:
        return self._fits(encode_json(value, what), what)

    def _messages_json(self, messages: Sequence[Message], where: str) -> list[str]:
        encoded = [encode_message(m) for m in messages]
        short = self.max_record_bytes // 4
        for i, text in enumerate(encoded):
            if len(text) > short:  # only then is the description built
                self._fits(text, f"message {i + 1} ({messages[i].role}) {where}")
        return encoded

    def _rollback(self) -> None:
        # The original error matters; the transaction is gone either way.
        with suppress(Exception):
            self.conn.execute("ROLLBACK")

    # --- threads ----------------------------------------------------------------------

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
                f"SELECT {_THREAD_COLUMNS} FROM plait_threads ORDER BY updated_at DESC, id LIMIT ?",
                (limit,),
            ).fetchall()
        return [self._thread_record(row) for row in rows]

    def delete_thread(self, thread_id: str) -> bool:
        with self.transaction(write=True):
            runs = "SELECT id FROM plait_runs WHERE thread_id = ?"
            self.execute(f"DELETE FROM plait_steps WHERE run_id IN ({runs})", (thread_id,))
            self.execute("DELETE FROM plait_runs WHERE thread_id = ?", (thread_id,))
            self.execute("DELETE FROM plait_messages WHERE thread_id = ?", (thread_id,))
            cur = self.execute("DELETE FROM plait_threads WHERE id = ?", (thread_id,))
            return bool(cur.rowcount)

    def export_thread(self, thread_id: str) -> ThreadExport | None:
        with self.transaction(write=False):
            thread = self._thread(thread_id)
            if thread is None:
                return None
            messages = self._messages(thread_id, thread.head)
            rows = self.execute(
                f"SELECT {_RUN_COLUMNS} FROM plait_runs WHERE thread_id = ? "
                "ORDER BY started_at, id",
                (thread_id,),
            ).fetchall()
            runs = [
                StoredRun(run=(run := self._run_record(r)), steps=self._steps(run.id)) for r in rows
            ]
        return ThreadExport(thread=thread, messages=messages, runs=runs)

    def _create_thread(self, thread_id: str, metadata: dict[str, Any] | None) -> None:
        now = time.time()
        self.execute(
            "INSERT INTO plait_threads (id, head, metadata, created_at, updated_at) "
            "VALUES (?, 0, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
            (thread_id, self._json(metadata or {}, f"metadata of thread {thread_id!r}"), now, now),
        )

    def _thread(self, thread_id: str) -> ThreadRecord | None:
        row = self.execute(
            f"SELECT {_THREAD_COLUMNS} FROM plait_threads WHERE id = ?", (thread_id,)
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
            messages = self._messages(thread_id, head)
        return ThreadHistory(thread_id=thread_id, head=head, messages=messages)

    def append_messages(
        self, thread_id: str, messages: Sequence[Message], expected_head: int, run_id: str | None
    ) -> int:
        encoded = self._messages_json(messages, f"to append to thread {thread_id!r}")
        with self.transaction(write=True):
            return self._cas_append(thread_id, encoded, expected_head, run_id)

    def _messages(self, thread_id: str, head: int) -> list[Message]:
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
        return [decode_message(row[2], row[1], f"{where} {row[0]}") for row in rows]

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

    # --- runs -------------------------------------------------------------------------

    def create_run(self, run_id: str, fields: dict[str, Any]) -> RunRecord:
        options = self._json(fields["options"] or {}, f"options of run {run_id!r}")
        now = time.time()
        with self.transaction(write=True):
            if fields["thread_id"] is not None:
                self._create_thread(fields["thread_id"], None)
            try:
                self.execute(
                    f"INSERT INTO plait_runs ({_RUN_COLUMNS}) "
                    "VALUES (?, ?, ?, ?, 'running', ?, NULL, ?, NULL, ?)",
                    (
                        run_id,
                        fields["thread_id"],
                        fields["parent_run_id"],
                        fields["agent"],
                        options,
                        now,
                        now,
                    ),
                )
            except self.dialect.integrity_errors:
                raise DuplicateRun(
                    f"{self.label}: a run with id {run_id!r} already exists"
                ) from None
            return self._require_run(run_id)

    def update_run(self, run_id: str, status: StoredRunStatus, error: str | None) -> RunRecord:
        now = time.time()
        ended = None if status == "running" else now
        with self.transaction(write=True):
            cur = self.execute(
                "UPDATE plait_runs SET status = ?, error = ?, ended_at = ?, updated_at = ? "
                "WHERE id = ?",
                (status, error, ended, now, run_id),
            )
            if not cur.rowcount:
                raise StoreError(f"{self.label}: no run with id {run_id!r}")
            return self._require_run(run_id)

    def load_run(self, run_id: str) -> StoredRun | None:
        with self.transaction(write=False):
            run = self._run(run_id)
            return None if run is None else StoredRun(run=run, steps=self._steps(run_id))

    def list_runs(self, thread_id: str | None, status: str | None, limit: int) -> list[RunRecord]:
        where, params = [], []
        for column, value in (("thread_id", thread_id), ("status", status)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        with self.transaction(write=False):
            rows = self.execute(
                f"SELECT {_RUN_COLUMNS} FROM plait_runs{clause} "
                "ORDER BY started_at DESC, id LIMIT ?",
                (*params, limit),
            ).fetchall()
        return [self._run_record(row) for row in rows]

    def _run(self, run_id: str, *, lock: bool = False) -> RunRecord | None:
        suffix = self.dialect.for_update if lock else ""
        row = self.execute(
            f"SELECT {_RUN_COLUMNS} FROM plait_runs WHERE id = ?{suffix}", (run_id,)
        ).fetchone()
        return None if row is None else self._run_record(row)

    def _require_run(self, run_id: str, *, lock: bool = False) -> RunRecord:
        run = self._run(run_id, lock=lock)
        if run is None:
            raise StoreError(f"{self.label}: no run with id {run_id!r}")
        return run

    def _run_record(self, row: Sequence[Any]) -> RunRecord:
        options = decode_payload(row[5], PAYLOAD_VERSION, f"{self.label}: run {row[0]!r} options")
        return RunRecord(
            id=row[0], thread_id=row[1], parent_run_id=row[2], agent=row[3], status=row[4],
            options=options, error=row[6], started_at=row[7], ended_at=row[8], updated_at=row[9],
        )  # fmt: skip

    # --- steps ------------------------------------------------------------------------

    def append_step(
        self,
        run_id: str,
        step: NewStep,
        seq: int | None,
        messages: Sequence[Message],
        expected_head: int | None,
    ) -> StepRecord:
        what = f"the payload of a {step.kind} step of run {run_id!r} (with its messages)"
        payload = self._json(step.payload, what)
        encoded = self._messages_json(messages, f"of a {step.kind} step of run {run_id!r}")
        now = time.time()
        with self.transaction(write=True):
            run = self._require_run(run_id, lock=True)
            if run.status != "running":
                raise StepConflict(
                    f"{self.label}: run {run_id!r} ended with status {run.status!r}; it takes "
                    "no more steps (set its status back to 'running' to resume it)"
                )
            next_seq = self._next_seq(run_id)
            if seq is not None and seq != next_seq:
                raise StepConflict(
                    f"{self.label}: run {run_id!r}: step {seq} cannot be recorded; "
                    f"the next is {next_seq}"
                )
            if step.idempotency_key is not None:
                self._check_key(run_id, step)
            if encoded:
                self._append_for_run(run, encoded, expected_head)
            self.execute(
                "INSERT INTO plait_steps "
                "(run_id, seq, kind, idempotency_key, v, payload, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (run_id, next_seq, step.kind, step.idempotency_key, PAYLOAD_VERSION, payload, now),
            )
            self.execute("UPDATE plait_runs SET updated_at = ? WHERE id = ?", (now, run_id))
        return StepRecord(
            run_id=run_id, seq=next_seq, kind=step.kind, payload=step.payload,
            idempotency_key=step.idempotency_key, created_at=now,
        )  # fmt: skip

    def _next_seq(self, run_id: str) -> int:
        row = self.execute(
            "SELECT COALESCE(MAX(seq), 0) FROM plait_steps WHERE run_id = ?", (run_id,)
        ).fetchone()
        return int(row[0]) + 1

    def _check_key(self, run_id: str, step: NewStep) -> None:
        row = self.execute(
            "SELECT seq FROM plait_steps WHERE run_id = ? AND kind = ? AND idempotency_key = ?",
            (run_id, step.kind, step.idempotency_key),
        ).fetchone()
        if row is not None:
            raise StepConflict(
                f"{self.label}: run {run_id!r}: a {step.kind} step with idempotency key "
                f"{step.idempotency_key!r} is already recorded (step {row[0]})"
            )

    def _append_for_run(
        self, run: RunRecord, encoded: Sequence[str], expected_head: int | None
    ) -> None:
        if run.thread_id is None or expected_head is None:
            raise StoreError(
                f"{self.label}: run {run.id!r}: messages can be appended with a step only "
                "for a run of a thread, with expected_head"
            )
        self._cas_append(run.thread_id, encoded, expected_head, run.id)

    def _steps(self, run_id: str) -> list[StepRecord]:
        rows = self.execute(
            "SELECT seq, kind, idempotency_key, v, payload, created_at FROM plait_steps "
            "WHERE run_id = ? ORDER BY seq",
            (run_id,),
        ).fetchall()
        return [self._step_record(run_id, row) for row in rows]

    def _step_record(self, run_id: str, row: Sequence[Any]) -> StepRecord:
        where = f"{self.label}: run {run_id!r} step {row[0]}"
        if row[1] not in STEP_KINDS:
            raise StoreCorrupted(f"{where}: unknown step kind {row[1]!r}")
        payload = decode_payload(row[4], row[3], where)
        return StepRecord(
            run_id=run_id, seq=row[0], kind=row[1], idempotency_key=row[2], v=row[3],
            payload=payload, created_at=row[5],
        )  # fmt: skip


Opener = Callable[[], SqlEngine]
"""Connects and returns a ready engine (called in a worker thread, on first use)."""
