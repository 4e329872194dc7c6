"""Configuration: files, environment, precedence, and errors that say what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

import plait
from plait._config import find_config_file, load_config


def test_pyproject_tool_plait_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.plait]\nmodel = "openai:gpt-4o-mini"\nblock_plugins = ["console"]\n'
        '[tool.plait.providers.groq]\nbase_url = "https://example.invalid/v1"\n'
        'api_key_env = "GROQ_API_KEY"\n'
    )
    config = load_config(tmp_path / "pyproject.toml", environ={})
    assert config.model == "openai:gpt-4o-mini"
    assert config.block_plugins == ("console",)
    assert config.providers["groq"].api_key_env == "GROQ_API_KEY"


def test_plait_toml_wins_over_pyproject_and_is_found_from_a_subfolder(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.plait]\nmodel = "a:b"\n')
    (tmp_path / "plait.toml").write_text('model = "c:d"\n')
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    assert find_config_file(nested) == tmp_path / "plait.toml"


def test_pyproject_without_tool_plait_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert find_config_file(tmp_path) != tmp_path / "pyproject.toml"


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    path = tmp_path / "plait.toml"
    path.write_text('model = "c:d"\nplugins = ["a"]\n')
    env = {"PLAIT_MODEL": "e:f", "PLAIT_PLUGINS": "x, y", "PLAIT_DISABLE_PLUGIN_AUTOLOAD": "1"}
    config = load_config(path, environ=env)
    assert config.model == "e:f"
    assert config.plugins == ("x", "y")
    assert config.disable_plugin_autoload is True


def test_arguments_override_the_environment(tmp_path: Path) -> None:
    config = load_config(environ={"PLAIT_MODEL": "e:f"}, search=False, model="g:h")
    assert config.model == "g:h"


def test_unknown_key_names_file_key_and_allowed_keys(tmp_path: Path) -> None:
    path = tmp_path / "plait.toml"
    path.write_text('modle = "a:b"\n')
    with pytest.raises(plait.ConfigError) as info:
        load_config(path, environ={})
    text = str(info.value)
    assert str(path) in text and "'modle'" in text and "allowed keys" in text and "model" in text


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(plait.ConfigError, match="PLAIT_DISABLE_PLUGIN_AUTOLOAD"):
        load_config(environ={"PLAIT_DISABLE_PLUGIN_AUTOLOAD": "perhaps"}, search=False)


def test_bad_value_in_a_profile_names_the_nested_key(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[tool.plait.providers.groq]\nbase_urll = "x"\n')
    with pytest.raises(plait.ConfigError) as info:
        load_config(path, environ={})
    assert "providers.groq.base_urll" in str(info.value) and "[tool.plait]" in str(info.value)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "plait.toml"
    path.write_text("model = \n")
    with pytest.raises(plait.ConfigError, match="not valid TOML"):
        load_config(path, environ={})


def test_plait_config_variable_points_at_the_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.toml"
    path.write_text('model = "z:z"\n')
    assert load_config(environ={"PLAIT_CONFIG": str(path)}).model == "z:z"
