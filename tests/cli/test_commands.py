"""`plait --version`, `plait --help` (fast: no plugin, no subcommand module), and the exit
status of `plait plugins`."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path


def test_version_prints_the_installed_version(cli) -> None:
    result = cli("--version")
    assert result.returncode == 0
    assert result.stdout == f"plait {version('plait')}\n"


def test_help_imports_no_plugin_no_subcommand_and_no_store(plait_env) -> None:
    code = (
        "import json, sys\n"
        "from plait._cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('plait._cli.', 'plait_', 'scripted', 'plait._store', 'plait._kernel',"
        " 'plait._run', 'pydantic')\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(heavy))\n"
        "print(json.dumps(loaded), file=sys.stderr)\n"
    )
    for argv in (["--help"], [], ["--version"]):
        result = subprocess.run(
            [sys.executable, "-c", code, *argv],
            env=plait_env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert result.stdout.startswith(("usage: plait", "plait ")), result.stdout
        assert json.loads(result.stderr) == [], (argv, result.stderr)


def test_help_lists_every_command_and_points_to_the_docs(cli) -> None:
    out = cli("--help").stdout
    for name in ("run", "chat", "logs", "plugins", "models", "threads", "runs"):
        assert f"\n    {name} " in out
    assert "docs/cli.md" in out and "metadata('plait')" in out


def _install(site: Path, dist: str, module: str, source: str) -> None:
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[plait]\n{module} = {module}\n")


def test_plugins_exits_1_when_a_plugin_failed(cli, tmp_path: Path) -> None:
    fine = cli("plugins", "--json")
    assert fine.returncode == 0, fine.stderr
    _install(tmp_path / "site", "acme-broken", "broken_plugin", "raise RuntimeError('no')\n")
    for args in (["plugins"], ["plugins", "--json"]):
        result = cli(*args)
        assert result.returncode == 1, result.stderr
        assert "plait: plugin broken_plugin failed" in result.stderr
    rows = {r["name"]: r for r in json.loads(cli("plugins", "--json").stdout)}
    assert rows["broken_plugin"]["status"] == "failed"
    blocked = cli("plugins", env={"PLAIT_BLOCK_PLUGINS": "broken_plugin"})
    assert blocked.returncode == 0, "a blocked plugin is not a failure"
