"""The store's operations in SQL, shared by SQLite and PostgreSQL.

``SqlEngine`` is synchronous and runs on one DB-API connection in autocommit mode,
opening its own transactions: writes begin with ``Dialect.begin_write`` (SQLite's
``BEGIN IMMEDIATE`` takes the write lock up front, so a waiting writer queues on
``busy_timeout`` instead of failing when it upgrades a read lock) and lock the row they
compare-and-set with ``Dialect.for_update`` (PostgreSQL's ``FOR UPDATE``). The async
connection (``_connection.py``) calls it in a worker thread.

Every JSON record is encoded before its transaction begins and checked against
``max_record_bytes`` there (``RecordTooLarge``): a refused call writes nothing. Media
bytes in records are kept apart as content-addressed blobs (``_sql.py``). Threads and
messages are in ``_threads_sql.py``; runs and steps here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from .._messages import Message
from ._blobs import holds_blobs, put_back_value
from ._errors import DuplicateRun, StepConflict, StoreCorrupted, StoreError
from ._records import (
    PAYLOAD_VERSION,
    STEP_KINDS,
    NewStep,
    RunRecord,
    StepRecord,
    StoredRun,
    StoredRunStatus,
    ThreadExport,
    decode_payload,
)
from ._sql import BlobReader, Dialect, run_owner, thread_owner
from ._threads_sql import ThreadOps

__all__ = ["Dialect", "SqlEngine"]

_RUN_COLUMNS = (
    "id, thread_id, parent_run_id, agent, status, options, error, started_at, ended_at, updated_at"
)


class SqlEngine(ThreadOps):
    """All store operations on one DB-API connection; each public method is one transaction.

    ``max_record_bytes`` caps each JSON record written (a message, a step's payload, a
    run's options, a thread's metadata): larger ones raise ``RecordTooLarge``.
    ``max_blob_bytes`` caps each media part's bytes (``BlobTooLarge``).
    """

    def export_thread(self, thread_id: str) -> ThreadExport | None:
        """The thread, its messages and runs; media hold their bytes inline (base64)."""
        with self.transaction(write=False):
            thread = self._thread(thread_id)
            if thread is None:
                return None
            reader = BlobReader(self)
            messages = self._messages(thread_id, thread.head, reader)
            rows = self.execute(
                f"SELECT {_RUN_COLUMNS} FROM plait_runs WHERE thread_id = ? "
                "ORDER BY started_at, id",
                (thread_id,),
            ).fetchall()
            runs = [
                StoredRun(
                    run=(run := self._run_record(r, reader)), steps=self._steps(run.id, reader)
                )
                for r in rows
            ]
        return ThreadExport(thread=thread, messages=messages, runs=runs)

    # --- runs -------------------------------------------------------------------------

    def create_run(self, run_id: str, fields: dict[str, Any]) -> RunRecord:
        sink = self.sink()
        options = self._json(fields["options"] or {}, f"options of run {run_id!r}", sink)
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
            thread_id = fields["thread_id"]
            self._store_blobs(
                sink, run_owner(run_id) if thread_id is None else thread_owner(thread_id)
            )
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
            reader = BlobReader(self)
            run = self._run(run_id, reader=reader)
            return None if run is None else StoredRun(run=run, steps=self._steps(run_id, reader))

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

    def _run(
        self, run_id: str, *, lock: bool = False, reader: BlobReader | None = None
    ) -> RunRecord | None:
        suffix = self.dialect.for_update if lock else ""
        row = self.execute(
            f"SELECT {_RUN_COLUMNS} FROM plait_runs WHERE id = ?{suffix}", (run_id,)
        ).fetchone()
        return None if row is None else self._run_record(row, reader)

    def _require_run(self, run_id: str, *, lock: bool = False) -> RunRecord:
        run = self._run(run_id, lock=lock)
        if run is None:
            raise StoreError(f"{self.label}: no run with id {run_id!r}")
        return run

    def _run_record(self, row: Sequence[Any], reader: BlobReader | None = None) -> RunRecord:
        """The run of ``row``; its options' media get their bytes back when ``reader`` is
        given (``load_run``, export), else stay blob references (listings stay light)."""
        where = f"{self.label}: run {row[0]!r} options"
        options = decode_payload(row[5], PAYLOAD_VERSION, where)
        if reader is not None and holds_blobs(row[5]):
            reader.where = where
            put_back_value(options, reader)
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
        sink = self.sink()
        payload = self._json(step.payload, what, sink)
        encoded = self._messages_json(messages, f"of a {step.kind} step of run {run_id!r}", sink)
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
            owner = run_owner(run_id) if run.thread_id is None else thread_owner(run.thread_id)
            self._store_blobs(sink, owner)
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

    def _steps(self, run_id: str, reader: BlobReader) -> list[StepRecord]:
        rows = self.execute(
            "SELECT seq, kind, idempotency_key, v, payload, created_at FROM plait_steps "
            "WHERE run_id = ? ORDER BY seq",
            (run_id,),
        ).fetchall()
        return [self._step_record(run_id, row, reader) for row in rows]

    def _step_record(self, run_id: str, row: Sequence[Any], reader: BlobReader) -> StepRecord:
        where = f"{self.label}: run {run_id!r} step {row[0]}"
        if row[1] not in STEP_KINDS:
            raise StoreCorrupted(f"{where}: unknown step kind {row[1]!r}")
        payload = decode_payload(row[4], row[3], where)
        if holds_blobs(row[4]):
            reader.where = where
            put_back_value(payload, reader)
        return StepRecord(
            run_id=run_id, seq=row[0], kind=row[1], idempotency_key=row[2], v=row[3],
            payload=payload, created_at=row[5],
        )  # fmt: skip


Opener = Callable[[], SqlEngine]
"""Connects and returns a ready engine (called in a worker thread, on first use)."""
