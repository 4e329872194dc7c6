"""Model settings and run limits: the two knobs every entry point accepts.

Both are immutable. ``ModelSettings.merge`` lets later layers (agent < run) win field by
field; ``Limits`` ships finite defaults because an agent left running must stop.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Limits", "ModelSettings", "ToolChoice"]

ToolChoice = Literal["auto", "none", "required"] | str
"""``auto``, ``none``, ``required``, or the name of the one tool the model must call."""


class ModelSettings(BaseModel):
    """Sampling and request settings passed to the model. ``None`` means "provider default".

    ``timeout`` is the absolute deadline of one request in seconds (all retries
    included); ``first_event_timeout`` bounds the wait for the first streamed event of
    each attempt (a missed one is an ``AttemptTimeout``, retried by the kernel's retry
    layer); the run's ``Limits.seconds`` caps both. ``stream`` chooses how the run loop
    asks: ``None`` (the default) streams a turn only when the run is watched (``stream``,
    ``start``, event handlers) and asks unstreamed otherwise, like the peers' ``run``;
    ``True`` always streams (the first-event deadline then guards every turn); ``False``
    never does (watchers get each answer as one delta). ``extra`` is passed to the
    provider unchanged (provider-specific fields).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    temperature: float | None = Field(default=None, ge=0)
    max_tokens: int | None = Field(default=None, gt=0)
    top_p: float | None = Field(default=None, ge=0, le=1)
    seed: int | None = None
    stop: tuple[str, ...] | None = None
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    timeout: float | None = Field(default=None, gt=0)
    first_event_timeout: float | None = Field(default=60.0, gt=0)
    stream: bool | None = None
    extra: dict[str, Any] = Field(default_factory=dict)

    def merge(self, other: ModelSettings | None) -> ModelSettings:
        """A copy where every field set on ``other`` wins; ``extra`` dicts are merged."""
        if other is None:
            return self
        update = {k: getattr(other, k) for k in other.model_fields_set if k != "extra"}
        if other.extra:
            update["extra"] = {**self.extra, **other.extra}
        return self.model_copy(update=update) if update else self


class Limits(BaseModel):
    """Budgets of one run, shared with its sub-runs. ``None`` switches a limit off.

    Every limit has a finite default: a run that goes wrong stops on its own.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    turns: int | None = Field(default=50, gt=0, alias="max_turns")
    tool_calls: int | None = Field(default=200, ge=0)
    input_tokens: int | None = Field(default=None, gt=0)
    output_tokens: int | None = Field(default=None, gt=0)
    total_tokens: int | None = Field(default=None, gt=0)
    seconds: float | None = Field(default=600.0, gt=0)
    tool_timeout: float | None = Field(default=60.0, gt=0)
    tool_output_chars: int = Field(default=100_000, gt=0)
    output_retries: int = Field(default=3, ge=0)
    verifier_retries: int = Field(default=2, ge=0)
    tool_retries: int = Field(default=2, ge=0)
    repeated_tool_calls: int | None = Field(default=3, gt=0)
    """How often one identical call (same tool, same arguments) runs in a run; later
    identical calls are answered with a note and the tool is withheld for a turn."""
