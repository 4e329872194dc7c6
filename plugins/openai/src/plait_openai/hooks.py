"""plait hooks of plait-openai (import-light: the implementation loads inside the hook)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from plait import hookimpl

if TYPE_CHECKING:
    from plait import PlaitConfig, Provider


@hookimpl
def plait_register_providers(config: PlaitConfig) -> Iterable[Provider]:
    """``openai``, ``openai-responses`` and one provider per OpenAI-API host profile."""
    from .provider import providers_for

    return providers_for(config)
