"""Prompt-injection heuristics, for tool results above all (indirect injection).

A web page, an e-mail or a file a tool returns may carry text written for the model:
"ignore your previous instructions", a spoofed system turn, instructions hidden in an
HTML comment or in invisible Unicode. Each signal has a weight; a text is reported when
the weights of the distinct signals it shows reach the threshold (1.0 by default: one
strong signal, or two weak ones). Weak signals are those ordinary text also shows now
and then ("System:" at the start of a line of a log, "you are now ...").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from .findings import Finding

__all__ = ["SIGNALS", "InjectionDetector", "Signal"]


@dataclass(frozen=True, slots=True)
class Signal:
    """One heuristic: the finding kind it reports, its pattern and its weight."""

    kind: str
    pattern: re.Pattern[str]
    weight: float = 1.0


def _p(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I | re.M)


_TARGETS = r"(?:instructions?|prompts?|rules|directions|directives|guidelines|guardrails|context)"
SIGNALS: tuple[Signal, ...] = (
    Signal(
        "override_instructions",
        _p(
            r"\b(?:ignore|disregard|forget|override|bypass|skip)\b[^.\n]{0,40}?"
            r"\b(?:previous|prior|above|earlier|preceding|all|any|your|the|these|system)\b"
            rf"[^.\n]{{0,25}}?\b{_TARGETS}\b"
        ),
    ),
    Signal(
        "new_instructions",
        _p(r"\b(?:new|updated|real|actual|revised)\s+(?:system\s+)?(?:instructions|prompt)\s*:"),
    ),
    Signal(
        "role_markup",
        _p(
            r"<\|(?:im_start|im_end|system|endoftext)\|>|\[/?(?:INST|SYS)\]|<</?SYS>>|"
            r"</?(?:system|system_prompt|instructions)>|^#{2,}\s*(?:system|instruction)s?\b"
        ),
    ),
    Signal("role_line", _p(r"^\s*(?:system|assistant|developer)\s*:\s*\S"), 0.5),
    Signal(
        "system_prompt_probe",
        _p(
            r"\b(?:reveal|print|repeat|show|output|leak)\b[^.\n]{0,30}\b(?:your|the)\s+"
            r"(?:system\s+prompt|initial\s+instructions|hidden\s+instructions)"
        ),
    ),
    Signal(
        "addressed_to_model",
        _p(
            r"\b(?:note|message|instructions?|attention|important)\s+(?:to|for)\s+(?:the\s+)?"
            r"(?:ai|llm|assistant|agent|language model|chatbot)s?\b|"
            r"\bif you are an?\s+(?:ai|llm|assistant|agent|language model)\b"
        ),
    ),
    Signal(
        "conceal_from_user",
        _p(
            r"\b(?:do not|don't|never)\s+(?:tell|inform|mention|reveal|show)\b[^.\n]{0,20}"
            r"\bthe user\b|\bwithout\s+(?:telling|informing|notifying)\s+the\s+user\b"
        ),
    ),
    Signal(
        "exfiltrate",
        _p(
            r"\b(?:send|post|forward|upload|email|exfiltrate|transmit)\b[^.\n]{0,60}?"
            r"\b(?:api[ _-]?keys?|credentials|passwords?|secrets?|tokens?|system prompt|"
            r"conversation|chat history)\b[^.\n]{0,40}?\b(?:to|at)\b"
        ),
    ),
    Signal(
        "persona_switch",
        _p(
            r"\b(?:you are now|from now on,? you (?:are|will|must))\b[^.\n]{0,40}?"
            r"\b(?:mode|persona|character|unrestricted|jailbroken|DAN|no (?:rules|limits))\b|"
            r"\b(?:developer|god|jailbreak|DAN)\s+mode\b"
        ),
    ),
    Signal("you_are_now", _p(r"\byou are now\b|\bfrom now on,? you\b"), 0.5),
    Signal(
        "hidden_comment",
        _p(
            r"<!--(?:(?!-->)[\s\S]){0,400}?\b(?:ignore|instructions?|assistant|AI|system|"
            r"prompt)\b(?:(?!-->)[\s\S]){0,400}?-->"
        ),
    ),
    Signal(
        "invisible_text", re.compile("[\U000e0000-\U000e007f]+|[\u200b-\u200f\u2060\ufeff]{3,}")
    ),
)


class InjectionDetector:
    """Reports every signal's matches once the distinct signals' weights reach
    ``threshold``; ``extra`` patterns (the settings') are strong signals."""

    def __init__(self, threshold: float = 1.0, extra: Sequence[str] = ()) -> None:
        self.threshold = threshold
        added = tuple(Signal(f"custom_{i}", _p(p)) for i, p in enumerate(extra, 1))
        self.signals = SIGNALS + added

    def find(self, text: str) -> list[Finding]:
        """The matches of the signals ``text`` shows, or ``[]`` below the threshold."""
        found: list[Finding] = []
        score = 0.0
        for signal in self.signals:
            matches = [
                Finding(signal.kind, m.start(), m.end()) for m in signal.pattern.finditer(text)
            ]
            if matches:
                score += signal.weight
                found.extend(matches)
        if score < self.threshold:
            return []
        return sorted(found, key=lambda f: (f.start, f.end))
