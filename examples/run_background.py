"""plait.start: a run in the background, watched through its handle, then cancelled.

Run it:  python examples/run_background.py
"""

from __future__ import annotations

import anyio

import plait
from plait.testing import ScriptedModel, call


async def crawl(url: str) -> str:
    """Crawl a site (slow)."""
    await anyio.sleep(30)
    return "lots of pages"


async def main() -> None:
    # a run that finishes
    quick = plait.start("Say hi", model=ScriptedModel(["hi!"]))
    print("quick:", (await quick.wait()).output, quick.status)

    # a run that is stopped while its tool is working
    model = ScriptedModel([call("crawl", url="https://example.org"), "done"])
    handle = plait.start("Crawl example.org", model=model, tools=[crawl])
    async for event in handle.events:  # follow the events live
        print("event:", event.kind)
        if event.kind == "tool.start":
            handle.cancel("now")
    result = await handle.wait()
    print("status:", handle.status, "| last message:", result.messages[-1].content)


if __name__ == "__main__":
    anyio.run(main)
