"""plait.repeat: a task run again and again in the background, with stats; and
plait.run_each: several prompts in sequence on one conversation.

Run it:  python examples/repeat.py
"""

from __future__ import annotations

import time
from typing import Any

import plait
from plait.testing import FunctionModel, ScriptedModel, Turn


def sensor_model() -> FunctionModel:
    """Stands in for an LLM reading a sensor: the third reading fails."""
    readings = iter(["21.0", "21.4", None, "22.1"])

    def answer(messages: list[Any], params: Any) -> Turn:
        value = next(readings)
        if value is None:
            return Turn(error=RuntimeError("sensor offline"))
        return Turn(text=f"{value} °C")

    return FunctionModel(answer)


def main() -> None:
    # four runs, 50 ms apart (end to start); a failing run is counted and it goes on
    poller = plait.repeat("Read the sensor.", model=sensor_model(), count=4, interval=0.05)
    stats = poller.join(timeout=10)  # or, in async code: await poller.wait()
    print(f"poller: runs={stats.runs} successes={stats.successes} failures={stats.failures}")
    print("readings:", [r.output for r in poller.results], "| requests:", stats.usage.requests)

    # until stopped: stop() lets the run in flight finish (stop(now=True) cancels it)
    ticker = plait.repeat("Tick.", model=FunctionModel(lambda ms, p: "tick"), interval=0.01)
    while ticker.stats.runs < 3:
        time.sleep(0.01)
    ticker.stop()
    final = ticker.join(timeout=5)
    print("ticker:", ticker.reason, "| at least 3 runs:", final.runs >= 3)

    # several prompts on one conversation: each run continues the one before
    guide = plait.Agent(
        "guide",
        model=ScriptedModel(["Paris.", "About 2.1 million people."]),
        instructions="Answer in a few words.",
    )
    for result in plait.run_each(["Capital of France?", "How many live there?"], agent=guide):
        print(f"{result.messages[-2].content} -> {result.output}")


if __name__ == "__main__":
    main()
