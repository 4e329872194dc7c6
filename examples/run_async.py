"""plait.arun: an async run; several runs at once share one event loop.

Nobody watches these runs (no handler, no stream), so each turn is one unstreamed
request: the cheapest way to ask. ``ModelSettings(stream=True)`` would stream every turn
anyway, which keeps the first-event deadline (stall detection) on unwatched runs.

Run it:  python examples/run_async.py
"""

from __future__ import annotations

import anyio

import plait
from plait.testing import ScriptedModel, call


async def lookup_price(item: str) -> float:
    """Price of an item in euros (async tools run on the event loop)."""
    await anyio.sleep(0.01)
    return {"apple": 0.5, "pear": 0.7}.get(item, 1.0)


async def ask(item: str) -> str:
    model = ScriptedModel([call("lookup_price", item=item), f"A {item} costs what the tool said."])
    result = await plait.arun(
        f"How much is a {item}?",
        model=model,
        tools=[lookup_price],
        settings=plait.ModelSettings(stream=item == "pear"),  # one of each, same result
    )
    return f"{item}: {result.messages[2].content} € ({result.status})"


async def main() -> None:
    lines: list[str] = []

    async def one(item: str) -> None:
        lines.append(await ask(item))

    async with anyio.create_task_group() as tg:
        for item in ("apple", "pear"):
            tg.start_soon(one, item)
    for line in sorted(lines):
        print(line)


if __name__ == "__main__":
    anyio.run(main)
