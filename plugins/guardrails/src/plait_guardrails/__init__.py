"""plait-guardrails: a guardrail pack for plait runs.

PII (``pii.<stage>``), secrets (``secrets.<stage>``), prompt injection
(``injection.input``, ``injection.tool_result``), a tool policy (``tool_policy``), size
caps (``size_caps.<stage>``) and a model-graded rubric (``judge.<stage>``), registered
through ``plait_register_guardrails`` and configured in
``[tool.plait.plugin.guardrails]``. See docs/guardrails-pack.md.

Importing this package is cheap: the names below load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .build import build_guardrails as build_guardrails
    from .caps import SizeCapGuardrail as SizeCapGuardrail
    from .credentials import SecretsDetector as SecretsDetector
    from .credentials import shannon_entropy as shannon_entropy
    from .findings import Finding as Finding
    from .injection import InjectionDetector as InjectionDetector
    from .judge import JudgeGuardrail as JudgeGuardrail
    from .judge import JudgeVerdict as JudgeVerdict
    from .pii import PIIDetector as PIIDetector
    from .policy import ToolPolicy as ToolPolicy
    from .policy import ToolPolicyGuardrail as ToolPolicyGuardrail
    from .scan import ScanGuardrail as ScanGuardrail
    from .settings import GuardrailsSettings as GuardrailsSettings
    from .settings import InjectionSettings as InjectionSettings
    from .settings import JudgeSettings as JudgeSettings
    from .settings import PIISettings as PIISettings
    from .settings import SecretsSettings as SecretsSettings
    from .settings import SizeCapsSettings as SizeCapsSettings
    from .settings import ToolPolicySettings as ToolPolicySettings

__version__ = "0.1.0"

# The one list of public names: name -> module of this package that defines it.
_EXPORTS: dict[str, str] = {
    "Finding": "findings",
    "GuardrailsSettings": "settings",
    "InjectionDetector": "injection",
    "InjectionSettings": "settings",
    "JudgeGuardrail": "judge",
    "JudgeSettings": "settings",
    "JudgeVerdict": "judge",
    "PIIDetector": "pii",
    "PIISettings": "settings",
    "ScanGuardrail": "scan",
    "SecretsDetector": "credentials",
    "SecretsSettings": "settings",
    "SizeCapGuardrail": "caps",
    "SizeCapsSettings": "settings",
    "ToolPolicy": "policy",
    "ToolPolicyGuardrail": "policy",
    "ToolPolicySettings": "settings",
    "build_guardrails": "build",
    "shannon_entropy": "credentials",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted([*__all__, "__version__"])
