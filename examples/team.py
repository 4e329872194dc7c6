"""plait.Team: agents side by side (``a & b``) and one after another (``a | b``).

Three reviewers read the same draft at once, their notes go to an editor, and the
reviews are printed as each reviewer finishes. Offline: the models are test models.

Run it:  python examples/team.py
"""

from __future__ import annotations

import anyio

import plait
from plait.testing import FunctionModel, Turn


def reviewer(aspect: str, seconds: float) -> plait.Agent[str]:
    """An agent whose (test) model takes ``seconds`` to review one aspect."""
    note = Turn(text=f"{aspect}: fine", delay=seconds)
    return plait.Agent(aspect, model=FunctionModel(lambda messages, params: note))


def edit(messages: list[plait.Message], params: plait.RequestParams) -> Turn:
    """The editor's (test) model: it gets the reviewers' notes as its task, as JSON."""
    notes = messages[-1].content
    return Turn(text=f"Edited after {notes.count(': fine')} reviews.")


async def main() -> None:
    style, facts, tone = reviewer("style", 0.3), reviewer("facts", 0.1), reviewer("tone", 0.2)
    editor = plait.Agent("editor", model=FunctionModel(edit))

    reviews = style & facts & tone  # one parallel team of three
    async with reviews.iter("Review the draft.") as finished:
        async for name, result in finished:  # as each reviewer finishes
            print(f"{name} finished: {result.output}")

    pipeline = reviews | editor  # the reviews, then the editor
    result = await pipeline.arun("Review the draft.")
    print("members:", ", ".join(f"{n} ({r.status})" for n, r in result.results.items()))
    print(f"{pipeline.name} -> {result.output} [{result.usage.requests} requests]")


if __name__ == "__main__":
    anyio.run(main)
