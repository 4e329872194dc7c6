"""The copy-me plugin in examples/plugin_skeleton works as an installed plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .conftest import install_distribution, run_plait

SKELETON = Path(__file__).resolve().parents[2] / "examples" / "plugin_skeleton"


def test_installed_skeleton_shows_in_plait_plugins(tmp_path: Path) -> None:
    install_distribution(tmp_path, "plait-skeleton", "0.1.0", {"skeleton": "plait_skeleton.hooks"})
    path = os.pathsep.join([str(tmp_path), str(SKELETON / "src")])
    result = run_plait(tmp_path, "plugins", "--json", env={"PYTHONPATH": path}, cwd=tmp_path)
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    skeleton = rows["skeleton"]
    assert skeleton["status"] == "loaded", skeleton
    assert skeleton["distribution"] == "plait-skeleton" and skeleton["version"] == "0.1.0"
    assert skeleton["registered"] == {
        "tools": ["word_count"],
        "verifiers": ["non_empty_summary"],
    }


def test_skeleton_entry_point_matches_its_pyproject() -> None:
    import tomllib

    meta = tomllib.loads((SKELETON / "pyproject.toml").read_text())
    assert meta["project"]["entry-points"]["plait"] == {"skeleton": "plait_skeleton.hooks"}


def test_skeleton_own_test_passes_with_plaits_fixtures() -> None:
    env = {**os.environ, "PYTHONPATH": str(SKELETON / "src")}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=SKELETON,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
