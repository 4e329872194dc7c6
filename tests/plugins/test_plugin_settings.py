"""``[plugin.<name>]`` settings: a typo or a bad value is a ConfigError naming the key,
the section and the file — never a provider that quietly goes missing (issue 9)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from pydantic import BaseModel, ConfigDict

import plait
from plait import PlaitConfig

from .conftest import run_plait

TYPO = "unknown key 'temprature' in [plugin.local] ({file}); did you mean 'temperature'?"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory, with no PLAIT_* variable or OpenAI key in the way."""
    for name in list(os.environ):
        if name.startswith("PLAIT_") or name == "OPENAI_API_KEY":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_typo_in_the_local_settings_is_reported_by_plait_run(project: Path) -> None:
    pytest.importorskip("plait_local")
    path = project / "plait.toml"
    path.write_text("[plugin.local]\ntemprature = 0.0\n")
    with pytest.raises(plait.ConfigError) as info:
        plait.run("hi")  # would fall back to the local model: its settings are checked first
    assert str(info.value) == TYPO.format(file=path.resolve())


def test_a_bad_value_in_pyproject_names_its_section_and_file(project: Path) -> None:
    pytest.importorskip("plait_local")
    path = project / "pyproject.toml"
    path.write_text('[tool.plait.plugin.local]\ntemperature = "cold"\n')
    with pytest.raises(plait.ConfigError) as info:
        plait.run("hi", model="local:smollm2")
    message = str(info.value)
    assert message.startswith("[tool.plait.plugin.local] temperature: Input should be a valid")
    assert message.endswith(f"({path.resolve()})")
    assert "cold" not in message  # values are not repeated: settings may hold secrets


def test_valid_local_settings_reach_the_provider(project: Path) -> None:
    pytest.importorskip("plait_local")
    (project / "plait.toml").write_text("[plugin.local]\ntemperature = 0.0\nn_threads = 2\n")
    from plait._kernel import Kernel

    provider = Kernel().providers()["local"]
    model = provider.model("smollm2")  # no I/O: the file is loaded on the first request
    assert (model.options.temperature, model.options.n_threads) == (0.0, 2)


@pytest.mark.parametrize(
    ("plugin", "table", "expected"),
    [
        ("test-models", "slow_secs = 2", "did you mean 'slow_seconds'?"),
        ("console", "enabeld = true", "did you mean 'enabled'?"),
        ("openai", 'base_url = "http://h/v1"', "it takes no settings"),
        ("anthropic", 'output_mode = "json"', "output_mode: Input should be 'native' or 'tool'"),
        ("postgres", "dsn = 1", "it takes no settings"),
    ],
)
def test_every_plugin_checks_its_settings(
    project: Path, plugin: str, table: str, expected: str
) -> None:
    from plait._kernel import Kernel

    kernel = Kernel()
    if plugin not in {i.name for i in kernel.plugins() if i.status == "loaded"}:
        pytest.skip(f"plugin {plugin} is not installed")
    path = project / "plait.toml"
    path.write_text(f"[plugin.{plugin}]\n{table}\n")
    kernel = Kernel()
    with pytest.raises(plait.ConfigError) as info:
        kernel.collect_all()
    assert expected in str(info.value)
    assert f"[plugin.{plugin}]" in str(info.value) and str(path.resolve()) in str(info.value)


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    retries: int = 3
    endpoint: str = "x"


def test_plugin_settings_for_a_third_party_plugin() -> None:
    config = PlaitConfig(plugin={"acme": {"retires": 2, "endpoint": 5}}, source="/p/plait.toml")
    with pytest.raises(plait.ConfigError) as info:
        config.plugin_settings("acme", Settings)
    assert sorted(str(info.value).splitlines()) == [
        "[plugin.acme] endpoint: Input should be a valid string (/p/plait.toml)",
        "unknown key 'retires' in [plugin.acme] (/p/plait.toml); did you mean 'retries'?",
    ]
    assert PlaitConfig().plugin_settings("acme", Settings) == Settings()
    far = PlaitConfig(plugin={"acme": {"zzz": 1}})
    with pytest.raises(plait.ConfigError, match=r"\(configuration\); allowed: retries, endpoint"):
        far.plugin_settings("acme", Settings)


def test_plait_run_on_the_command_line_reports_the_typo(tmp_path: Path) -> None:
    pytest.importorskip("plait_local")
    path = tmp_path / "plait.toml"
    path.write_text("[plugin.local]\ntemprature = 0.0\n")
    result = run_plait(tmp_path, "run", "hi", cwd=tmp_path, env={"OPENAI_API_KEY": ""})
    assert result.returncode != 0
    assert TYPO.format(file=path.resolve()) in result.stderr
    assert "no model configured" not in result.stderr
    assert "Traceback" not in result.stderr
