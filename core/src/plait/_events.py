"""The event envelope: one versioned, JSON-serialisable shape for every entry point.

``kind`` names what happened (``run.start``, ``model.response``, ``tool.end``, ...);
``data`` holds that kind's payload as plain JSON values, already redacted, and sealed:
every listener (handlers, stream consumers, a background handle's log) gets the same
read-only data (``ReadOnlyDict``/``ReadOnlyList``: a ``dict``/``list`` to ``json`` and
``==``, but any change raises ``TypeError``), copied from what the run holds, so no
listener can change what another sees, nor what the run does next (a tool's arguments).
``dict(event.data)`` is a mutable copy.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

__all__ = ["EVENT_VERSION", "Event", "ReadOnlyDict", "ReadOnlyList", "seal"]

EVENT_VERSION = 1


def _read_only(self: object, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(
        f"event data is read-only ({type(self).__name__}); copy it to change it, "
        "e.g. dict(event.data)"
    )


class ReadOnlyDict(dict[str, Any]):
    """A ``dict`` no one can change: what every listener of an event gets as ``data``."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _read_only
    clear = pop = popitem = setdefault = update = _read_only

    def __reduce__(self) -> tuple[Any, ...]:  # pickle/deepcopy without __setitem__
        return (ReadOnlyDict, (dict(self),))


class ReadOnlyList(list[Any]):
    """A ``list`` no one can change (``==`` to a list with the same items)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _read_only
    append = extend = insert = pop = remove = clear = sort = reverse = _read_only

    def __reduce__(self) -> tuple[Any, ...]:
        return (ReadOnlyList, (list(self),))


def seal(value: Any, policy: Callable[[str], str] | None = None, limit: int | None = None) -> Any:
    """``value`` (JSON-like) copied into read-only containers, every string passed
    through ``policy`` (redaction) and cut to ``limit`` characters. Sealed containers
    come back as they are (they were sealed by the same emitter)."""
    kind = type(value)
    if kind is str:
        if policy is not None:
            value = policy(value)
        if limit is not None and len(value) > limit:
            value = f"{value[:limit]}[cut: {len(value) - limit} more characters]"
        return value
    if kind is ReadOnlyDict or kind is ReadOnlyList:
        return value
    if isinstance(value, dict):
        return ReadOnlyDict({k: seal(v, policy, limit) for k, v in value.items()})
    if isinstance(value, list):
        return ReadOnlyList([seal(v, policy, limit) for v in value])
    if isinstance(value, tuple):
        return tuple(seal(v, policy, limit) for v in value)
    return value  # numbers, booleans, None (and anything else a plugin put there)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened during a run, in order (``seq``) and in time (``ts``)."""

    kind: str
    run_id: str
    seq: int
    ts: float
    agent: str | None = None
    parent_run_id: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    v: int = EVENT_VERSION

    def to_dict(self) -> dict[str, Any]:
        """The envelope as plain JSON values."""
        return {
            "v": self.v,
            "run_id": self.run_id,
            "parent_run_id": self.parent_run_id,
            "seq": self.seq,
            "ts": self.ts,
            "kind": self.kind,
            "agent": self.agent,
            "data": self.data,
        }

    def to_json(self) -> str:
        """The envelope as one line of JSON."""
        return json.dumps(self.to_dict(), separators=(",", ":"), default=str)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Event:
        """Rebuild an event stored with ``to_dict``; rejects unknown versions."""
        if raw.get("v") != EVENT_VERSION:
            raise ValueError(
                f"unsupported event version {raw.get('v')!r}; expected {EVENT_VERSION}"
            )
        return cls(
            kind=raw["kind"],
            run_id=raw["run_id"],
            seq=raw["seq"],
            ts=raw["ts"],
            agent=raw.get("agent"),
            parent_run_id=raw.get("parent_run_id"),
            data=raw.get("data") or {},
        )
