"""The connection contract every store returns from ``Store.open(url)``.

A ``StoreConnection`` is what the run loop, ``plait threads`` and ``plait runs`` talk
to. Its duties, whatever database sits behind it:

* **Nothing at open.** ``Store.open`` does no I/O; the first awaited method connects and
  runs pending migrations (never at import).
* **One transaction per call.** Every write method is atomic: after a crash the store
  holds the whole call or none of it.
* **Compare-and-set on a thread's head.** Appending messages names the head the caller
  read; if another writer moved it, ``ThreadConflict`` is raised and nothing is written.
  Two runs never interleave their messages in one thread.
* **Steps in order.** ``append_step`` numbers a run's steps 1, 2, 3... without gaps; a
  given ``seq`` that is already taken, or a second step of one kind under one
  idempotency key, raises ``StepConflict``.
* **Media kept apart (optional).** A message or payload may hold media parts (JSON
  objects of ``type`` image/document/audio with base64 ``data``). A store built on
  ``SqlEngine`` keeps their bytes once, as content-addressed blobs, and gives them back
  on every read; another store may keep them inline — either way a read returns the
  bytes. A store that keeps blobs refuses a part over its ``max_blob_bytes``
  (``BlobTooLarge``) and deletes a thread's blobs with it unless something else uses them.
* **Mapped errors.** Driver errors become ``StoreError`` subclasses (busy, full,
  corrupted, schema too new); cancellation waits for the current statement to finish so
  no half-written state is left behind.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, Self, runtime_checkable

from .._messages import Message
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

__all__ = ["StoreConnection"]


@runtime_checkable
class StoreConnection(Protocol):
    """An open store: threads, their messages, runs and steps."""

    url: str
    """The URL this connection was opened with (password removed)."""

    # --- threads ----------------------------------------------------------------------

    async def get_or_create_thread(
        self, thread_id: str, *, metadata: dict[str, Any] | None = None
    ) -> ThreadRecord:
        """Get the thread called ``thread_id``, creating it (with ``metadata``) if it is new."""
        ...

    async def get_thread(self, thread_id: str) -> ThreadRecord | None:
        """The thread, or ``None`` when there is none of that name."""
        ...

    async def list_threads(self, *, limit: int = 100) -> list[ThreadRecord]:
        """Threads, most recently updated first."""
        ...

    async def delete_thread(self, thread_id: str) -> bool:
        """Delete the thread, its messages, runs and steps; ``False`` if it did not exist."""
        ...

    async def export_thread(self, thread_id: str) -> ThreadExport | None:
        """The thread with its messages and every run with its steps, or ``None``."""
        ...

    # --- thread history ---------------------------------------------------------------

    async def load_messages(self, thread_id: str) -> ThreadHistory:
        """The thread's messages in order and its head (an unknown thread is empty, head 0)."""
        ...

    async def append_messages(
        self,
        thread_id: str,
        messages: Sequence[Message],
        *,
        expected_head: int,
        run_id: str | None = None,
    ) -> int:
        """Append ``messages`` if the head is still ``expected_head``; return the new head.

        Raises ``ThreadConflict`` (nothing written) when another writer moved the head.
        The thread is created if it does not exist and ``expected_head`` is 0.
        """
        ...

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
        """Record a new run with status ``running``; ``DuplicateRun`` if the id is taken."""
        ...

    async def update_run(
        self, run_id: str, *, status: StoredRunStatus, error: str | None = None
    ) -> RunRecord:
        """Set the run's status (and error); a status other than ``running`` ends it."""
        ...

    async def append_step(
        self,
        run_id: str,
        step: NewStep,
        *,
        seq: int | None = None,
        messages: Sequence[Message] = (),
        expected_head: int | None = None,
    ) -> StepRecord:
        """Record one completed step, in one transaction, and return it with its ``seq``.

        Only a ``running`` run takes steps (else ``StepConflict``): record the
        ``completion`` step before ending the run with ``update_run``.
        ``seq`` (optional) must be the next number, else ``StepConflict``. ``messages`` are
        appended to the run's thread in the same transaction, under compare-and-set on
        ``expected_head`` (``ThreadConflict`` writes nothing, not even the step).
        """
        ...

    async def load_run(self, run_id: str) -> StoredRun | None:
        """The run and its steps in order, or ``None`` when there is no such run."""
        ...

    async def list_runs(
        self,
        *,
        thread_id: str | None = None,
        status: StoredRunStatus | None = None,
        limit: int = 100,
    ) -> list[RunRecord]:
        """Runs, most recently started first, optionally of one thread or status."""
        ...

    async def aclose(self) -> None:
        """Close the connection; idempotent."""
        ...

    async def __aenter__(self) -> Self:
        """``async with store.open(url) as conn:`` closes it at the end."""
        ...

    async def __aexit__(self, *exc_info: object) -> None: ...
