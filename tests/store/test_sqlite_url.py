"""SQLite store URLs: the file, memory and default forms, options and their errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from plait import ConfigError
from plait._store._url import DEFAULT_BUSY_TIMEOUT, default_sqlite_path, parse_sqlite_url


def test_absolute_file() -> None:
    target = parse_sqlite_url("sqlite:///var/lib/app/plait.db")
    assert (target.path, target.busy_timeout, target.synchronous) == (
        Path("/var/lib/app/plait.db"),
        DEFAULT_BUSY_TIMEOUT,
        "full",
    )
    assert parse_sqlite_url("sqlite:////var/lib/app/plait.db").path == target.path


def test_memory() -> None:
    assert parse_sqlite_url("sqlite:///:memory:").path is None


def test_default_file_follows_xdg(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path)}
    assert parse_sqlite_url("sqlite://", env).path == tmp_path / "plait" / "plait.db"
    assert default_sqlite_path({}) == Path.home() / ".local" / "share" / "plait" / "plait.db"


def test_options() -> None:
    target = parse_sqlite_url("sqlite:///x.db?busy_timeout=2.5&synchronous=NORMAL")
    assert (target.busy_timeout, target.synchronous) == (2.5, "normal")
    assert target.max_blob_bytes == 64 * 1024 * 1024
    assert parse_sqlite_url("sqlite:///x.db?max_blob_bytes=1000").max_blob_bytes == 1000


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("postgresql://h/db", "not a SQLite store URL"),
        ("sqlite://host/x.db", "not a SQLite store URL"),
        ("sqlite:///x.db?busy_timeout=soon", "busy_timeout must be a number"),
        ("sqlite:///x.db?busy_timeout=-1", "busy_timeout must be a number"),
        ("sqlite:///x.db?journal=off", "unknown option"),
        ("sqlite:///x.db?synchronous=off", "synchronous must be one of"),
        ("sqlite:///x.db?max_blob_bytes=0", "max_blob_bytes must be a whole number"),
        ("sqlite:///x.db?max_blob_bytes=big", "max_blob_bytes must be a whole number"),
    ],
)
def test_bad_urls_are_config_errors(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_sqlite_url(url)
