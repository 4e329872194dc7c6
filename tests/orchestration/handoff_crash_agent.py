"""The handoff run of the kill -9 test: run as a script (killed at random), or imported
to resume it. ``python handoff_crash_agent.py STORE_URL SIDE_FILE`` prints ``ready``,
then runs triage → billing; both agents' tools append to SIDE_FILE (a side effect that
must never happen twice), and billing answers at the end."""

from __future__ import annotations

import sys
import time
from typing import Any

import anyio

import plait
from plait.testing import FunctionModel, call, make_kernel

RUN_ID = "handoff-crash"

# what the model does at each turn, by the number of answers so far in the history
TURNS: list[Any] = [
    [call("note", line="triage-1", id="n1")],
    [call("note", line="triage-2", id="n2"), call("transfer_to_billing", id="h1")],
    [call("charge", line="billing-1", id="c1")],
    [call("charge", line="billing-2", id="c2")],
    "billed",
]


def model() -> FunctionModel:
    def turn(messages: list[Any], params: Any) -> Any:
        return TURNS[sum(1 for m in messages if m.role == "assistant")]

    return FunctionModel(turn)


def agents(side_file: str, kernel: plait.Kernel) -> plait.Agent[str]:
    def appender(name: str) -> Any:
        @plait.tool(name=name, idempotent=False)
        def write(ctx: plait.Context[Any], line: str) -> str:
            """Append a line (never twice)."""
            time.sleep(0.01)
            with open(side_file, "a") as f:
                f.write(f"{ctx.tool_call_id} {line}\n")
            time.sleep(0.01)
            return "ok"

        return write

    billing = plait.Agent("billing", instructions="Bill.", tools=[appender("charge")],
                          kernel=kernel)  # fmt: skip
    return plait.Agent("triage", instructions="Route.", tools=[appender("note")],
                       handoffs=[billing], kernel=kernel)  # fmt: skip


async def main(store: str, side_file: str) -> None:
    kernel = make_kernel()
    triage = agents(side_file, kernel)
    print("ready", flush=True)
    result = await triage.arun("bill me", model=model(), store=store, run_id=RUN_ID)
    print("finished", result.last_agent, flush=True)


if __name__ == "__main__":
    anyio.run(main, sys.argv[1], sys.argv[2])
