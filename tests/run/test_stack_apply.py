"""The stack in configuration: profiles, environment overrides, defaults and enforcement."""

from __future__ import annotations

from pathlib import Path

import pytest

import plait
from plait._config import load_config
from plait._errors import ConfigError
from plait._kernel import Kernel
from plait._run._options import run_spec
from plait._stack import Stack
from plait.testing import ScriptedModel, call

POLICY = """
model = "test:echo"
[stack]
limits = { turns = 5, tool_calls = 10 }
redact = true
enforce = ["limits", "redact"]

[profiles.loose.stack]
limits = { turns = 50 }
enforce = []
"""


def _stack(tmp_path: Path, text: str = POLICY, **environ: str) -> Stack:
    path = tmp_path / "plait.toml"
    path.write_text(text)
    stack = Stack.from_config(load_config(path, environ=environ))
    assert stack is not None
    return stack


def test_no_stack_costs_nothing() -> None:
    assert Stack.from_config(load_config(search=False, environ={})) is None


def test_enforced_limits_are_the_stricter_of_stack_and_code(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    looser = stack.apply(run_spec("t", str, {"limits": plait.Limits(turns=100)}))
    assert looser.limits is not None and looser.limits.turns == 5
    stricter = stack.apply(run_spec("t", str, {"max_turns": 2}))
    assert stricter.limits is not None and stricter.limits.turns == 2
    assert stricter.limits.tool_calls == 10 and stricter.max_turns is None


def test_enforced_redaction_cannot_be_switched_off(tmp_path: Path) -> None:
    stack = _stack(tmp_path)
    assert stack.apply(run_spec("t", str, {"redact": False})).redact is True
    mine = str.upper
    assert stack.apply(run_spec("t", str, {"redact": mine})).redact is mine


def test_a_profile_replaces_the_files_stack_field_by_field(tmp_path: Path) -> None:
    stack = _stack(tmp_path, PLAIT_PROFILE="loose")
    assert stack.enforce == frozenset() and stack.redact is True
    assert stack.limits is not None and stack.limits.turns == 50
    assert "profile 'loose'" in stack.sources["limits"]
    spec = stack.apply(run_spec("t", str, {"limits": plait.Limits(turns=100)}))
    assert spec.limits is not None and spec.limits.turns == 100  # a default: code wins


def test_an_unknown_profile_names_the_defined_ones(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"profile 'prod' is not defined \(profiles: loose\)"):
        _stack(tmp_path, PLAIT_PROFILE="prod")


def test_environment_variables_override_one_field_each(tmp_path: Path) -> None:
    stack = _stack(tmp_path, PLAIT_GUARDRAILS="a, b", PLAIT_ENFORCE="guardrails")
    assert stack.names("guardrails") == ["a", "b"] and stack.enforce == {"guardrails"}
    assert stack.sources["guardrails"] == "environment variable PLAIT_GUARDRAILS"
    assert stack.sources["limits"].endswith("plait.toml")


def test_bad_stack_values_name_their_source(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"stack\.enforce"):
        _stack(tmp_path, "[stack]\nenforce = ['everything']\n")
    with pytest.raises(ConfigError, match=r"stack retry.*fields: attempts"):
        _stack(tmp_path, "[stack]\nretry = { tries = 3 }\n")


@pytest.mark.anyio
async def test_the_kernel_applies_its_stack_to_every_run(tmp_path: Path) -> None:
    path = tmp_path / "plait.toml"
    path.write_text(POLICY)
    kernel = Kernel(load_config(path, environ={}), entry_points=())

    @plait.tool
    def noop() -> str:
        """Nothing."""
        return "ok"

    model = ScriptedModel([[call("noop")] for _ in range(20)])
    result = await plait.arun(
        "t", model=model, tools=[noop], kernel=kernel, max_turns=40, on_limit="partial"
    )
    assert (result.turns, result.stop_reason) == (5, "limit:turns")  # enforced: 5, not 40
    assert kernel.provenance()["stack"]["limits"]["turns"] == 5


def test_an_enforced_model_refuses_another(tmp_path: Path) -> None:
    stack = _stack(tmp_path, 'model = "test:echo"\n[stack]\nenforce = ["model"]\n')
    assert stack.apply(run_spec("t", str, {})).model is None  # the default applies
    assert stack.apply(run_spec("t", str, {"model": "test:echo"})).model == "test:echo"
    with pytest.raises(ConfigError, match=r"enforces model 'test:echo' \(.*plait.toml\)"):
        stack.apply(run_spec("t", str, {"model": "openai:gpt-4o"}))
    with pytest.raises(ConfigError, match="a model object"):
        stack.apply(run_spec("t", str, {"model": ScriptedModel(["x"])}))
    with pytest.raises(ConfigError, match="no model is configured"):
        _stack(tmp_path, "[stack]\nenforce = ['model']\n")
