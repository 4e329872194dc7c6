"""Hook implementations of plait-local (registration only: no I/O, no llama_cpp import)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from plait import hookimpl

if TYPE_CHECKING:
    from plait import PlaitConfig, Provider


@hookimpl
def plait_register_providers(config: PlaitConfig) -> Iterable[Provider]:
    """Register the ``local`` provider, configured from ``[tool.plait.plugin.local]``.

    The settings are checked here, against ``LocalOptions``: a typo or a bad value is a
    ``ConfigError`` that names the file, not a provider that quietly goes missing.
    """
    from ._model import LocalOptions, LocalProvider  # loads only when registering

    settings = config.plugin_settings("local", LocalOptions)
    return [LocalProvider(**settings.model_dump(exclude_unset=True))]
