"""``SizeCapGuardrail``: at most so many characters at one stage.

Sizes are counted as plait passes the content on: the input and tool results as text,
a tool call's arguments as their JSON, a structured output as its JSON. ``truncate``
cuts text (input, tool results, text outputs) and marks the cut; what cannot be cut
without breaking it (tool-call JSON, a structured output) is blocked instead.
"""

from __future__ import annotations

from typing import Any

from plait import Context, Decision

from .content import size
from .scan import STAGE_NOUNS
from .settings import Stage

__all__ = ["TRUNCATED", "SizeCapGuardrail"]

TRUNCATED = "\n[truncated: {dropped} characters over the {cap}-character cap]"


class SizeCapGuardrail:
    """A ``plait.Guardrail`` refusing (or cutting) content over ``cap`` characters."""

    timeout: float | None = None
    parallel = True

    def __init__(self, *, stage: Stage, cap: int, action: str) -> None:
        self.name = f"size_caps.{stage}"
        self.stage: Stage = stage
        self.cap = cap
        self.action = action

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} cap={self.cap} action={self.action}>"

    async def check(self, subject: Any, ctx: Context[Any]) -> Decision:
        """Allow up to the cap; over it, block / retry, or truncate text."""
        n = size(subject)
        if n <= self.cap:
            return Decision(action="allow", guardrail=self.name, stage=self.stage)
        reason = f"the {STAGE_NOUNS[self.stage]} has {n} characters, over the cap of {self.cap}"
        if self.action == "truncate" and isinstance(subject, str):
            note = TRUNCATED.format(dropped=n - self.cap, cap=self.cap)
            cut = subject[: max(0, self.cap - len(note))] + note
            return Decision(
                action="replace",
                reason=f"truncated: {reason}",
                replacement=cut,
                guardrail=self.name,
                stage=self.stage,
            )
        action = "block" if self.action == "truncate" else self.action
        return Decision(
            action=action,  # settings allow only Decision actions here
            reason=reason,
            guardrail=self.name,
            stage=self.stage,
        )
