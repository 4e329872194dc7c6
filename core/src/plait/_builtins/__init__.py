"""The kernel's own features, registered through the same hooks as third-party plugins.

Each built-in is a module of ``@hookimpl`` functions, listed here by plugin name. They
can be listed (``plait plugins``) and blocked (``PLAIT_BLOCK_PLUGINS=console``).
"""

from __future__ import annotations

__all__ = ["BUILTINS"]

BUILTINS: tuple[tuple[str, str], ...] = (
    ("test-models", "plait._builtins.test_models"),
    ("console", "plait._builtins.console"),
    ("local-executor", "plait._builtins.local_executor"),
    ("sqlite", "plait._builtins.sqlite_store"),
)
