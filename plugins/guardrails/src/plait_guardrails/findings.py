"""What a detector reports — a ``Finding``: the kind and where it is, never the value —
and the few operations every detector shares: dropping overlaps, masking, summarising."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Detector", "Finding", "mask", "resolve_overlaps", "summary"]


@dataclass(frozen=True, slots=True)
class Finding:
    """One match: ``kind`` (``"email"``, ``"aws_access_key"``, ...) at ``text[start:end]``."""

    kind: str
    start: int
    end: int


class Detector(Protocol):
    """Finds sensitive spans in a text; cheap, synchronous, no I/O."""

    def find(self, text: str) -> list[Finding]:
        """Every finding in ``text``, sorted by position, without overlaps."""
        ...


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Sorted findings, keeping the longest of overlapping ones (the first on a tie)."""
    ordered = sorted(findings, key=lambda f: (f.start, -(f.end - f.start)))
    kept: list[Finding] = []
    for f in ordered:
        if kept and f.start < kept[-1].end:
            if f.end - f.start > kept[-1].end - kept[-1].start:
                kept[-1] = f
            continue
        kept.append(f)
    return kept


def mask(text: str, findings: Sequence[Finding], template: str) -> str:
    """``text`` with each finding replaced by ``template.format(kind=...)``."""
    parts: list[str] = []
    last = 0
    for f in findings:
        parts.append(text[last : f.start])
        parts.append(template.format(kind=f.kind))
        last = f.end
    parts.append(text[last:])
    return "".join(parts)


def summary(findings: Iterable[Finding]) -> str:
    """``"2 email, 1 card"``: what was found, by kind, without any of the values."""
    counts = Counter(f.kind for f in findings)
    return ", ".join(f"{n} {kind}" for kind, n in sorted(counts.items()))
