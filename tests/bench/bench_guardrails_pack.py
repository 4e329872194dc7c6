"""plait-guardrails: precision and recall per detector on the labelled set, CPU per check.

    python tests/bench/bench_guardrails_pack.py [--repeats 21] [--json]

The labelled examples are ``tests/data/guardrails/<detector>.jsonl`` (``text``, ``label``,
``kind``; ``tool_policy.jsonl`` holds tool calls, its first line the policy they are
judged against). A text counts as detected when the detector reports anything; for
PII and secrets, ``kind accuracy`` is the share of detected positives whose labelled
kind is among the kinds reported. CPU time is ``time.process_time`` for one pass of
every example through the guardrail's ``check`` (one event loop), divided by the number
of examples; the median over ``--repeats`` passes is reported, in microseconds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import anyio

import plait
from plait_guardrails import GuardrailsSettings, ToolPolicySettings, build_guardrails

DATA = Path(__file__).resolve().parents[2] / "tests" / "data" / "guardrails"
DETECTORS = ("pii", "secrets", "injection", "tool_policy")
GUARDRAIL = {  # the guardrail whose check is timed for each detector
    "pii": "pii.output",
    "secrets": "secrets.output",
    "injection": "injection.tool_result",
    "tool_policy": "tool_policy",
}


@dataclass(frozen=True)
class Scores:
    examples: int
    tp: int
    fp: int
    fn: int
    tn: int
    precision: float
    recall: float
    kind_accuracy: float | None
    cpu_us_per_check: float | None = None


def load(name: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The examples of one detector, and the policy (``tool_policy`` only; else ``{}``)."""
    rows = [json.loads(line) for line in (DATA / f"{name}.jsonl").read_text().splitlines()]
    if rows and "policy" in rows[0]:
        return rows[1:], rows[0]["policy"]
    return rows, {}


def settings_for(policy: dict[str, Any]) -> GuardrailsSettings:
    """The default settings, with the labelled set's tool policy."""
    return GuardrailsSettings(tool_policy=ToolPolicySettings(**policy))


def _subject(name: str, row: dict[str, Any]) -> Any:
    if name == "tool_policy":
        return plait.ToolCall(id="bench", name=row["tool"], arguments=json.dumps(row["args"]))
    return row["text"]


def _kinds(decision: plait.Decision) -> str:
    return decision.reason or ""


def score(name: str, repeats: int = 0) -> Scores:
    """Scores of one detector on its labelled set (and CPU per check if ``repeats``)."""
    rows, policy = load(name)
    guard = {g.name: g for g in build_guardrails(settings_for(policy))}[GUARDRAIL[name]]
    subjects = [_subject(name, r) for r in rows]
    decisions = anyio.run(_check_all, guard, subjects)
    tp = fp = fn = tn = kind_hits = 0
    for row, decision in zip(rows, decisions, strict=True):
        hit = decision.action != "allow"
        tp += hit and row["label"]
        fp += hit and not row["label"]
        fn += not hit and row["label"]
        tn += not hit and not row["label"]
        kind = row.get("kind")
        kind_hits += bool(hit and row["label"] and kind and f" {kind}" in _kinds(decision))
    labelled = sum(1 for r in rows if r["label"] and r.get("kind") and name != "injection")
    cpu = _cpu(guard, subjects, repeats) if repeats else None
    return Scores(
        examples=len(rows),
        tp=tp,
        fp=fp,
        fn=fn,
        tn=tn,
        precision=tp / (tp + fp) if tp + fp else 1.0,
        recall=tp / (tp + fn) if tp + fn else 1.0,
        kind_accuracy=kind_hits / labelled if labelled else None,
        cpu_us_per_check=cpu,
    )


async def _check_all(guard: Any, subjects: Sequence[Any]) -> list[plait.Decision]:
    ctx: plait.Context[None] = plait.Context(run_id="bench")
    return [await guard.check(s, ctx) for s in subjects]


def _cpu(guard: Any, subjects: Sequence[Any], repeats: int) -> float:
    def one_pass() -> float:
        start = time.process_time()
        anyio.run(_check_all, guard, subjects)
        return (time.process_time() - start) / len(subjects) * 1e6

    one_pass()  # warm-up: lazy imports (phonenumbers' metadata), regex caches
    return statistics.median(one_pass() for _ in range(repeats))


def size_caps_cpu(repeats: int) -> float:
    """CPU per ``size_caps.tool_result`` check of a 10,000-character text (µs)."""
    guard = {g.name: g for g in build_guardrails()}["size_caps.tool_result"]
    return _cpu(guard, ["x" * 10_000] * 50, repeats)


def _table(results: dict[str, Scores], caps: float) -> str:
    lines = [
        "| detector | examples | precision | recall | kind accuracy | CPU µs/check |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, s in results.items():
        kind = "—" if s.kind_accuracy is None else f"{s.kind_accuracy:.2f}"
        cpu = "—" if s.cpu_us_per_check is None else f"{s.cpu_us_per_check:.0f}"
        lines.append(
            f"| {name} | {s.examples} | {s.precision:.3f} | {s.recall:.3f} | {kind} | {cpu} |"
        )
    lines.append(f"| size_caps (10k chars) | — | — | — | — | {caps:.1f} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, out: Callable[[str], None] = print) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=21)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = {name: score(name, args.repeats) for name in DETECTORS}
    caps = size_caps_cpu(args.repeats)
    report = {name: asdict(s) for name, s in results.items()} | {"size_caps_cpu_us": caps}
    out(json.dumps(report, indent=2) if args.json else _table(results, caps))
    return report


if __name__ == "__main__":
    main()
