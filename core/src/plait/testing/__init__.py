"""Test helpers for plait and its plugins: part of the product (pytest plugin ``plait``).

Fixtures (auto-registered through ``pytest11``): ``plait_kernel``, ``plait_entry_point``,
``plait_env``. Objects: ``make_kernel``, ``FakeEntryPoint``; test models ``ScriptedModel``,
``FunctionModel`` with ``Turn``, ``call`` and ``complete`` to script them.

Conformance kits, one per kind a plugin ships (a test class to subclass; see
docs/plugins/conformance.md): ``ModelConformance`` (any provider, no network),
``ProviderConformance`` (HTTP providers, with ``WireAdapter``, ``ErrorKind``,
``CONFORMANCE_KEY`` and ``LoopbackServer`` / ``Reply``, a scripted HTTP server),
``ToolConformance``, ``ToolsetConformance``, ``VerifierConformance``,
``GuardrailConformance``, ``EventHandlerConformance``, ``ExecutorConformance`` and
``StoreConformance``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._models import FunctionModel, ScriptedModel, ScriptedRequest, Turn, call, complete
from ._plugins import FakeDistribution, FakeEntryPoint, make_kernel

if TYPE_CHECKING:  # what the lazy names below are, for type checkers
    from ._kits import (
        GuardrailConformance,
        ToolConformance,
        ToolsetConformance,
        VerifierConformance,
    )
    from ._loopback import LoopbackServer, RecordedRequest, Reply
    from ._runtime_kits import EventHandlerConformance, ExecutorConformance, sample_events
    from .conformance import (
        CONFORMANCE_KEY,
        ErrorKind,
        ModelConformance,
        ProviderConformance,
        WireAdapter,
    )
    from .store_conformance import StoreConformance

# Conformance kits import pytest (and anyio's network layer): loaded on first use.
_LAZY = {
    "CONFORMANCE_KEY": "conformance",
    "ErrorKind": "conformance",
    "EventHandlerConformance": "_runtime_kits",
    "ExecutorConformance": "_runtime_kits",
    "GuardrailConformance": "_kits",
    "LoopbackServer": "_loopback",
    "ModelConformance": "conformance",
    "ProviderConformance": "conformance",
    "RecordedRequest": "_loopback",
    "Reply": "_loopback",
    "StoreConformance": "store_conformance",
    "ToolConformance": "_kits",
    "ToolsetConformance": "_kits",
    "VerifierConformance": "_kits",
    "WireAdapter": "conformance",
    "sample_events": "_runtime_kits",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "CONFORMANCE_KEY",
    "ErrorKind",
    "EventHandlerConformance",
    "ExecutorConformance",
    "FakeDistribution",
    "FakeEntryPoint",
    "FunctionModel",
    "GuardrailConformance",
    "LoopbackServer",
    "ModelConformance",
    "ProviderConformance",
    "RecordedRequest",
    "Reply",
    "ScriptedModel",
    "ScriptedRequest",
    "StoreConformance",
    "ToolConformance",
    "ToolsetConformance",
    "Turn",
    "VerifierConformance",
    "WireAdapter",
    "call",
    "complete",
    "make_kernel",
    "sample_events",
]
