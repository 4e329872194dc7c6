"""plait.Agent: options bundled once; per-run options win; settings merge agent < run.

Run it:  python examples/agent.py
"""

from __future__ import annotations

import anyio

import plait
from plait.testing import ScriptedModel, call


def convert(amount: float, rate: float) -> float:
    """Convert an amount with an exchange rate."""
    return round(amount * rate, 2)


async def main() -> None:
    model = ScriptedModel([call("convert", amount=10, rate=1.1), "10 EUR is 11 USD.", "Bye!"])
    agent = plait.Agent(
        "cashier",
        model=model,
        instructions="You convert currencies. Be brief.",
        tools=[convert],
        settings=plait.ModelSettings(temperature=0.0),
        limits=plait.Limits(turns=6),
    )
    async with agent:  # closes the agent's kernel at the end
        first = await agent.arun("10 EUR in USD?")
        print(f"{first.agent}: {first.output}")
        # per-run options win; settings merge field by field
        second = await agent.arun(
            "Say bye", message_history=first.messages, settings=plait.ModelSettings(seed=1)
        )
        print(f"{second.agent}: {second.output}")
        print("settings sent:", model.requests[-1].params.settings.model_dump(exclude_unset=True))


if __name__ == "__main__":
    anyio.run(main)
