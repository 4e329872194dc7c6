"""The plugin's hook implementations: only registration, no I/O, no driver import."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from plait import hookimpl

__all__ = ["plait_register_stores"]


@hookimpl
def plait_register_stores(config: Any) -> Iterable[Any]:
    # Imported here so that listing plugins never pays for psycopg.
    from .store import PostgresStore

    return [PostgresStore("postgresql"), PostgresStore("postgres")]
