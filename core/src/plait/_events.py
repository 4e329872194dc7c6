"""The event envelope: one versioned, JSON-serialisable shape for every entry point.

``kind`` names what happened (``run.start``, ``model.response``, ``tool.end``, ...);
``data`` holds that kind's payload as plain JSON values, already redacted.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EVENT_VERSION", "Event"]

EVENT_VERSION = 1


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
