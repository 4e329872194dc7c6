"""From a store URL to an open connection, through the stores plugins registered."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from .._contracts import Store
from .._errors import ConfigError
from ._contract import StoreConnection
from ._errors import StoreError

__all__ = ["DEFAULT_STORE_URL", "open_store"]

DEFAULT_STORE_URL = "sqlite://"
"""Used when no ``store`` is configured: the SQLite file under the user's data folder."""

_HINTS = {"postgresql": "plait-postgres", "postgres": "plait-postgres"}


def open_store(url: str | None, stores: Mapping[str, Store]) -> StoreConnection:
    """Open ``url`` (``None``: the default) with the store registered for its scheme.

    ``stores`` is ``Kernel.stores()``. No I/O happens here: the connection connects and
    migrates on its first call. An unknown scheme is a ``ConfigError`` that lists the
    registered ones and, for well-known schemes, the plugin to install.
    """
    url = url or DEFAULT_STORE_URL
    scheme = urlsplit(url).scheme
    store = stores.get(scheme)
    if store is None:
        known = ", ".join(sorted(stores)) or "none"
        hint = f"; install {_HINTS[scheme]}" if scheme in _HINTS else ""
        raise ConfigError(
            f"no store is registered for {scheme or 'an empty'!r} URLs{hint} "
            f"(registered schemes: {known})"
        )
    connection = store.open(url)
    if not isinstance(connection, StoreConnection):
        raise StoreError(
            f"the store for {scheme!r} URLs returned {type(connection).__name__}, "
            "which is not a StoreConnection"
        )
    return connection
