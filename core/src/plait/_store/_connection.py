"""The async ``StoreConnection`` over a synchronous ``SqlEngine``, for any backend.

Each call runs in a worker thread (``anyio.to_thread``), one at a time per connection
(a capacity limiter of one: a DB-API connection is not for concurrent use). The thread
is not abandoned when the caller is cancelled: cancellation takes effect after the
current transaction has committed or rolled back, so nothing is left half-written.
Driver errors are mapped into ``StoreError`` by the backend's ``map_error``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from functools import partial
from typing import Any, Self, TypeVar

import anyio

from .._messages import Message
from ._engine import SqlEngine
from ._errors import StoreError
from ._records import (
    NewStep,
    RunRecord,
    StepRecord,
    StoredRun,
    StoredRunStatus,
    ThreadExport,
    ThreadHistory,
    ThreadRecord,
)

__all__ = ["SqlConnection"]

T = TypeVar("T")
ErrorMap = Callable[[BaseException], StoreError | None]


class SqlConnection:
    """A ``StoreConnection``: connects lazily, migrates on first use, maps driver errors."""

    def __init__(
        self, url: str, connect: Callable[[], SqlEngine], map_error: ErrorMap, *, label: str
    ) -> None:
        self.url = url
        self._connect = connect
        self._map_error = map_error
        self._label = label
        self._engine: SqlEngine | None = None
        self._closed = False
        self._limiter = anyio.CapacityLimiter(1)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.url}>"

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def _call(self, op: Callable[[SqlEngine], T]) -> T:
        if self._closed:
            raise StoreError(f"{self._label}: the connection is closed")
        return await anyio.to_thread.run_sync(self._run, op, limiter=self._limiter)

    def _run(self, op: Callable[[SqlEngine], T]) -> T:
        if self._closed:  # closed while this call waited for the limiter
            raise StoreError(f"{self._label}: the connection is closed")
        try:
            if self._engine is None:
                self._engine = self._connect()
            return op(self._engine)
        except StoreError:
            raise
        except Exception as exc:
            mapped = self._map_error(exc)
            if mapped is None:
                raise
            self._drop_if_broken()
            raise mapped from exc

    def _drop_if_broken(self) -> None:
        # A lost server connection is not retried here (a commit's outcome is unknown);
        # the next call connects afresh.
        conn = None if self._engine is None else self._engine.conn
        if conn is not None and (getattr(conn, "broken", False) or getattr(conn, "closed", False)):
            self._engine = None
            with suppress(Exception):
                conn.close()

    # --- threads ----------------------------------------------------------------------

    async def get_or_create_thread(
        self, thread_id: str, *, metadata: dict[str, Any] | None = None
    ) -> ThreadRecord:
        return await self._call(lambda e: e.get_or_create_thread(thread_id, metadata))

    async def get_thread(self, thread_id: str) -> ThreadRecord | None:
        return await self._call(lambda e: e.get_thread(thread_id))

    async def list_threads(self, *, limit: int = 100) -> list[ThreadRecord]:
        return await self._call(lambda e: e.list_threads(limit))

    async def delete_thread(self, thread_id: str) -> bool:
        return await self._call(lambda e: e.delete_thread(thread_id))

    async def export_thread(self, thread_id: str) -> ThreadExport | None:
        return await self._call(lambda e: e.export_thread(thread_id))

    async def load_messages(self, thread_id: str) -> ThreadHistory:
        return await self._call(lambda e: e.load_messages(thread_id))

    async def append_messages(
        self,
        thread_id: str,
        messages: Sequence[Message],
        *,
        expected_head: int,
        run_id: str | None = None,
    ) -> int:
        msgs = list(messages)
        return await self._call(lambda e: e.append_messages(thread_id, msgs, expected_head, run_id))

    # --- runs and steps ---------------------------------------------------------------

    async def create_run(
        self,
        run_id: str,
        *,
        thread_id: str | None = None,
        agent: str | None = None,
        parent_run_id: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> RunRecord:
        fields = {"thread_id": thread_id, "agent": agent, "parent_run_id": parent_run_id,
                  "options": options}  # fmt: skip
        return await self._call(lambda e: e.create_run(run_id, fields))

    async def update_run(
        self, run_id: str, *, status: StoredRunStatus, error: str | None = None
    ) -> RunRecord:
        return await self._call(lambda e: e.update_run(run_id, status, error))

    async def append_step(
        self,
        run_id: str,
        step: NewStep,
        *,
        seq: int | None = None,
        messages: Sequence[Message] = (),
        expected_head: int | None = None,
    ) -> StepRecord:
        msgs = list(messages)
        return await self._call(lambda e: e.append_step(run_id, step, seq, msgs, expected_head))

    async def load_run(self, run_id: str) -> StoredRun | None:
        return await self._call(lambda e: e.load_run(run_id))

    async def list_runs(
        self,
        *,
        thread_id: str | None = None,
        status: StoredRunStatus | None = None,
        limit: int = 100,
    ) -> list[RunRecord]:
        return await self._call(lambda e: e.list_runs(thread_id, status, limit))

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        engine, self._engine = self._engine, None
        if engine is not None:
            await anyio.to_thread.run_sync(partial(_close, engine), limiter=self._limiter)


def _close(engine: SqlEngine) -> None:
    engine.conn.close()
