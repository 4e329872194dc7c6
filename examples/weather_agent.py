"""plait's main job: a real agent on the embedded local model, offline, on the CPU.

The agent has one tool (``get_weather``) and a typed output (``Forecast``). The local
model (SmolLM2-135M, run by llama.cpp) decides to call the tool, reads its result and
finishes through the completion tool; constrained decoding keeps every call valid, and
plait validates the result against ``Forecast``. Events are printed as they happen.

Run it:  python examples/weather_agent.py      (or: make demo)
Another model:  PLAIT_MODEL=openai:gpt-4o-mini python examples/weather_agent.py
"""

from __future__ import annotations

import os
import sys
from typing import Literal

import anyio
from pydantic import BaseModel

import plait


class Forecast(BaseModel):
    city: str
    temperature_c: float
    sky: Literal["sunny", "cloudy", "rainy"]


def get_weather(city: str) -> str:
    """Get the current weather for a city.

    Args:
        city: the name of the city
    """
    return f"Sunny, 21 degrees C in {city}"


agent = plait.Agent(
    name="weather",
    model=os.environ.get("PLAIT_MODEL", "local:smollm2"),
    instructions=(
        "Use get_weather, then complete. The result's city is the city the user asked about."
    ),
    tools=[get_weather],
    output=Forecast,
    # a 135M model repeats itself: answer a repeated identical call from history
    limits=plait.Limits(turns=8, repeated_tool_calls=1),
    # look the weather up before answering: a tool_choice naming a tool holds until that
    # tool is called (a 135M model otherwise sometimes answers from its own guesses)
    settings=plait.ModelSettings(tool_choice="get_weather"),
)


def show(event: plait.Event) -> None:
    d = event.data
    if event.kind == "run.start":
        print(f"▶ {event.agent} on {d['model']}, tools: {', '.join(d['tools'])}")
    elif event.kind == "model.request":
        print(f"  … asking the model (turn {d['turn']})", flush=True)
    elif event.kind == "tool.start":
        print(f"  → {d['name']}({d['arguments']})")
    elif event.kind == "tool.end":
        print(f"  ← {d['result'] if d['ok'] else 'failed: ' + str(d['error'])}")
    elif event.kind == "tool.skipped":
        print(f"  ↺ {d['name']} not run again: repeated call")
    elif event.kind == "completion":
        print(f"  ● complete: {d['status']}")


async def main() -> int:
    async with agent.stream("What is the weather in Paris?") as run:
        async for event in run:
            show(event)
        result = await run.result()
    print(f"status: {result.status} after {result.turns} turns, {result.duration:.1f}s")
    if isinstance(result.output, Forecast):
        print("validated Forecast:", result.output.model_dump_json())
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(anyio.run(main))
