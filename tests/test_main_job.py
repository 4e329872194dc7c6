"""The README's main job: a real agent on the embedded local model ends with a validated
result (the real SmolLM2 model through llama.cpp, one thread, offline)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "OPENAI_"))}


@pytest.mark.timeout(600)  # a real model in a subprocess: slow on a loaded machine
def test_weather_agent_example_ends_with_a_validated_forecast() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "weather_agent.py")],
        capture_output=True,
        text=True,
        env=_env(),
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "▶ weather on local:smollm2, tools: get_weather" in out
    assert "→ get_weather(" in out and "● complete: success" in out
    forecast = json.loads(out.split("validated Forecast:", 1)[1])
    assert set(forecast) == {"city", "temperature_c", "sky"}
    # right, not only valid: what get_weather said, on any seed (tests/bench/bench_readme.py)
    assert "paris" in forecast["city"].lower() and forecast["sky"] == "sunny"


@pytest.mark.timeout(600)
def test_plait_run_on_the_local_model_streams_and_validates(tmp_path: Path) -> None:
    (tmp_path / "weather.py").write_text(
        "from typing import Literal\n"
        "from pydantic import BaseModel\n"
        "def get_weather(city: str) -> str:\n"
        '    """Get the current weather for a city."""\n'
        "    return f'Sunny, 21 degrees C in {city}'\n"
        "class Forecast(BaseModel):\n"
        "    city: str\n"
        "    temperature_c: float\n"
        "    sky: Literal['sunny', 'cloudy', 'rainy']\n"
    )
    # no configuration: the defaults a user gets (plait-local seeds its sampler)
    code = "import sys; from plait._cli import main; sys.exit(main())"
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            code,
            "run",
            "What is the weather in Paris?",
            "--json",
            "--tool",
            "weather.py:get_weather",
            "--output",
            "weather.py:Forecast",
        ],
        capture_output=True,
        text=True,
        env=_env(),
        cwd=tmp_path,
        timeout=300,
        check=False,
    )
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    final = lines[-1]["result"]
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert lines[0]["data"]["model"] == "local:smollm2"  # the default when no key is set
    assert final["status"] == "success"
    assert set(final["output"]) == {"city", "temperature_c", "sky"}
    assert any(e["kind"] == "tool.end" and e["data"]["ok"] for e in lines[:-1])
