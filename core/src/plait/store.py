"""The kit for store plugins: the store contract, its records, the SQL engine.

A store plugin registers a ``Store`` (``plait_register_stores``) whose ``connect()``
returns a ``StoreConnection``. SQL backends build one from ``SqlEngine`` with their
``Dialect`` and run ``migrate`` with ``schema_v1`` and ``schema_v2`` (media blobs);
``NewStep`` is a step to record, ``StepRecord`` a recorded one, ``StoredRun`` a run with
its steps. ``SQLiteStore`` is the built-in store, a reference implementation. See
docs/threads.md.

Names are loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._lazy import lazy_exports

if TYPE_CHECKING:  # what type checkers see; tests/test_public_api.py checks it against _EXPORTS
    from ._config import PlaitConfig as PlaitConfig
    from ._contracts import Store as Store
    from ._markers import hookimpl as hookimpl
    from ._store import DEFAULT_MAX_BLOB_BYTES as DEFAULT_MAX_BLOB_BYTES
    from ._store import DEFAULT_MAX_RECORD_BYTES as DEFAULT_MAX_RECORD_BYTES
    from ._store import DEFAULT_STORE_URL as DEFAULT_STORE_URL
    from ._store import PAYLOAD_VERSION as PAYLOAD_VERSION
    from ._store import SCHEMA_VERSION as SCHEMA_VERSION
    from ._store import BlobTooLarge as BlobTooLarge
    from ._store import Dialect as Dialect
    from ._store import DuplicateRun as DuplicateRun
    from ._store import NewStep as NewStep
    from ._store import RecordTooLarge as RecordTooLarge
    from ._store import RunRecord as RunRecord
    from ._store import SchemaTooNew as SchemaTooNew
    from ._store import SqlConnection as SqlConnection
    from ._store import SqlEngine as SqlEngine
    from ._store import StepConflict as StepConflict
    from ._store import StepRecord as StepRecord
    from ._store import StoreBusy as StoreBusy
    from ._store import StoreConnection as StoreConnection
    from ._store import StoreCorrupted as StoreCorrupted
    from ._store import StoredRun as StoredRun
    from ._store import StoredRunStatus as StoredRunStatus
    from ._store import StoredStepKind as StoredStepKind
    from ._store import StoreError as StoreError
    from ._store import StoreFull as StoreFull
    from ._store import ThreadConflict as ThreadConflict
    from ._store import ThreadExport as ThreadExport
    from ._store import ThreadHistory as ThreadHistory
    from ._store import ThreadRecord as ThreadRecord
    from ._store import default_sqlite_path as default_sqlite_path
    from ._store import migrate as migrate
    from ._store import open_store as open_store
    from ._store import parse_max_blob_bytes as parse_max_blob_bytes
    from ._store import parse_max_record_bytes as parse_max_record_bytes
    from ._store import schema_v1 as schema_v1
    from ._store import schema_v2 as schema_v2
    from ._store._sqlite import SQLiteStore as SQLiteStore

# The one list of this door's names: name -> private module under plait that defines it.
_EXPORTS: dict[str, str] = {
    "BlobTooLarge": "_store",
    "DEFAULT_MAX_BLOB_BYTES": "_store",
    "DEFAULT_MAX_RECORD_BYTES": "_store",
    "DEFAULT_STORE_URL": "_store",
    "Dialect": "_store",
    "DuplicateRun": "_store",
    "NewStep": "_store",
    "PAYLOAD_VERSION": "_store",
    "PlaitConfig": "_config",
    "RecordTooLarge": "_store",
    "RunRecord": "_store",
    "SCHEMA_VERSION": "_store",
    "SQLiteStore": "_store._sqlite",
    "SchemaTooNew": "_store",
    "SqlConnection": "_store",
    "SqlEngine": "_store",
    "StepConflict": "_store",
    "StepRecord": "_store",
    "Store": "_contracts",
    "StoreBusy": "_store",
    "StoreConnection": "_store",
    "StoreCorrupted": "_store",
    "StoreError": "_store",
    "StoreFull": "_store",
    "StoredRun": "_store",
    "StoredRunStatus": "_store",
    "StoredStepKind": "_store",
    "ThreadConflict": "_store",
    "ThreadExport": "_store",
    "ThreadHistory": "_store",
    "ThreadRecord": "_store",
    "default_sqlite_path": "_store",
    "hookimpl": "_markers",
    "migrate": "_store",
    "open_store": "_store",
    "parse_max_blob_bytes": "_store",
    "parse_max_record_bytes": "_store",
    "schema_v1": "_store",
    "schema_v2": "_store",
}

__all__ = sorted(_EXPORTS)

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
