"""plait.stream: text as it arrives, partial structured output, and the sync form.

Run it:  python examples/run_stream.py
"""

from __future__ import annotations

import anyio
from pydantic import BaseModel

import plait
from plait.testing import ScriptedModel, Turn, complete


class Haiku(BaseModel):
    title: str
    lines: list[str]


async def stream_text() -> None:
    model = ScriptedModel(["Streaming, one chunk at a time."], chunk_size=6)
    async with plait.stream("Say something", model=model) as s:
        async for delta in s.text():
            print(delta, end="|", flush=True)
        print()
        result = await s.result()
    print("final:", result.output)


async def stream_structured() -> None:
    done = complete(result={"title": "Dawn", "lines": ["cold light", "on the", "river"]})
    model = ScriptedModel([Turn(calls=(done,), delay=0.001)], chunk_size=10)
    async with plait.stream("Write a haiku", model=model, output=Haiku) as s:
        async for event in s:
            if event.kind == "tool_call.delta" and (partial := s.partial()) is not None:
                print("partial:", partial)
        result = await s.result()
    print("final:", result.output)


def stream_sync() -> None:
    model = ScriptedModel(["no event loop needed"], chunk_size=8)
    with plait.stream("Hi", model=model) as s:
        print("sync:", "".join(s.text()))
        print("status:", s.result().status)


if __name__ == "__main__":
    anyio.run(stream_text)
    anyio.run(stream_structured)
    stream_sync()
