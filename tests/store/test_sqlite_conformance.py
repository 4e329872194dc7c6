"""The built-in SQLite store passes the shared store conformance suite."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from plait._store._sqlite import SQLiteStore
from plait.testing.store_conformance import StoreConformance


class TestSQLiteStore(StoreConformance):
    @pytest.fixture
    def store(self) -> SQLiteStore:
        return SQLiteStore()

    @pytest.fixture
    def store_url(self, tmp_path: Path) -> str:
        return f"sqlite:///{tmp_path}/plait.db"

    @pytest.fixture
    def raw_sql(self, tmp_path: Path) -> Callable[[str], Any]:
        def run(statement: str) -> list[Any]:
            with closing(sqlite3.connect(tmp_path / "plait.db")) as db, db:
                return db.execute(statement).fetchall()

        return run
