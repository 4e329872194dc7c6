"""plait-postgres passes the shared store conformance suite against a real server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from plait.testing import StoreConformance
from plait_postgres.store import PostgresStore


class TestPostgresStore(StoreConformance):
    @pytest.fixture
    def store(self) -> PostgresStore:
        return PostgresStore()

    @pytest.fixture
    def store_url(self, pg_url: str) -> str:
        return pg_url

    @pytest.fixture
    def raw_sql(self, pg_url: str) -> Callable[[str], Any]:
        def run(statement: str) -> list[Any]:
            with psycopg.connect(pg_url, autocommit=True) as db:
                cur = db.execute(statement)
                return cur.fetchall() if cur.description else []

        return run
