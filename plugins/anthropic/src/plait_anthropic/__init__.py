"""plait-anthropic: the Anthropic Messages API as a plait provider (``anthropic:<model>``).

``AnthropicProvider`` and ``AnthropicModel`` are importable from here for direct use;
importing this package loads neither httpx nor the implementation modules.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import AnthropicModel
    from .provider import AnthropicProvider

__all__ = ["AnthropicModel", "AnthropicProvider"]

_EXPORTS = {"AnthropicModel": ".model", "AnthropicProvider": ".provider"}


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module, __name__), name)
