"""The store's errors: a branch of plait's error tree.

Driver errors (``sqlite3``, psycopg) are *mapped* into this branch so a caller never has
to know which database sits behind a URL::

    PlaitError
    └── StoreError               a store operation failed (names the store and what failed)
        ├── ThreadConflict       compare-and-set on a thread's head lost: another run appended
        ├── StepConflict         a step's sequence number or idempotency key is already taken
        ├── DuplicateRun         a run with this id is already recorded
        ├── StoreBusy            a lock was not granted within the configured wait
        ├── StoreFull            the disk (or the file-size limit) is full; nothing was written
        ├── RecordTooLarge       a message, step or run record is over ``max_record_bytes``
        │   └── BlobTooLarge     a media part (image, document, audio) is over ``max_blob_bytes``
        ├── StoreCorrupted       a stored row cannot be read back (names the row)
        └── SchemaTooNew         the store was written by a newer plait; upgrade plait
"""

from __future__ import annotations

from typing import Any

from .._errors import PlaitError

__all__ = [
    "BlobTooLarge",
    "DuplicateRun",
    "RecordTooLarge",
    "SchemaTooNew",
    "StepConflict",
    "StoreBusy",
    "StoreCorrupted",
    "StoreError",
    "StoreFull",
    "ThreadConflict",
]


class StoreError(PlaitError):
    """A store operation failed. The message names the store and the operation."""


class ThreadConflict(StoreError):
    """Another writer moved the thread's head since it was read: the append was refused.

    ``expected`` is the head the caller read, ``actual`` the head found in the store.
    Reload the history (or give up): two runs never interleave their messages.
    """

    def __init__(self, thread_id: str, expected: int, actual: int | None) -> None:
        self.thread_id = thread_id
        self.expected = expected
        self.actual = actual
        found = "the thread does not exist" if actual is None else f"its head is {actual}"
        super().__init__(
            f"thread {thread_id!r} changed under this run: expected head {expected}, but "
            f"{found} (another run appended to it); reload the thread and retry"
        )

    def __reduce__(self) -> Any:
        return (type(self), (self.thread_id, self.expected, self.actual))


class StepConflict(StoreError):
    """A step with this sequence number or idempotency key is already recorded for the run."""


class DuplicateRun(StoreError):
    """A run with this id is already recorded (resume it instead of creating it)."""


class StoreBusy(StoreError):
    """A lock was not granted within the configured wait (``busy_timeout``)."""


class StoreFull(StoreError):
    """The disk or the file-size limit is full: nothing of the call was written."""


class RecordTooLarge(StoreError):
    """A record to write is larger than the store's ``max_record_bytes``: nothing was written.

    ``size`` is the record's size in bytes (UTF-8 JSON), ``limit`` the store's cap. The
    cap bounds every JSON record a store writes — a message, a step's payload (which
    carries the step's messages), a run's options — so one runaway message cannot make
    a row the database (or a later ``load_run``) chokes on. Raise it in the store URL.
    """

    def __init__(self, message: str, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit

    def __reduce__(self) -> Any:
        return (type(self), (str(self), self.size, self.limit))


class BlobTooLarge(RecordTooLarge):
    """A media part's bytes are larger than the store's ``max_blob_bytes``: nothing written.

    ``size`` is the part's size in bytes, ``limit`` the store's cap. A subclass of
    ``RecordTooLarge``: a run refused it ends ``failed`` the same way. Raise the cap in
    the store URL, or pass the media by ``url=`` so the provider fetches it.
    """


class StoreCorrupted(StoreError):
    """A stored row cannot be decoded (invalid JSON, unknown payload version); names the row."""


class SchemaTooNew(StoreError):
    """The store was written by a newer schema version than this plait understands."""
