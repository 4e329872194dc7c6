"""plait.Job: a predefined task (tools it needs, output, checks) any agent with those
tools can run; an agent without them is refused before any model call.

Run it:  python examples/jobs.py
"""

from __future__ import annotations

from pydantic import BaseModel

import plait
from plait.testing import ScriptedModel, call, complete


class Summary(BaseModel):
    title: str
    words: int


def fetch_page(url: str) -> str:
    """Fetch a web page's text."""
    return "Plait is a small run kernel for AI agents."


def enough_words(c: plait.Completion) -> bool | str:
    """A verifier: a string is the reason it failed (the model is told and tries again)."""
    return True if c.result.words > 3 else "count the words again"


SUMMARISE = plait.Job(
    "Summarise https://plait.dev: a title and the number of words on the page.",
    output=Summary,
    required_tools=["fetch_page"],
    verifiers=[enough_words],
    name="summarise",
)


def main() -> None:
    # an agent without the tool: refused, nothing run
    poet = plait.Agent("poet", model=ScriptedModel([]), instructions="Write verse.")
    try:
        plait.run_job(SUMMARISE, agent=poet)
    except plait.JobRefused as exc:
        print("refused:", exc.missing, "|", exc)

    # an agent with it: the job's output type and verifier apply to the run
    model = ScriptedModel(
        [
            call("fetch_page", url="https://plait.dev"),
            complete(result={"title": "Plait", "words": 2}),  # fails the verifier
            complete(result={"title": "Plait", "words": 9}),
        ]
    )
    reader = plait.Agent("reader", model=model, tools=[fetch_page])
    result = plait.run_job(SUMMARISE, agent=reader)
    print(f"reader: {result.output!r} status={result.status} verified={result.verified}")


if __name__ == "__main__":
    main()
