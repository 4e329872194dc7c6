"""``ScanGuardrail``: a detector applied at one stage, and what its findings lead to.

Actions: ``redact`` (the subject with each finding masked, same type: a ``str`` stays a
``str``, a tool call keeps its name and gets masked JSON arguments, a pydantic output is
validated again), ``block`` (the run ends ``blocked``), ``retry`` (the model is asked
again: a refused tool call or a withheld tool result is told to it; at the input stage
plait treats it as a block), ``flag`` (allowed, with the reason recorded in
``Result.guardrails`` and the run's events). A redaction that cannot keep the subject's
type blocks: a guardrail that cannot do its job fails closed.
"""

from __future__ import annotations

from typing import Any

from plait import Context, Decision

from .content import CannotRewrite, rewrite, texts
from .findings import Detector, Finding, mask, summary
from .settings import Stage

__all__ = ["STAGE_NOUNS", "ScanGuardrail"]

STAGE_NOUNS: dict[str, str] = {
    "input": "input",
    "output": "output",
    "tool_call": "tool call's arguments",
    "tool_result": "tool result",
}


class ScanGuardrail:
    """A ``plait.Guardrail`` that runs ``detector`` on every string of the subject."""

    timeout: float | None = None

    def __init__(
        self,
        *,
        name: str,
        stage: Stage,
        detector: Detector,
        action: str,
        what: str,
        template: str = "[{kind}]",
        parallel: bool = True,
    ) -> None:
        self.name = name
        self.stage: Stage = stage
        self.detector = detector
        self.action = action
        self.what = what
        self.template = template
        self.parallel = parallel
        """``False``: plait waits for this input guardrail before asking the model, so
        the provider never receives what it would redact or block."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} action={self.action}>"

    async def check(self, subject: Any, ctx: Context[Any]) -> Decision:
        """Allow, or redact / block / retry / flag with a reason naming what was found."""
        found: dict[str, list[Finding]] = {}
        for text in texts(subject):
            if text not in found and (hits := self.detector.find(text)):
                found[text] = hits
        if not found:
            return self._decision("allow")
        every = [f for hits in found.values() for f in hits]
        reason = f"{self.what} in the {STAGE_NOUNS[self.stage]}: {summary(every)}"
        if self.action == "flag":
            return self._decision("allow", f"flagged {reason}")
        if self.action != "redact":
            return self._decision(self.action, reason)
        try:
            masked = rewrite(subject, lambda s: mask(s, found.get(s, ()), self.template))
        except CannotRewrite as exc:
            return self._decision("block", f"{reason}; not redactable ({exc})")
        return self._decision("redact", f"redacted {reason}", masked)

    def _decision(
        self, action: str, reason: str | None = None, replacement: Any = None
    ) -> Decision:
        return Decision(
            action=action,  # settings allow only Decision actions here
            reason=reason,
            replacement=replacement,
            guardrail=self.name,
            stage=self.stage,
        )
