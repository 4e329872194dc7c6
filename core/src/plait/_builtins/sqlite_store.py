"""Built-in plugin ``sqlite``: the embedded thread/run store for ``sqlite://`` URLs."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from .._config import PlaitConfig
from .._markers import hookimpl

if TYPE_CHECKING:
    from .._contracts import Store

__all__ = ["plait_register_stores"]


@hookimpl
def plait_register_stores(config: PlaitConfig) -> Iterable[Store]:
    # Imported here: listing plugins must not pay for sqlite3 or the store's modules.
    from .._store._sqlite import SQLiteStore

    return [SQLiteStore()]
