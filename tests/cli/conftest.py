"""A fake-installed provider plugin (``scripted:NAME``) and a tools module for CLI tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

PROVIDER = """
import plait
from plait.testing import ScriptedModel, Turn, call, complete

DONE = {"city": "Paris", "temperature_c": 21, "sky": "sunny"}
SCRIPTS = {
    "weather": lambda: [call("get_weather", city="Paris"), complete(result=DONE, summary="sunny")],
    "text": lambda: ["Hello from a script."],
    "fail": lambda: [complete(status="failed", summary="cannot do that")],
    "loop": lambda: [call("get_weather", city="Paris")] * 5,
    "bad-output": lambda: [complete(result={"city": 1})] * 6,
}

class Scripted:
    name = "scripted"
    def model(self, model_id, **options):
        return ScriptedModel(SCRIPTS[model_id](), chunk_size=4)
    def models(self):
        return sorted(SCRIPTS)

@plait.hookimpl
def plait_register_providers():
    return [Scripted()]
"""

TOOLS = '''
def get_weather(city: str) -> str:
    """The current weather in a city."""
    return f"Sunny, 21C in {city}"
'''

SCHEMA = (
    '{"title": "Forecast", "type": "object", "properties": {"city": {"type": "string"}, '
    '"temperature_c": {"type": "number"}, "sky": {"enum": ["sunny", "cloudy", "rainy"]}}, '
    '"required": ["city", "temperature_c", "sky"]}'
)


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``plait`` in a fresh interpreter in ``tmp_path`` with the scripted provider."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "scripted_provider.py").write_text(PROVIDER)
    (tmp_path / "weather_tools.py").write_text(TOOLS)
    (tmp_path / "forecast.json").write_text(SCHEMA)
    info = site / "scripted_provider-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: scripted-provider\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[plait]\nscripted = scripted_provider\n")

    def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("PLAIT_", "OPENAI_"))}
        environ["PYTHONPATH"] = os.pathsep.join([str(site), str(tmp_path)])
        environ["PLAIT_STORE"] = f"sqlite:///{tmp_path / 'plait.db'}"
        environ.update(env or {})
        code = "import sys; from plait._cli import main; sys.exit(main())"
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            capture_output=True,
            text=True,
            env=environ,
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    return run
