"""plait.run: a synchronous run with a tool, offline (a scripted model stands in for an LLM).

Run it:  python examples/run_sync.py
"""

from __future__ import annotations

import plait
from plait.testing import ScriptedModel, call


def get_weather(city: str) -> str:
    """Current weather for a city.

    Args:
        city: the city name, e.g. "Paris"
    """
    return f"{city}: 21°C, sunny"


def main() -> None:
    # A real run would pass model="openai:gpt-4o-mini"; the script plays the model's part.
    model = ScriptedModel([call("get_weather", city="Paris"), "It is 21°C and sunny in Paris."])
    result = plait.run("What's the weather in Paris?", model=model, tools=[get_weather])
    print(result.output)
    print(f"status={result.status} stop_reason={result.stop_reason} turns={result.turns}")
    print(f"usage: {result.usage.requests} requests, {result.usage.tool_calls} tool call(s)")
    assert result.status == "success"


if __name__ == "__main__":
    main()
