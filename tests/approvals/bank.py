"""A tiny bank for the approval tests, also run as a script by a second process.

``transfer`` needs approval and has a side effect: one line per call in the ledger file
named by ``BANK_LEDGER`` (so a test counts the calls across processes); with
``BANK_DIE_AFTER_TRANSFER`` set, the process kills itself (SIGKILL) right after it.
``balance`` needs no approval. ``clerk`` is the model: on the task ``"pay eve:500 bob:7"`` it calls
``transfer`` once per payee (call ids ``t0``, ``t1``, ...) and ``balance`` (id ``b``);
once the calls have results it answers with them, joined by ``"; "``.

As a script (stdout: one JSON line)::

    python bank.py pause STORE RUN_ID TASK [--sleep]   # the paused run's pending calls;
                                                       # --sleep: then wait to be killed
    python bank.py resume STORE RUN_ID DECISIONS       # {"t0": ["approve"],
                                                       #  "t1": ["deny", "why"],
                                                       #  "t2": ["edit", {...}]}
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from typing import Any

import plait
from plait import Message, ToolResultMessage, UserMessage
from plait.testing import FunctionModel, call


@plait.tool(requires_approval=True)
def transfer(amount: int, to: str) -> str:
    """Send money (one ledger line per call)."""
    with open(os.environ["BANK_LEDGER"], "a", encoding="utf-8") as ledger:
        ledger.write(f"{to} {amount}\n")
    if os.environ.get("BANK_DIE_AFTER_TRANSFER"):  # the process dies after the side effect
        os.kill(os.getpid(), signal.SIGKILL)
    return f"sent {amount} to {to}"


@plait.tool(idempotent=True)
def balance() -> int:
    """The account's balance."""
    return 1000


TOOLS = [transfer, balance]


def clerk(messages: list[Message], params: Any) -> Any:
    """Pay each ``name:amount`` of the task, then report what the tools said."""
    results = [m.content for m in messages if isinstance(m, ToolResultMessage)]
    if results:
        return "; ".join(str(r) for r in results)
    task = next(m.content for m in messages if isinstance(m, UserMessage))
    payees = [p.split(":") for p in str(task).split()[1:]]
    calls = [call("transfer", amount=int(a), to=n, id=f"t{i}") for i, (n, a) in enumerate(payees)]
    return [*calls, call("balance", id="b")]


def model() -> FunctionModel:
    return FunctionModel(clerk)


def ledger() -> list[str]:
    """The transfers made so far."""
    path = os.environ["BANK_LEDGER"]
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return f.read().splitlines()


def decisions(data: dict[str, list[Any]]) -> dict[str, plait.ApprovalDecision]:
    """``{"t0": ["approve"], "t1": ["deny", why], "t2": ["edit", args]}`` as decisions."""
    make: dict[str, Any] = {"approve": plait.approve, "deny": plait.deny, "edit": plait.edit}
    return {call_id: make[kind](*rest) for call_id, (kind, *rest) in data.items()}


def _summary(result: plait.Result[Any]) -> dict[str, Any]:
    return {
        "status": result.status,
        "output": result.output,
        "pending": [r.call_id for r in result.pending],
    }


def main(argv: list[str]) -> int:
    action, store, run_id, arg = argv[:4]
    if action == "pause":
        result = plait.run(
            arg, model=model(), tools=TOOLS, approve="pause", store=store, run_id=run_id
        )
        print(json.dumps(_summary(result)), flush=True)
        if "--sleep" in argv:
            time.sleep(600)  # the test kills this process with SIGKILL
        return 0
    try:
        result = plait.resume(
            run_id, store=store, model=model(), tools=TOOLS, approvals=decisions(json.loads(arg))
        )
    except plait.ApprovalError as exc:
        print(json.dumps({"error": str(exc)}), flush=True)
        return 2
    print(json.dumps(_summary(result)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
