"""Thread and run stores: the connection contract, its records and errors, and SQLite.

Private: store plugins import these names from ``plait.store``, the store kit; backends
(the built-in SQLite store, ``plait-postgres``) build on ``SqlEngine``, ``Dialect`` and
``SqlConnection``.
"""

from __future__ import annotations

from ._connection import SqlConnection
from ._contract import StoreConnection
from ._engine import Dialect, SqlEngine
from ._errors import (
    BlobTooLarge,
    DuplicateRun,
    RecordTooLarge,
    SchemaTooNew,
    StepConflict,
    StoreBusy,
    StoreCorrupted,
    StoreError,
    StoreFull,
    ThreadConflict,
)
from ._migrations import SCHEMA_VERSION, migrate, schema_v1, schema_v2
from ._open import DEFAULT_STORE_URL, open_store
from ._records import (
    DEFAULT_MAX_BLOB_BYTES,
    DEFAULT_MAX_RECORD_BYTES,
    PAYLOAD_VERSION,
    NewStep,
    RunRecord,
    StepRecord,
    StoredRun,
    StoredRunStatus,
    StoredStepKind,
    ThreadExport,
    ThreadHistory,
    ThreadRecord,
)
from ._url import default_sqlite_path, parse_max_blob_bytes, parse_max_record_bytes

__all__ = [
    "BlobTooLarge",
    "DEFAULT_MAX_BLOB_BYTES",
    "DEFAULT_MAX_RECORD_BYTES",
    "DEFAULT_STORE_URL",
    "Dialect",
    "DuplicateRun",
    "NewStep",
    "PAYLOAD_VERSION",
    "RecordTooLarge",
    "RunRecord",
    "SCHEMA_VERSION",
    "SchemaTooNew",
    "SqlConnection",
    "SqlEngine",
    "StepConflict",
    "StepRecord",
    "StoreBusy",
    "StoreConnection",
    "StoreCorrupted",
    "StoreError",
    "StoreFull",
    "StoredRun",
    "StoredRunStatus",
    "StoredStepKind",
    "ThreadConflict",
    "ThreadExport",
    "ThreadHistory",
    "ThreadRecord",
    "default_sqlite_path",
    "migrate",
    "open_store",
    "parse_max_blob_bytes",
    "parse_max_record_bytes",
    "schema_v1",
    "schema_v2",
]
