"""Threads and resume, offline: a conversation continued across two runs, then a run that
is interrupted half-way and is resumed without repeating its side effect.

Run it:  python examples/threads.py
"""

from __future__ import annotations

import tempfile

import anyio

import plait
from plait.testing import ScriptedModel, call

SENT: list[str] = []
TICKETS: list[str] = []


@plait.tool(idempotent=False)  # a side effect: a resumed run never repeats a recorded call
def send_email(to: str, body: str) -> str:
    """Send an email.

    Args:
        to: the address
        body: the text
    """
    SENT.append(to)
    return f"sent to {to}"


@plait.tool(idempotent=True)  # safe to repeat: a resumed run calls it again if unsure
async def close_ticket(ticket: str) -> str:
    """Mark a support ticket as closed."""
    if not TICKETS:  # the first attempt: Ctrl-C while this tool runs
        TICKETS.append("attempted")
        raise KeyboardInterrupt  # (a tool's own exceptions, even SystemExit, are contained)
    TICKETS.append(ticket)
    return f"{ticket} closed"


async def main(folder: str) -> None:
    store = f"sqlite:///{folder}/plait.db"  # default: a file under your data folder

    # 1. A thread: the second run starts from the first one's messages.
    first = ScriptedModel(["Sorry! I will look into order 1234."])
    await plait.arun("My order 1234 is late.", model=first, thread="support-42", store=store)
    model = ScriptedModel(["Your order number is 1234."])
    second = await plait.arun(
        "What was my order number?", model=model, thread="support-42", store=store
    )
    print(f"the model saw {len(model.requests[0].messages)} messages")
    print(f"thread {second.thread_id}: {second.output}")

    # 2. A run interrupted half-way: the email went out, then Ctrl-C while the ticket was
    #    being closed. Its steps are recorded and it is marked `cancelled`, resumable (a
    #    process killed outright leaves it `running`, resumable the same way).
    script = [
        call("send_email", to="ada@example.com", body="Your order ships today.", id="e1"),
        call("close_ticket", ticket="T-1234", id="t1"),
        "Done: Ada knows her order ships today, and the ticket is closed.",
    ]
    try:
        await plait.arun(
            "Tell Ada her order ships today, then close her ticket.",
            model=ScriptedModel(script),
            tools=[send_email, close_ticket],
            thread="support-42",
            store=store,
            run_id="email-1",
        )
    except KeyboardInterrupt:
        print("interrupted")

    # 3. Resume it: the recorded email is not sent again, the idempotent tool is called
    #    again, and the model is only asked for the turn it had not answered yet.
    #    Tools are passed again (functions are not stored); so is a model object.
    result = await plait.aresume(
        "email-1",
        store=store,
        model=ScriptedModel(script[2:]),
        tools=[send_email, close_ticket],
    )
    print(f"resumed: {result.status}: {result.output}")
    print(f"emails sent: {len(SENT)}, tickets closed: {TICKETS[1:]}")
    history = await plait.Thread("support-42", store=store).amessages()
    print(f"thread support-42 holds {len(history)} messages")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        anyio.run(main, tmp)
