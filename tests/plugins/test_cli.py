"""`plait --help` and `plait plugins`, in fresh interpreters, with real (fake-installed)
distributions on the path — including a broken one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import install_distribution, run_plait


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "broken_plugin.py").write_text("raise RuntimeError('plugin exploded on import')\n")
    (folder / "fine_plugin.py").write_text(
        "import plait\n"
        "class V:\n"
        "    name = 'always'\n"
        "    async def verify(self, completion, ctx):\n"
        "        return plait.Verdict(passed=True)\n"
        "@plait.hookimpl\n"
        "def plait_register_verifiers():\n"
        "    return [V()]\n"
    )
    install_distribution(folder, "acme-broken", "0.3", {"broken": "broken_plugin"})
    install_distribution(folder, "acme-fine", "1.0", {"fine": "fine_plugin"})
    return folder


def test_help_works_with_a_broken_plugin_installed(site: Path, tmp_path: Path) -> None:
    result = run_plait(site, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "plugins" in result.stdout
    assert "exploded" not in result.stdout + result.stderr


def test_plugins_lists_the_broken_one_as_failed_and_the_others(site: Path, tmp_path: Path) -> None:
    result = run_plait(site, "plugins", cwd=tmp_path)
    assert result.returncode == 1, result.stderr  # a plugin failed to load
    lines = {line.split()[0]: line for line in result.stdout.splitlines()[1:]}
    assert "failed" in lines["broken"] and "acme-broken" in lines["broken"]
    assert "plugin exploded on import" in lines["broken"]
    assert "loaded" in lines["fine"] and "verifiers: always" in lines["fine"]
    assert "PLAIT_BLOCK_PLUGINS=broken" in result.stderr


def test_a_run_says_once_which_plugin_failed_in_one_line(site: Path, tmp_path: Path) -> None:
    result = run_plait(site, "run", "hi", "--model", "test:echo", "--no-log", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    warned = [line for line in result.stderr.splitlines() if "exploded" in line]
    assert len(warned) == 1 and warned[0].startswith("plait: warning: "), result.stderr
    # no Python warning format (file:line: PluginWarning, then the calling source line)
    assert all(line.startswith("plait: ") for line in result.stderr.splitlines()), result.stderr


def test_plugins_json(site: Path, tmp_path: Path) -> None:
    result = run_plait(site, "plugins", "--json", cwd=tmp_path)
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["broken"]["error"]["type"] == "PluginImportError"
    assert rows["broken"]["distribution"] == "acme-broken"
    assert rows["broken"]["version"] == "0.3"
    assert rows["fine"]["registered"] == {"verifiers": ["always"]}
    assert rows["fine"]["hooks"] == ["plait_register_verifiers"]


def test_strict_mode_fails_with_one_line_naming_the_distribution(
    site: Path, tmp_path: Path
) -> None:
    result = run_plait(site, "plugins", env={"PLAIT_STRICT_PLUGINS": "1"}, cwd=tmp_path)
    assert result.returncode == 1
    assert "acme-broken 0.3" in result.stderr
    assert "Traceback" not in result.stderr
    debug = run_plait(site, "--debug", "plugins", env={"PLAIT_STRICT_PLUGINS": "1"}, cwd=tmp_path)
    assert "Traceback" in debug.stderr


def test_blocked_plugin_shows_as_blocked(site: Path, tmp_path: Path) -> None:
    result = run_plait(
        site, "plugins", "--json", env={"PLAIT_BLOCK_PLUGINS": "broken"}, cwd=tmp_path
    )
    rows = {row["name"]: row for row in json.loads(result.stdout)}
    assert rows["broken"]["status"] == "blocked"
    assert "broken" not in result.stderr


def test_bad_configuration_is_one_readable_line(site: Path, tmp_path: Path) -> None:
    (tmp_path / "plait.toml").write_text("plugns = ['x']\n")
    result = run_plait(site, "plugins", cwd=tmp_path)
    assert result.returncode == 1
    assert "unknown key 'plugns'" in result.stderr
    assert "Traceback" not in result.stderr


def test_no_command_prints_help_and_exits_2(site: Path, tmp_path: Path) -> None:
    result = run_plait(site, cwd=tmp_path)
    assert result.returncode == 2 and "usage: plait" in result.stdout


def test_models_lists_providers_with_their_models_and_the_default(tmp_path: Path) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "acme_models.py").write_text(
        "import plait\n"
        "class P:\n"
        "    name = 'acme'\n"
        "    def model(self, model_id, **options):\n"
        "        raise NotImplementedError\n"
        "    def models(self):\n"
        "        return ['small', 'large']\n"
        "@plait.hookimpl\n"
        "def plait_register_providers():\n"
        "    return [P()]\n"
    )
    install_distribution(site, "acme-models", "2.0", {"acme": "acme_models"})
    result = run_plait(site, "models", "--json", env={"PLAIT_MODEL": "acme:large"}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {row["provider"]: row for row in json.loads(result.stdout)}
    assert rows["acme"] == {
        "provider": "acme",
        "plugin": "acme",
        "models": ["acme:large", "acme:small"],
        "default": "acme:large",
    }
    text = run_plait(site, "models", env={"PLAIT_MODEL": "acme:large"}, cwd=tmp_path)
    assert "acme  [plugin acme]  (default: acme:large)" in text.stdout
