"""The built-in SQLite store (``sqlite://``): the standard library's ``sqlite3``.

WAL mode (readers never block the writer), writes under ``BEGIN IMMEDIATE`` with a
``busy_timeout`` so several writer processes queue for the lock instead of failing,
``synchronous=FULL`` by default, one transaction per call. The file and its folder are
created on first use, and migrations run then — never at import or at ``open``.
"""

from __future__ import annotations

import sqlite3
import time

from ._connection import SqlConnection
from ._engine import Dialect, SqlEngine
from ._errors import StoreBusy, StoreCorrupted, StoreError, StoreFull
from ._migrations import migrate, schema_v1, schema_v2
from ._url import SQLiteTarget, parse_sqlite_url

__all__ = ["SQLITE_DIALECT", "SQLiteStore"]

SQLITE_DIALECT = Dialect(
    name="sqlite",
    placeholder="?",
    begin_write="BEGIN IMMEDIATE",
    begin_read="BEGIN",
    for_update="",  # BEGIN IMMEDIATE already holds the database's write lock
    integrity_errors=(sqlite3.IntegrityError,),
    migrations=(schema_v1(real="REAL"), schema_v2(binary="BLOB")),
)

# sqlite3 error codes (https://sqlite.org/rescode.html), by their primary code.
_BUSY_CODES = {5, 6}  # SQLITE_BUSY, SQLITE_LOCKED
_FULL_CODES = {13}  # SQLITE_FULL
_CORRUPT_CODES = {11, 26}  # SQLITE_CORRUPT, SQLITE_NOTADB
_IOERR = 10


class SQLiteStore:
    """The ``Store`` for ``sqlite://`` URLs (see ``plait._store._url`` for the forms)."""

    scheme = "sqlite"

    def open(self, url: str) -> SqlConnection:
        """A connection for ``url``; parses the URL now, touches the file on first use."""
        target = parse_sqlite_url(url)
        return SqlConnection(
            url,
            lambda: _connect(target),
            lambda exc: map_sqlite_error(exc, target),
            label=target.label,
        )


def _connect(target: SQLiteTarget) -> SqlEngine:
    if target.path is not None:
        target.path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        ":memory:" if target.path is None else target.path,
        timeout=target.busy_timeout,
        isolation_level=None,  # autocommit: the engine opens its own transactions
        check_same_thread=False,  # used from worker threads, one call at a time
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(target.busy_timeout * 1000)}")
        _enable_wal(conn, target.busy_timeout)
        conn.execute(f"PRAGMA synchronous = {target.synchronous.upper()}")
        engine = SqlEngine(
            conn,
            SQLITE_DIALECT,
            target.label,
            max_record_bytes=target.max_record_bytes,
            max_blob_bytes=target.max_blob_bytes,
        )
        migrate(engine)
    except BaseException:
        conn.close()
        raise
    return engine


def _enable_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL, waiting up to ``timeout`` for other connections to let go.

    Changing the journal mode needs the database to itself, and SQLite answers
    ``SQLITE_BUSY`` at once — without calling the busy handler — when another
    connection is opening the same new file. So the wait is done here.
    """
    deadline = time.monotonic() + timeout
    delay = 0.001
    while True:
        try:
            conn.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
            if code not in _BUSY_CODES or time.monotonic() + delay > deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def map_sqlite_error(exc: BaseException, target: SQLiteTarget) -> StoreError | None:
    """The ``StoreError`` for a ``sqlite3`` or OS error, or ``None`` for anything else."""
    where = target.label
    if isinstance(exc, OSError):
        return StoreError(f"{where}: cannot open the database: {exc}")
    if not isinstance(exc, sqlite3.Error):
        return None
    code = (getattr(exc, "sqlite_errorcode", None) or 0) & 0xFF
    name = getattr(exc, "sqlite_errorname", None) or type(exc).__name__
    if code in _BUSY_CODES:
        return StoreBusy(
            f"{where}: the database stayed locked by another writer for longer than "
            f"busy_timeout={target.busy_timeout:g}s ({name}); raise busy_timeout in the URL"
        )
    if code in _FULL_CODES:
        return StoreFull(f"{where}: the disk is full ({name}); the step was not written")
    if code == _IOERR:
        # A refused write (ENOSPC, EFBIG past RLIMIT_FSIZE, quota) arrives as an I/O error.
        return StoreFull(
            f"{where}: the database could not be written ({name}: {exc}); the disk, a quota or "
            "the file-size limit is probably full; the step was not written"
        )
    if code in _CORRUPT_CODES:
        return StoreCorrupted(
            f"{where}: the file is not a readable SQLite database ({name}: {exc})"
        )
    return StoreError(f"{where}: {name}: {exc}")
