"""The completion tool ``complete(status, summary, result, evidence)`` and output validation.

When a run needs a structured output (``output`` is not ``str``) or ``require_completion``
is set, the model is offered ``complete``; calling it ends the run with no further model
request. ``result`` is validated against ``output``; errors go back to the model, without
the offending values, within ``Limits.output_retries``. Schemas and validators are built
once per output type (``output_plan`` is memoised), never per turn.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

from pydantic import TypeAdapter, ValidationError

from .._contracts import Completion, ToolSpec
from .._json import decode_arguments

__all__ = ["COMPLETE", "OutputPlan", "format_validation_error", "output_plan", "parse_completion"]

COMPLETE = "complete"
"""The completion tool's name."""

SUMMARY_MAX = 500
EVIDENCE_MAX = 5
EVIDENCE_ITEM_MAX = 300
"""Bounds the completion tool's schema declares, so a constrained sampler (a local model)
always reaches the end of the call; validation accepts longer values from other models."""

_DESCRIPTION = (
    "Call this exactly once, when the task is finished (or cannot be done), to end the run. "
    "status: 'success' or 'failed'; summary: one or two sentences about what was done; "
    "result: the final answer{shape}; evidence: short facts or sources that support it."
)


@dataclass(frozen=True, slots=True)
class OutputPlan:
    """How one output type is asked for and checked."""

    output: Any
    is_text: bool
    adapter: TypeAdapter[Any]
    spec: ToolSpec

    def validate(self, value: Any) -> Any:
        """The validated output; raises ``ValidationError``."""
        if self.is_text:
            return value if isinstance(value, str) else json.dumps(value, default=str)
        return self.adapter.validate_python(value)


def _spec(output: Any, adapter: TypeAdapter[Any], is_text: bool) -> ToolSpec:
    result_schema: dict[str, Any] = {"type": "string"} if is_text else adapter.json_schema()
    defs = result_schema.pop("$defs", None)  # refs point at the root: hoist the definitions
    shape = "" if is_text else ", matching its JSON schema"
    parameters = {
        "type": "object",
        "properties": {
            "result": result_schema,
            "status": {"type": "string", "enum": ["success", "failed"]},
            "summary": {"type": "string", "maxLength": SUMMARY_MAX},
            "evidence": {
                "type": "array",
                "items": {"type": "string", "maxLength": EVIDENCE_ITEM_MAX},
                "maxItems": EVIDENCE_MAX,
            },
        },
        "required": ["result", "status", "summary"],
        "additionalProperties": False,
    }
    if defs:
        parameters["$defs"] = defs
    return ToolSpec(COMPLETE, _DESCRIPTION.format(shape=shape), parameters)


def _build(output: Any) -> OutputPlan:
    is_text = output is str
    adapter: TypeAdapter[Any] = TypeAdapter(output)
    return OutputPlan(output, is_text, adapter, _spec(output, adapter, is_text))


@functools.lru_cache(maxsize=256)
def _cached(output: Any) -> OutputPlan:
    return _build(output)


def output_plan(output: Any) -> OutputPlan:
    """The (memoised) plan for ``output``; unhashable types are built each time."""
    try:
        return _cached(output)
    except TypeError:
        return _build(output)


def format_validation_error(err: ValidationError, *, limit: int = 8) -> str:
    """Pydantic errors as ``location: message`` lines, without the invalid values."""
    lines = []
    for item in err.errors(include_url=False, include_input=False)[:limit]:
        loc = ".".join(str(p) for p in item["loc"]) or "(root)"
        lines.append(f"- {loc}: {item['msg']}")
    more = err.error_count() - limit
    if more > 0:
        lines.append(f"- ... and {more} more")
    return "\n".join(lines)


def parse_completion(arguments: str, plan: OutputPlan) -> tuple[Completion, Any] | str:
    """Decode a ``complete`` call: ``(completion, output)`` or a corrective message."""
    raw = decode_arguments(arguments)  # bounded in size and depth by the run's limits
    if isinstance(raw, str):
        return f"The arguments of `{COMPLETE}` cannot be used: {raw}."
    try:
        completion = Completion.model_validate(raw)
    except ValidationError as exc:
        return f"Invalid `{COMPLETE}` call:\n{format_validation_error(exc)}"
    if completion.status == "failed":
        return completion, None
    value = completion.result
    if plan.is_text and value is None:
        value = completion.summary
    try:
        output = plan.validate(value)
    except ValidationError as exc:
        return (
            f"`result` does not match the required output type:\n"
            f"{format_validation_error(exc)}\nCall `{COMPLETE}` again with a valid result."
        )
    return completion.model_copy(update={"result": output}), output
