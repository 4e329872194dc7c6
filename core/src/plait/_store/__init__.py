"""Thread and run stores: the connection contract, its records and errors, and SQLite.

The public names are re-exported from ``plait``; backends (the built-in SQLite store,
``plait-postgres``) build on ``SqlEngine``, ``Dialect`` and ``SqlConnection``.
"""

from __future__ import annotations

from ._connection import SqlConnection
from ._contract import StoreConnection
from ._engine import Dialect, SqlEngine
from ._errors import (
    DuplicateRun,
    SchemaTooNew,
    StepConflict,
    StoreBusy,
    StoreCorrupted,
    StoreError,
    StoreFull,
    ThreadConflict,
)
from ._migrations import SCHEMA_VERSION, migrate, schema_v1
from ._open import DEFAULT_STORE_URL, open_store
from ._records import (
    PAYLOAD_VERSION,
    RunRecord,
    RunState,
    RunStatus,
    Step,
    StepKind,
    StepRecord,
    ThreadExport,
    ThreadHistory,
    ThreadRecord,
)
from ._url import default_sqlite_path

__all__ = [
    "DEFAULT_STORE_URL",
    "PAYLOAD_VERSION",
    "SCHEMA_VERSION",
    "Dialect",
    "DuplicateRun",
    "RunRecord",
    "RunState",
    "RunStatus",
    "SchemaTooNew",
    "SqlConnection",
    "SqlEngine",
    "Step",
    "StepConflict",
    "StepKind",
    "StepRecord",
    "StoreBusy",
    "StoreConnection",
    "StoreCorrupted",
    "StoreError",
    "StoreFull",
    "ThreadConflict",
    "ThreadExport",
    "ThreadHistory",
    "ThreadRecord",
    "default_sqlite_path",
    "migrate",
    "open_store",
    "schema_v1",
]
