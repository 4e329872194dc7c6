"""Helpers to make plugin modules and installed-looking distributions on disk."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest


@pytest.fixture
def plugin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A folder on ``sys.path`` for throwaway plugin modules."""
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


@pytest.fixture
def write_module(plugin_dir: Path) -> Callable[[str, str], str]:
    """``write_module("name", source)`` writes ``name.py`` and returns the module name."""

    def write(name: str, source: str) -> str:
        (plugin_dir / f"{name}.py").write_text(textwrap.dedent(source))
        return name

    return write


def install_distribution(
    site: Path, dist: str, version: str, entry_points: Mapping[str, str]
) -> None:
    """Write a ``.dist-info`` so ``importlib.metadata`` sees ``dist`` as installed."""
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = ["[plait]", *(f"{name} = {value}" for name, value in entry_points.items())]
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")


def run_plait(
    site: Path, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``plait`` CLI in a fresh interpreter with ``site`` on its path."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    environ["PYTHONPATH"] = os.pathsep.join([str(site), environ.get("PYTHONPATH", "")])
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", "import sys; from plait._cli import main; sys.exit(main())", *args],
        capture_output=True,
        text=True,
        env=environ,
        cwd=cwd,
        timeout=60,
        check=False,
    )
