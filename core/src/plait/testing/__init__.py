"""Test helpers for plait and its plugins: part of the product (pytest plugin ``plait``).

Fixtures (auto-registered through ``pytest11``): ``plait_kernel``, ``plait_entry_point``,
``plait_env``. Objects: ``make_kernel``, ``FakeEntryPoint``; test models ``ScriptedModel``,
``FunctionModel`` with ``Turn``, ``call`` and ``complete`` to script them. For provider
plugins: ``ProviderConformance`` (the conformance suite, with ``WireAdapter`` and
``CONFORMANCE_KEY``) and ``LoopbackServer`` / ``Reply`` (a scripted HTTP server).
"""

from __future__ import annotations

from typing import Any

from ._models import FunctionModel, ScriptedModel, ScriptedRequest, Turn, call, complete
from ._plugins import FakeDistribution, FakeEntryPoint, make_kernel

# Provider testing (imports pytest and anyio's network layer): loaded on first use.
_LAZY = {
    "CONFORMANCE_KEY": "conformance",
    "LoopbackServer": "_loopback",
    "ProviderConformance": "conformance",
    "RecordedRequest": "_loopback",
    "Reply": "_loopback",
    "WireAdapter": "conformance",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONFORMANCE_KEY",
    "FakeDistribution",
    "FakeEntryPoint",
    "FunctionModel",
    "LoopbackServer",
    "ProviderConformance",
    "RecordedRequest",
    "Reply",
    "ScriptedModel",
    "ScriptedRequest",
    "Turn",
    "WireAdapter",
    "call",
    "complete",
    "make_kernel",
]
