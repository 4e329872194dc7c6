"""The plugin's hook implementations: only registration, no I/O, no driver import."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import BaseModel, ConfigDict

from plait import hookimpl

__all__ = ["NoSettings", "plait_register_stores"]


class NoSettings(BaseModel):
    """``[plugin.postgres]`` takes no keys (the store URL says everything): a typo there
    is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@hookimpl
def plait_register_stores(config: Any) -> Iterable[Any]:
    config.plugin_settings("postgres", NoSettings)
    # Imported here so that listing plugins never pays for psycopg.
    from .store import PostgresStore

    return [PostgresStore("postgresql"), PostgresStore("postgres")]
