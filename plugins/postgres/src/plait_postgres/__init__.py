"""plait-postgres: the ``postgresql://`` thread/run store for plait.

Registered through the ``plait`` entry point ``postgres`` (``plait_postgres.hooks``);
the store itself lives in ``plait_postgres.store``.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
