"""Fingerprints of a run's tool and output schemas: recorded with it, checked on resume.

A recorded run holds tool calls the model made against the tools' JSON schemas and,
perhaps, a ``complete`` call against the output type's. Resuming it with a tool whose
parameters changed under the same name (or another output type) would replay recorded
calls — and let the model go on — against a contract they were not made for. So a
durable run records, with its options, one fingerprint per tool and one for the output
type, and ``resume`` refuses (``SchemaChanged``) when one differs, unless the caller
passes ``on_schema_change="accept"``.

What is compared is the contract, not the prose: the schema with its annotations
(``title``, ``description``, ``examples``, ``$comment``) left out, so a reworded
docstring resumes and a renamed, retyped, added or removed parameter does not. A
fingerprint keeps a hash of the whole and one per top-level property, so the error can
say which parameters changed. Tools added since the recording are fine; a tool with the
same schema but other code cannot be told apart (and is not refused).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .._errors import SchemaChanged

if TYPE_CHECKING:
    from ._completion import OutputPlan
    from ._state import RunState

__all__ = [
    "FINGERPRINT_VERSION",
    "changes",
    "check",
    "fingerprint",
    "output_name",
    "record_schemas",
]

FINGERPRINT_VERSION = 1
"""Version of the recorded ``schemas`` object (a newer one is not checked, never refused)."""

_ANNOTATIONS = frozenset({"title", "description", "examples", "$comment"})
_SCHEMA_MAPS = frozenset({"properties", "$defs", "definitions", "patternProperties"})
_VALUES = frozenset({"enum", "const", "default", "examples"})  # data, not schemas


def _contract(schema: Any) -> Any:
    """``schema`` without annotation keywords (names under ``properties`` are kept)."""
    if isinstance(schema, list):
        return [_contract(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _ANNOTATIONS:
            continue
        if key in _SCHEMA_MAPS and isinstance(value, Mapping):
            out[key] = {name: _contract(sub) for name, sub in value.items()}
        elif key in _VALUES:
            out[key] = value
        else:
            out[key] = _contract(value)
    return out


def _digest(value: Any, size: int) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def fingerprint(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``{"sha": <whole contract>, "properties": {name: <its contract>}}`` (JSON)."""
    contract = _contract(schema)
    properties = contract.get("properties")
    props = properties if isinstance(properties, Mapping) else {}
    return {
        "sha": _digest(contract, 16),
        "properties": {name: _digest(sub, 12) for name, sub in props.items()},
    }


def _output_fingerprint(plan: OutputPlan) -> dict[str, Any] | None:
    """The fingerprint of the output type's schema as the model sees it (``None``: text)."""
    if plan.is_text:
        return None
    params = plan.spec.parameters
    schema = dict(params["properties"]["result"])
    if "$defs" in params:
        schema["$defs"] = params["$defs"]
    return fingerprint(schema)


@functools.lru_cache(maxsize=256)
def _cached_output(output: Any) -> dict[str, Any] | None:
    from ._completion import output_plan

    return _output_fingerprint(output_plan(output))


@functools.lru_cache(maxsize=512)
def _cached(tool: Any) -> dict[str, Any]:
    return fingerprint(tool.parameters)


def _tool_fingerprint(tool: Any) -> dict[str, Any]:
    """A tool's fingerprint, memoised per tool object (tools are made once, used by many
    runs; measured: about 50 us per tool otherwise, on the 2-core test machine)."""
    try:
        return _cached(tool)
    except TypeError:  # an unhashable tool object
        return fingerprint(tool.parameters)


def record_schemas(tools: Mapping[str, Any], plan: OutputPlan) -> dict[str, Any]:
    """What a durable run records: a fingerprint of each tool and of the output type
    (both memoised: a tool object and an output type are used by many runs)."""
    try:
        output = _cached_output(plan.output)
    except TypeError:  # an unhashable output type
        output = _output_fingerprint(plan)
    return {
        "v": FINGERPRINT_VERSION,
        "tools": {name: _tool_fingerprint(t) for name, t in tools.items()},
        "output": output,
    }


def _how(old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    """Which parameters were added, removed or changed (or: other keywords changed)."""
    before, after = old.get("properties") or {}, new.get("properties") or {}
    parts = []
    for label, names in (
        ("added", [n for n in after if n not in before]),
        ("removed", [n for n in before if n not in after]),
        ("changed", [n for n in after if n in before and before[n] != after[n]]),
    ):
        if names:
            parts.append(f"{label} {', '.join(repr(n) for n in names)}")
    return "; ".join(parts) or "required fields or other keywords changed"


def changes(recorded: Any, tools: Mapping[str, Any], plan: OutputPlan, output: str) -> list[str]:
    """What changed since ``recorded`` (a ``record_schemas`` value), one line each.

    Only recorded tools that the resumed run has are compared (a missing one is refused
    before, as a missing tool; an added one is fine). ``output`` is "was -> now": the
    recorded output type's name and the resumed run's.
    """
    found: list[str] = []
    now = record_schemas(tools, plan)
    for name, old in (recorded.get("tools") or {}).items():
        new = now["tools"].get(name)
        if new is not None and isinstance(old, Mapping) and old.get("sha") != new["sha"]:
            found.append(f"tool {name!r} changed its parameters ({_how(old, new)})")
    old_out, new_out = recorded.get("output"), now["output"]
    old_out = old_out if isinstance(old_out, Mapping) else None
    if (old_out or {}).get("sha") != (new_out or {}).get("sha"):
        how = "" if old_out is None or new_out is None else f": {_how(old_out, new_out)}"
        found.append(f"the output type changed its schema ({output}{how})")
    return found


def output_name(output: Any) -> str:
    """How an output type is named in a run's record (``"str"`` for plain text)."""
    return "str" if output is str else getattr(output, "__name__", repr(output))


def check(
    run_id: str, recorded_options: Mapping[str, Any], st: RunState, accept: bool
) -> tuple[str, list[str]]:
    """Compare the resumed run's tools and output type with what its record holds.

    Returns how it went — ``"unchanged"``, ``"accepted"`` (changes, and the caller
    accepted them) or ``"unrecorded"`` (a run recorded before fingerprints, or by a newer
    plait: resumed without the check) — and the changes. Raises ``SchemaChanged`` when
    something changed and ``accept`` is false.
    """
    recorded = recorded_options.get("schemas")
    if (
        not isinstance(recorded, Mapping)
        or recorded.get("v") != FINGERPRINT_VERSION
        or not isinstance(recorded.get("tools"), Mapping)
    ):
        return "unrecorded", []
    was, now = str(recorded_options.get("output") or "str"), output_name(st.plan.output)
    found = changes(recorded, st.tools, st.plan, now if was == now else f"was {was}, now {now}")
    if not found:
        return "unchanged", []
    if not accept:
        raise SchemaChanged(run_id, tuple(found))
    return "accepted", found
