"""plait hook implementations of plait-anthropic (entry point ``anthropic``).

Only ``@hookimpl`` functions live here; they are cheap, do no I/O and import nothing
heavy (httpx is imported when the first model is made).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from plait import hookimpl

if TYPE_CHECKING:
    from plait import PlaitConfig

    from .provider import AnthropicProvider


@hookimpl
def plait_register_providers(config: PlaitConfig) -> list[AnthropicProvider]:
    """``anthropic``, and every ``[tool.plait.providers.<name>]`` with ``api = "anthropic"``."""
    from .provider import providers_from_config

    return providers_from_config(config)
