"""plait.iter: drive a run one step at a time (model turn, tool batch, checks, end).

Run it:  python examples/run_iter.py
"""

from __future__ import annotations

import anyio

import plait
from plait.testing import ScriptedModel, call


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


async def main() -> None:
    model = ScriptedModel([call("add", a=20, b=22), "The answer is 42."])
    async with plait.iter("What is 20 + 22?", model=model, tools=[add]) as steps:
        async for step in steps:
            detail = ""
            if step.response is not None:
                msg = step.response.message
                detail = ", ".join(c.name for c in msg.tool_calls) or msg.text
            elif step.tool_results:
                detail = ", ".join(r.content for r in step.tool_results)
            print(f"{step.kind:7} turn={step.turn} {detail}")
    assert steps.result is not None
    print("output:", steps.result.output)


if __name__ == "__main__":
    anyio.run(main)
