"""A fake-installed provider plugin (``scripted:NAME``), a tools module, and ways to run
``plait`` in a fresh interpreter: with pipes (``cli``) or on a pseudo-terminal (``tty``).

Every test here keeps plait's store, logs and data folder under ``tmp_path``
(``PLAIT_STORE``, ``XDG_DATA_HOME``), never in the user's home.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PROVIDER = """
import json

import plait
from plait.testing import FunctionModel, ScriptedModel, Turn, call, complete

DONE = {"city": "Paris", "temperature_c": 21, "sky": "sunny"}
SCRIPTS = {
    "weather": lambda: [call("get_weather", city="Paris"), complete(result=DONE, summary="sunny")],
    "text": lambda: ["Hello from a script."],
    "fail": lambda: [complete(status="failed", summary="cannot do that")],
    "loop": lambda: [call("get_weather", city="Paris")] * 5,
    "bad-output": lambda: [complete(result={"city": 1})] * 6,
    "slow": lambda: [Turn(text="Done.", delay=0.5)],
    "broken-tool": lambda: [call("explode"), "It failed."],
}


class Probe(FunctionModel):
    \"\"\"Answers with what it was given: its options, the settings, streamed or not, and
    the user messages it saw (JSON).\"\"\"

    def __init__(self, options):
        super().__init__(self._probe, chunk_size=8, name="scripted:probe")
        self.options, self.mode = options, ""

    async def request(self, messages, params):
        self.mode = "request"
        return await super().request(messages, params)

    async def stream(self, messages, params):
        self.mode = "stream"
        async for event in super().stream(messages, params):
            yield event

    def _probe(self, messages, params):
        settings = {k: getattr(params.settings, k) for k in ("temperature", "max_tokens", "stop")}
        users = [m.content for m in messages if m.role == "user"]
        seen = {"options": self.options, "settings": settings, "mode": self.mode, "users": users}
        return json.dumps(seen, sort_keys=True)


class Scripted:
    name = "scripted"
    def model(self, model_id, **options):
        if model_id == "probe":
            return Probe(options)
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


def explode() -> str:
    """Always fails."""
    raise RuntimeError("boom")
'''

SCHEMA = (
    '{"title": "Forecast", "type": "object", "properties": {"city": {"type": "string"}, '
    '"temperature_c": {"type": "number"}, "sky": {"enum": ["sunny", "cloudy", "rainy"]}}, '
    '"required": ["city", "temperature_c", "sky"]}'
)

CODE = "import sys; from plait._cli import main; sys.exit(main())"


@pytest.fixture(autouse=True)
def _private_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Logs, threads and the log switch live under tmp_path, never in the user's home."""
    for name in [n for n in os.environ if n.startswith(("PLAIT_", "OPENAI_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("PLAIT_STORE", f"sqlite:///{tmp_path / 'plait.db'}")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))


@pytest.fixture
def plait_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a ``plait`` process: the scripted provider, a private store."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "scripted_provider.py").write_text(PROVIDER)
    (tmp_path / "weather_tools.py").write_text(TOOLS)
    (tmp_path / "forecast.json").write_text(SCHEMA)
    info = site / "scripted_provider-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: scripted-provider\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[plait]\nscripted = scripted_provider\n")
    environ = dict(os.environ)  # the autouse fixture made PLAIT_STORE / XDG_DATA_HOME private
    environ["PYTHONPATH"] = os.pathsep.join([str(site), str(tmp_path)])
    return environ


@pytest.fixture
def cli(
    tmp_path: Path, plait_env: dict[str, str]
) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run ``plait`` in a fresh interpreter in ``tmp_path``; stdout and stderr are pipes,
    stdin is ``input`` piped in (``/dev/null`` when ``None``)."""

    def run(
        *args: str, env: dict[str, str] | None = None, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", CODE, *args],
            capture_output=True,
            text=True,
            input=input,
            stdin=subprocess.DEVNULL if input is None else None,
            env={**plait_env, **(env or {})},
            cwd=tmp_path,
            timeout=120,
            check=False,
        )

    return run


class Terminal:
    """``plait`` on a pseudo-terminal: ``expect`` text (bounded wait), ``send`` a line."""

    def __init__(self, args: tuple[str, ...], env: dict[str, str], cwd: Path) -> None:
        import pty

        self.fd, child = pty.openpty()
        self.proc = subprocess.Popen(
            [sys.executable, "-c", CODE, *args],
            stdin=child, stdout=child, stderr=child, env={**env, "TERM": "dumb"}, cwd=cwd,
        )  # fmt: skip
        os.close(child)
        self.raw = ""

    @property
    def text(self) -> str:
        """Everything shown so far, with the terminal's ``\\r\\n`` as ``\\n``."""
        return self.raw.replace("\r\n", "\n")

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.fd], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.fd, 4096)
        except OSError:  # EIO: the process closed the terminal
            chunk = b""
        self.raw += chunk.decode(errors="replace")
        return bool(chunk)

    def expect(self, text: str, timeout: float = 60) -> None:
        """Wait until ``text`` has been shown (fails after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        while text not in self.text:
            left = deadline - time.monotonic()
            assert left > 0, f"{text!r} not shown in {timeout}s; shown: {self.text!r}"
            assert self._read(left), f"ended before showing {text!r}: {self.text!r}"

    def send(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\n")

    def wait(self, timeout: float = 60) -> int:
        """Read to the end and return the exit status."""
        deadline = time.monotonic() + timeout
        while self._read(max(deadline - time.monotonic(), 0.01)):
            assert time.monotonic() < deadline, f"still running: {self.text!r}"
        return self.proc.wait(timeout=max(deadline - time.monotonic(), 1))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        os.close(self.fd)


@pytest.fixture
def tty(tmp_path: Path, plait_env: dict[str, str]) -> Iterator[Callable[..., Terminal]]:
    """``tty(*args)``: ``plait`` started on a pseudo-terminal (closed after the test)."""
    if sys.platform == "win32":
        pytest.skip("pseudo-terminals are POSIX")
    started: list[Terminal] = []

    def start(*args: str) -> Terminal:
        started.append(Terminal(args, plait_env, tmp_path))
        return started[-1]

    yield start
    for terminal in started:
        terminal.close()
