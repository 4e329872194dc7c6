"""plait hooks of plait-guardrails (import-light: the implementation loads inside the hook)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from plait import hookimpl

if TYPE_CHECKING:
    from plait import Guardrail, PlaitConfig


@hookimpl
def plait_register_guardrails(config: PlaitConfig) -> Iterable[Guardrail]:
    """``pii.*``, ``secrets.*``, ``injection.*``, ``tool_policy``, ``size_caps.*``,
    ``judge.*``, configured by ``[tool.plait.plugin.guardrails]``."""
    from .build import PLUGIN_NAME, build_guardrails
    from .settings import GuardrailsSettings

    settings = config.plugin_settings(PLUGIN_NAME, GuardrailsSettings)
    return build_guardrails(settings, config)
