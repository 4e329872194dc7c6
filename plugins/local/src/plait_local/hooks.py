"""Hook implementations of plait-local (registration only: no I/O, no llama_cpp import)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from plait import hookimpl

if TYPE_CHECKING:
    from plait import PlaitConfig, Provider


@hookimpl
def plait_register_providers(config: PlaitConfig) -> Iterable[Provider]:
    """Register the ``local`` provider, configured from ``[tool.plait.plugin.local]``."""
    from ._model import LocalProvider  # the implementation loads only when registering

    return [LocalProvider(**config.plugin.get("local", {}))]
