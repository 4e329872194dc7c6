"""The objects the plugin registers. Their async methods do the work."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import plait


class WordCount:
    """A tool: counts the words of a text."""

    name = "word_count"
    description = "Count the words in a text."
    parameters: Mapping[str, Any] = {
        "type": "object",
        "properties": {"text": {"type": "string", "description": "the text to count"}},
        "required": ["text"],
        "additionalProperties": False,
    }
    timeout: float | None = 5.0
    retries: int | None = 0
    idempotent = True
    requires_approval = False
    sequential = False

    def __init__(self, max_chars: int = 10_000) -> None:
        self.max_chars = max_chars

    async def call(self, args: Mapping[str, Any], ctx: plait.Context[Any]) -> int:
        text = args.get("text")
        if not isinstance(text, str):
            raise plait.Retry("`text` must be a string")
        if len(text) > self.max_chars:
            raise plait.Retry(f"`text` is longer than {self.max_chars} characters")
        return len(text.split())


class NonEmptySummary:
    """A verifier: a completion must come with a summary."""

    name = "non_empty_summary"

    async def verify(self, completion: plait.Completion, ctx: plait.Context[Any]) -> plait.Verdict:
        if completion.summary.strip():
            return plait.Verdict(passed=True, verifier=self.name)
        return plait.Verdict(passed=False, reason="the summary is empty", verifier=self.name)
