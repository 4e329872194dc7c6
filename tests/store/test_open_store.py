"""``open_store``: from a configured URL (or none) to a connection of the right store."""

from __future__ import annotations

from pathlib import Path

import pytest

from plait import ConfigError
from plait._store import DEFAULT_STORE_URL, StoreError, open_store
from plait._store._sqlite import SQLiteStore

pytestmark = pytest.mark.anyio


async def test_default_is_the_sqlite_file_under_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert DEFAULT_STORE_URL == "sqlite://"
    async with open_store(None, {"sqlite": SQLiteStore()}) as conn:
        await conn.get_or_create_thread("t")
    assert (tmp_path / "plait" / "plait.db").is_file()


def test_unknown_scheme_names_the_plugin_to_install() -> None:
    with pytest.raises(ConfigError, match=r"'postgresql' URLs; install plait-postgres.*sqlite"):
        open_store("postgresql://db/plait", {"sqlite": SQLiteStore()})


def test_a_store_returning_something_else_is_refused() -> None:
    class Broken:
        scheme = "x"

        def open(self, url: str) -> object:
            return object()

    with pytest.raises(StoreError, match="not a StoreConnection"):
        open_store("x://y", {"x": Broken()})
