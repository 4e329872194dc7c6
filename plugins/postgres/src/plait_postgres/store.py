"""The PostgreSQL store: plait's store contract over psycopg 3.

Same SQL, records and semantics as the built-in SQLite store (``plait.store``); what
differs is the dialect: writes run under ``BEGIN`` (read committed) and lock the rows
they compare-and-set with ``SELECT ... FOR UPDATE`` (the run row for a step's sequence
number, the thread row for its head), reads use one ``REPEATABLE READ`` snapshot, and
migrations hold a transaction-level advisory lock so concurrent first opens migrate once.

psycopg's synchronous connection runs in a worker thread per call (``anyio.to_thread``),
so the store works the same under asyncio and trio.

URL: any libpq URL (``postgresql://user:pass@host:port/db?sslmode=...``), plus
``busy_timeout`` (seconds to wait for a row lock, default 30; sets ``lock_timeout``) and
``max_record_bytes`` (the largest JSON record written — a message, a step's payload, a
run's options — default 16 MiB; larger ones raise ``RecordTooLarge``, writing nothing)
and ``max_blob_bytes`` (the largest media part kept as a blob in ``BYTEA``, default 64 MiB;
``BlobTooLarge`` beyond). Blob writers and the deleter of unreferenced blobs hold a
shared / exclusive transaction-level advisory lock, so a blob is never deleted under a
transaction that is committing a reference to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from plait import ConfigError
from plait.store import (
    Dialect,
    SqlConnection,
    SqlEngine,
    StoreBusy,
    StoreError,
    StoreFull,
    migrate,
    parse_max_blob_bytes,
    parse_max_record_bytes,
    schema_v1,
    schema_v2,
)

__all__ = ["POSTGRES_DIALECT", "PostgresStore", "redact_url"]

DEFAULT_BUSY_TIMEOUT = 30.0
# plait's own options; the rest go to libpq
_OWN_OPTIONS = ("busy_timeout", "max_blob_bytes", "max_record_bytes")
_MIGRATION_LOCK_ID = 0x706C616974  # "plait": serialises concurrent first opens
_BLOB_LOCK_ID = 0x706C61697462  # "plaitb": blob references (shared) vs their deletion

POSTGRES_DIALECT = Dialect(
    name="postgresql",
    placeholder="%s",
    begin_write="BEGIN",
    begin_read="BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
    for_update=" FOR UPDATE",
    integrity_errors=(psycopg.errors.IntegrityError,),
    migrations=(schema_v1(real="DOUBLE PRECISION"), schema_v2(binary="BYTEA")),
    migration_lock=f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})",
    binary="BYTEA",
    blob_lock=f"SELECT pg_advisory_xact_lock_shared({_BLOB_LOCK_ID})",
    blob_gc_lock=f"SELECT pg_advisory_xact_lock({_BLOB_LOCK_ID})",
)


class PostgresStore:
    """The ``Store`` for ``postgresql://`` (and ``postgres://``) URLs."""

    def __init__(self, scheme: str = "postgresql") -> None:
        self.scheme = scheme

    def open(self, url: str) -> SqlConnection:
        """A connection for ``url``: parsed now, connected on first use."""
        target = _split_options(url)
        label = f"postgresql store {redact_url(url)}"
        return SqlConnection(
            redact_url(url),
            lambda: _connect(target, label),
            lambda exc: map_postgres_error(exc, label, target.busy_timeout),
            label=label,
        )


@dataclass(frozen=True, slots=True)
class _Target:
    """The libpq connection string and plait's own options, taken out of the URL."""

    conninfo: str
    busy_timeout: float
    max_record_bytes: int
    max_blob_bytes: int


def redact_url(url: str) -> str:
    """``url`` without its password (for messages and ``connection.url``)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _split_options(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"not a PostgreSQL store URL: {redact_url(url)!r}")
    query = parse_qsl(parts.query, keep_blank_values=True)
    options = dict(query)
    rest = urlencode([(k, v) for k, v in query if k not in _OWN_OPTIONS])
    return _Target(
        urlunsplit(parts._replace(query=rest)),
        _busy_timeout(url, options.get("busy_timeout", str(DEFAULT_BUSY_TIMEOUT))),
        parse_max_record_bytes(redact_url(url), options.get("max_record_bytes")),
        parse_max_blob_bytes(redact_url(url), options.get("max_blob_bytes")),
    )


def _busy_timeout(url: str, raw: str) -> float:
    try:
        busy = float(raw)
    except ValueError:
        busy = -1.0
    if not 0 <= busy < float("inf"):
        raise ConfigError(f"{redact_url(url)!r}: busy_timeout must be seconds >= 0, got {raw!r}")
    return busy


def _connect(target: _Target, label: str) -> SqlEngine:
    # autocommit: the engine opens its own transactions
    conn = psycopg.connect(target.conninfo, autocommit=True)
    try:
        conn.execute(f"SET lock_timeout = {int(target.busy_timeout * 1000)}")
        caps = {
            name: value
            for name, value in (
                ("max_record_bytes", target.max_record_bytes),
                ("max_blob_bytes", target.max_blob_bytes),
            )
            if value is not None
        }
        engine = SqlEngine(conn, POSTGRES_DIALECT, label, **caps)
        migrate(engine)
    except BaseException:
        conn.close()
        raise
    return engine


def map_postgres_error(exc: BaseException, label: str, busy_timeout: float) -> StoreError | None:
    """The ``StoreError`` for a psycopg error, or ``None`` for anything else."""
    if not isinstance(exc, psycopg.Error):
        return None
    errors = psycopg.errors
    if isinstance(
        exc, errors.LockNotAvailable | errors.DeadlockDetected | errors.SerializationFailure
    ):
        return StoreBusy(
            f"{label}: a lock was not granted within busy_timeout={busy_timeout:g}s "
            f"({type(exc).__name__}); raise busy_timeout in the URL"
        )
    if isinstance(exc, errors.DiskFull | errors.OutOfMemory):
        return StoreFull(f"{label}: the server is out of space ({exc}); the step was not written")
    if isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None:
        return StoreError(f"{label}: cannot reach the server: {_first_line(exc)}")
    return StoreError(f"{label}: {type(exc).__name__}: {_first_line(exc)}")


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
