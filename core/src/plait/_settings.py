"""Model settings and run limits: the two knobs every entry point accepts.

Both are immutable. ``ModelSettings.merge`` lets later layers (agent < run) win field by
field; ``Limits`` ships finite defaults because an agent left running must stop.

``current_limits`` hands the run's ``Limits`` to provider code (the size caps of the kit's
``read_body``, ``loads_json`` and SSE decoding) while the retry layer asks the model.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Limits", "ModelSettings", "ToolChoice", "current_limits"]

_MiB = 1 << 20

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

    # Size caps: what comes from outside is bounded (``plait.ResponseTooLarge`` past them).
    # Always on (no ``None``): raise one to allow more.
    response_bytes: int = Field(default=32 * _MiB, gt=0)
    """Decompressed bytes of one HTTP response body read by a provider (``read_body``)."""
    stream_event_bytes: int = Field(default=8 * _MiB, gt=0)
    """Bytes of one server-sent event (its lines together), or of one unfinished line."""
    json_depth: int = Field(default=128, gt=0)
    """Nesting depth of JSON from outside: response bodies, stream events, tool arguments."""
    output_chars: int = Field(default=4 * _MiB, gt=0)
    """Characters of one model answer: text, thinking and tool-call arguments together."""
    tool_argument_chars: int = Field(default=1 * _MiB, gt=0)
    """Characters of one tool call's arguments; longer ones go back to the model."""
    event_chars: int = Field(default=256 * 1024, gt=0)
    """Characters of one string in an event's data (longer ones are cut, with a note
    saying how much): what handlers and streams hold stays bounded. The run's own data
    (``Result``, the store) is not cut."""


DEFAULT_LIMITS = Limits()
"""The defaults, one shared frozen object (what ``current_limits`` gives outside a run)."""

_LIMITS: ContextVar[Limits] = ContextVar("plait_limits", default=DEFAULT_LIMITS)


def current_limits() -> Limits:
    """The ``Limits`` of the run whose model is being asked (the defaults outside a run).

    The retry layer publishes them while a model's ``request`` runs and while its stream
    starts, as it does ``current_deadline``: the kit's helpers (``read_body``,
    ``loads_json``, ``aiter_sse``, ``SSEDecoder``) read their caps here when not given
    one, so a provider that calls them without arguments keeps the run's caps.
    """
    return _LIMITS.get()
