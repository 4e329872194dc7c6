"""A real, throwaway PostgreSQL cluster for the plugin's tests (never a mock).

``pg_cluster_url`` (session): ``initdb`` + ``postgres`` on 127.0.0.1 and a free port in a
temporary folder; stopped by its own PID and removed after the session.
``pg_url`` (per test): a new empty database on that cluster, dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from plait_postgres.testing import TemporaryCluster, temporary_database


@pytest.fixture(scope="session")
def pg_cluster_url() -> Iterator[str]:
    # fsync off: the tests need a real server, not durable disk writes (the benchmark
    # measures with fsync on).
    with TemporaryCluster(fsync=False) as cluster:
        yield cluster.url


@pytest.fixture
def pg_url(pg_cluster_url: str) -> Iterator[str]:
    with temporary_database(pg_cluster_url) as url:
        yield url
