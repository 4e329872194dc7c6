"""Structured output: the completion tool, validation feedback, verifiers and guardrails.

Run it:  python examples/structured_output.py
"""

from __future__ import annotations

from pydantic import BaseModel

import plait
from plait.testing import ScriptedModel, complete


class Invoice(BaseModel):
    customer: str
    total: float


def total_is_positive(c: plait.Completion) -> bool | str:
    """A verifier: a string is the reason it failed."""
    return True if c.result.total > 0 else "the total must be positive"


@plait.guardrail(stage="output")
def no_test_customers(invoice: Invoice) -> bool | str:
    return True if invoice.customer != "test" else "test customers are not billed"


def main() -> None:
    model = ScriptedModel(
        [
            complete(result={"customer": "ACME", "total": "a lot"}),  # invalid: told to the model
            complete(result={"customer": "ACME", "total": -5}),  # valid, but fails verification
            complete(result={"customer": "ACME", "total": 120.0}, summary="Billed ACME."),
        ]
    )
    result = plait.run(
        "Bill ACME for 120",
        model=model,
        output=Invoice,
        verifiers=[total_is_positive],
        guardrails=[no_test_customers],
    )
    print(result.output)
    print(f"status={result.status} verified={result.verified} turns={result.turns}")
    print("summary:", result.completion.summary if result.completion else None)
    for message in result.messages:
        if message.role == "tool" and message.is_error:
            print("told the model:", message.content.splitlines()[0])


if __name__ == "__main__":
    main()
