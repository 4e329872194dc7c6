"""Explicit, numbered schema migrations, run when a connection first opens (never at import).

``plait_schema_version`` holds one row per applied migration. Opening a store checks
it inside a write transaction (so two processes opening a new store at once migrate it
once): missing migrations are applied in order; a version newer than this code knows
raises ``SchemaTooNew`` before anything is written.

1. threads, messages, runs, steps (``schema_v1``)
2. content-addressed media blobs and who references them (``schema_v2``)

A dialect lists each version's statements in ``Dialect.migrations``; a dialect written
before a version existed (its list is shorter) gets that version built from its fields,
so a store built on ``SqlEngine`` keeps migrating forward.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from ._engine import Dialect, SqlEngine
from ._errors import SchemaTooNew

__all__ = ["SCHEMA_VERSION", "migrate", "schema_v1", "schema_v2"]

SCHEMA_VERSION = 2
"""The newest schema this code writes and reads."""


def schema_v1(*, real: str) -> Sequence[str]:
    """The first schema, in portable SQL; ``real`` is the floating-point column type."""
    return (
        f"""CREATE TABLE plait_threads (
            id TEXT PRIMARY KEY,
            head INTEGER NOT NULL DEFAULT 0,
            metadata TEXT NOT NULL,
            created_at {real} NOT NULL,
            updated_at {real} NOT NULL)""",
        """CREATE TABLE plait_messages (
            thread_id TEXT NOT NULL,
            position INTEGER NOT NULL,
            run_id TEXT,
            v INTEGER NOT NULL,
            payload TEXT NOT NULL,
            PRIMARY KEY (thread_id, position))""",
        f"""CREATE TABLE plait_runs (
            id TEXT PRIMARY KEY,
            thread_id TEXT,
            parent_run_id TEXT,
            agent TEXT,
            status TEXT NOT NULL,
            options TEXT NOT NULL,
            error TEXT,
            started_at {real} NOT NULL,
            ended_at {real},
            updated_at {real} NOT NULL)""",
        "CREATE INDEX plait_runs_thread ON plait_runs (thread_id, started_at)",
        "CREATE INDEX plait_runs_started ON plait_runs (started_at)",
        f"""CREATE TABLE plait_steps (
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            idempotency_key TEXT,
            v INTEGER NOT NULL,
            payload TEXT NOT NULL,
            created_at {real} NOT NULL,
            PRIMARY KEY (run_id, seq))""",
        "CREATE UNIQUE INDEX plait_steps_key ON plait_steps (run_id, kind, idempotency_key) "
        "WHERE idempotency_key IS NOT NULL",
    )


def schema_v2(*, binary: str) -> Sequence[str]:
    """Media blobs: bytes stored once per ``sha256:<hex>`` key, and the owners (a thread,
    or a run without one) whose records reference each; ``binary`` is the bytes type."""
    return (
        f"""CREATE TABLE plait_blobs (
            key TEXT PRIMARY KEY,
            media_type TEXT,
            size BIGINT NOT NULL,
            data {binary} NOT NULL,
            created_at DOUBLE PRECISION NOT NULL)""",
        """CREATE TABLE plait_blob_refs (
            owner TEXT NOT NULL,
            blob TEXT NOT NULL,
            PRIMARY KEY (owner, blob))""",
        "CREATE INDEX plait_blob_refs_blob ON plait_blob_refs (blob)",
    )


def _statements(dialect: Dialect, version: int) -> Sequence[str]:
    """The statements of ``version``: the dialect's own, else built from its fields."""
    if version <= len(dialect.migrations):
        return dialect.migrations[version - 1]
    if version == 2:
        return schema_v2(binary=dialect.binary)
    raise AssertionError(f"no statements for schema version {version}")  # pragma: no cover


def migrate(engine: SqlEngine) -> int:
    """Bring the store up to ``SCHEMA_VERSION``; return how many migrations were applied."""
    dialect = engine.dialect
    with engine.transaction(write=True):
        if dialect.migration_lock:
            engine.execute(dialect.migration_lock)
        engine.execute(
            "CREATE TABLE IF NOT EXISTS plait_schema_version "
            "(version INTEGER PRIMARY KEY, applied_at DOUBLE PRECISION NOT NULL)"
        )
        row = engine.execute(
            "SELECT COALESCE(MAX(version), 0) FROM plait_schema_version"
        ).fetchone()
        current = int(row[0])
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"{engine.label}: the store was written by schema version {current}; this plait "
                f"reads up to version {SCHEMA_VERSION}: upgrade plait (nothing was changed)"
            )
        for version in range(current + 1, SCHEMA_VERSION + 1):
            for statement in _statements(dialect, version):
                engine.execute(statement)
            engine.execute(
                "INSERT INTO plait_schema_version (version, applied_at) VALUES (?, ?)",
                (version, time.time()),
            )
        return SCHEMA_VERSION - current
