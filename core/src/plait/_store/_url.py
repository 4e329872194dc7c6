"""SQLite store URLs and the default store location.

* ``sqlite:///abs/path.db`` — a file (the path is absolute: everything after ``sqlite://``;
  ``sqlite:////abs/path.db`` is accepted as the same file)
* ``sqlite:///:memory:`` — a private in-memory store, gone when the connection closes
* ``sqlite://`` — the default file: ``$XDG_DATA_HOME/plait/plait.db``, or
  ``~/.local/share/plait/plait.db`` when ``XDG_DATA_HOME`` is unset

Query options: ``busy_timeout`` (seconds a writer waits for the lock, default 30),
``synchronous`` (``full``, the default: a recorded step survives a power cut; ``normal``:
faster, survives a crashed or killed process but may lose the last steps on power loss)
and ``max_record_bytes`` (the largest JSON record written: a message, a step's payload, a
run's options; default 16 MiB, ``RecordTooLarge`` beyond) and ``max_blob_bytes`` (the
largest media part kept, as a blob: default 64 MiB, ``BlobTooLarge`` beyond).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from .._errors import ConfigError
from ._records import DEFAULT_MAX_BLOB_BYTES, DEFAULT_MAX_RECORD_BYTES

__all__ = [
    "DEFAULT_BUSY_TIMEOUT",
    "SQLiteTarget",
    "default_sqlite_path",
    "parse_byte_option",
    "parse_max_blob_bytes",
    "parse_max_record_bytes",
    "parse_sqlite_url",
]

DEFAULT_BUSY_TIMEOUT = 30.0
_SYNCHRONOUS = ("full", "normal", "extra")
_OPTIONS = ("busy_timeout", "max_blob_bytes", "max_record_bytes", "synchronous")


@dataclass(frozen=True, slots=True)
class SQLiteTarget:
    """Where and how to open a SQLite store; ``path`` is ``None`` for ``:memory:``."""

    path: Path | None
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT
    synchronous: str = "full"
    max_record_bytes: int = DEFAULT_MAX_RECORD_BYTES
    max_blob_bytes: int = DEFAULT_MAX_BLOB_BYTES

    @property
    def label(self) -> str:
        return f"sqlite store {self.path}" if self.path else "sqlite store :memory:"


def default_sqlite_path(environ: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/plait/plait.db``, else ``~/.local/share/plait/plait.db``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "plait" / "plait.db"


def parse_sqlite_url(url: str, environ: Mapping[str, str] | None = None) -> SQLiteTarget:
    """Parse a ``sqlite://`` URL; ``ConfigError`` naming the URL when it is not one."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc:
        raise ConfigError(
            f"not a SQLite store URL: {url!r}; use sqlite:///absolute/path.db, "
            "sqlite:///:memory: or sqlite:// (the default file)"
        )
    raw = unquote(parts.path)
    if raw in ("", "/"):
        path: Path | None = default_sqlite_path(environ)
    elif raw == "/:memory:":
        path = None
    else:
        path = Path("/" + raw.lstrip("/"))  # sqlite:////abs (SQLAlchemy's form) is the same file
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise ConfigError(
            f"{url!r}: unknown option(s) {', '.join(sorted(unknown))}; "
            f"allowed: {', '.join(_OPTIONS)}"
        )
    return SQLiteTarget(
        path,
        _busy_timeout(url, options),
        _synchronous(url, options),
        parse_max_record_bytes(url, options.get("max_record_bytes")),
        parse_max_blob_bytes(url, options.get("max_blob_bytes")),
    )


def parse_byte_option(url: str, name: str, raw: str | None, *, minimum: int, default: int) -> int:
    """A store URL option counting bytes (``max_record_bytes``, ``max_blob_bytes``): a
    whole number >= ``minimum``, ``default`` when not given; else a ``ConfigError`` naming
    ``url`` (pass it with its password removed)."""
    if raw is None:
        return default
    value = int(raw) if raw.strip().isdecimal() else -1
    if value < minimum:
        raise ConfigError(
            f"{url!r}: {name} must be a whole number of bytes >= {minimum}, got {raw!r}"
        )
    return value


def parse_max_record_bytes(url: str, raw: str | None) -> int:
    """The ``max_record_bytes`` option (>= 1024; ``None``: 16 MiB)."""
    return parse_byte_option(
        url, "max_record_bytes", raw, minimum=1024, default=DEFAULT_MAX_RECORD_BYTES
    )


def parse_max_blob_bytes(url: str, raw: str | None) -> int:
    """The ``max_blob_bytes`` option (>= 1; ``None``: 64 MiB)."""
    return parse_byte_option(url, "max_blob_bytes", raw, minimum=1, default=DEFAULT_MAX_BLOB_BYTES)


def _busy_timeout(url: str, options: dict[str, str]) -> float:
    raw = options.get("busy_timeout", str(DEFAULT_BUSY_TIMEOUT))
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise ConfigError(f"{url!r}: busy_timeout must be a number of seconds >= 0, got {raw!r}")
    return value


def _synchronous(url: str, options: dict[str, str]) -> str:
    value = options.get("synchronous", "full").lower()
    if value not in _SYNCHRONOUS:
        raise ConfigError(f"{url!r}: synchronous must be one of {', '.join(_SYNCHRONOUS)}")
    return value
