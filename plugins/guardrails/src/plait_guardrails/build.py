"""Every guardrail of the pack, built from its settings: what the hook registers.

Names are ``<guardrail>.<stage>`` (``pii.input``, ``secrets.tool_result``, ...), except
``tool_policy``, which has one stage. Building is cheap and does no I/O; a guardrail does
nothing until a run names it (``guardrails=["pii.input"]`` or the configured stack).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .caps import SizeCapGuardrail
from .credentials import SecretsDetector
from .injection import InjectionDetector
from .judge import JudgeGuardrail
from .pii import PIIDetector
from .policy import ToolPolicyGuardrail
from .scan import ScanGuardrail
from .settings import ALL_STAGES, GuardrailsSettings, InjectionSettings

if TYPE_CHECKING:
    from plait import PlaitConfig

__all__ = ["PLUGIN_NAME", "build_guardrails", "guardrail_names"]

PLUGIN_NAME = "guardrails"
"""The entry-point name: settings live in ``[tool.plait.plugin.guardrails]``."""


def _masking(prefix: str, detector: Any, section: Any, what: str) -> list[Any]:
    """One scanning guardrail per stage that redacts with ``section.mask``; the input
    stage runs before the model is asked (the provider must not see what is redacted)."""
    return [
        ScanGuardrail(
            name=f"{prefix}.{stage}",
            stage=stage,
            detector=detector,
            action=section.action_for(stage),
            what=what,
            template=section.mask,
            parallel=stage != "input",
        )
        for stage in ALL_STAGES
    ]


def _pii(s: GuardrailsSettings) -> list[Any]:
    detector = PIIDetector(s.pii.kinds, s.pii.phone_regions)
    return _masking("pii", detector, s.pii, "personal data")


def _secrets(s: GuardrailsSettings) -> list[Any]:
    c = s.secrets
    detector = SecretsDetector(c.kinds, c.entropy_min_length, c.entropy_threshold)
    return _masking("secrets", detector, c, "secrets")


def _injection(s: GuardrailsSettings) -> list[Any]:
    detector = InjectionDetector(s.injection.threshold, s.injection.patterns)
    return [
        ScanGuardrail(
            name=f"injection.{stage}",
            stage=stage,
            detector=detector,
            action=s.injection.action_for(stage),
            what="prompt-injection signals",
        )
        for stage in InjectionSettings.STAGES
    ]


def _caps(s: GuardrailsSettings) -> list[Any]:
    return [
        SizeCapGuardrail(stage=stage, cap=cap, action=s.size_caps.action)
        for stage in ALL_STAGES
        if (cap := s.size_caps.cap(stage)) is not None
    ]


def _judges(s: GuardrailsSettings, config: PlaitConfig | None) -> list[Any]:
    return [JudgeGuardrail(stage=stage, settings=s.judge, config=config) for stage in ALL_STAGES]


def build_guardrails(
    settings: GuardrailsSettings | None = None, config: PlaitConfig | None = None
) -> list[Any]:
    """Every guardrail of the pack for ``settings`` (defaults when ``None``)."""
    s = settings or GuardrailsSettings()
    return [
        *_pii(s),
        *_secrets(s),
        *_injection(s),
        ToolPolicyGuardrail(s.tool_policy),
        *_caps(s),
        *_judges(s, config),
    ]


def guardrail_names(settings: GuardrailsSettings | None = None) -> list[str]:
    """The names ``build_guardrails`` registers, in order."""
    return [g.name for g in build_guardrails(settings)]
