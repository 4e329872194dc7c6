"""Registration: the hook, configuration, import hygiene and the OpenMP default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from plait import ConfigError, ModelSettings, Provider, RequestParams, UserMessage
from plait_local import LocalModel, LocalProvider, hooks

PROBE = r"""
import json, sys
import plait_local.hooks
from plait_local import LocalProvider
model = LocalProvider().model("smollm2")
print(json.dumps({"llama_cpp": "llama_cpp" in sys.modules}))
"""


def _run(code: str, env: dict[str, str]) -> dict[str, Any]:
    command = [sys.executable, "-c", code]
    out = subprocess.run(command, capture_output=True, text=True, check=True, timeout=60, env=env)
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    return result


def test_importing_the_plugin_does_not_import_llama_cpp() -> None:
    assert _run(PROBE, dict(os.environ)) == {"llama_cpp": False}


OMP_PROBE = r"""
import json, os, anyio
from plait import ModelSettings, RequestParams, UserMessage
from plait_local import LocalProvider
async def main():
    model = LocalProvider().model("smollm2")
    params = RequestParams(settings=ModelSettings(max_tokens=1))
    await model.request([UserMessage(content="hi")], params)
    await model.aclose()
anyio.run(main)
print(json.dumps({"omp": os.environ.get("OMP_WAIT_POLICY")}))
"""


@pytest.mark.slow
@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_omp_wait_policy_is_passive_unless_set(given: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    assert _run(OMP_PROBE, env) == {"omp": expected}


def test_hook_registers_the_local_provider(plait_kernel: Callable[..., Any]) -> None:
    kernel = plait_kernel(hooks, plugin={"local": {"n_threads": 2, "n_ctx": 512}})
    provider = kernel.providers()["local"]
    assert isinstance(provider, LocalProvider)
    assert isinstance(provider, Provider)
    model = kernel.model("local:smollm2")
    assert isinstance(model, LocalModel)
    assert (model.options.n_threads, model.options.n_ctx) == (2, 512)
    assert model.name == "local:smollm2"


def test_the_provider_lists_its_known_models() -> None:
    assert LocalProvider().models() == ["smollm2"]


def test_defaults_are_safe_for_a_shared_machine() -> None:
    options = LocalProvider().model("smollm2").options
    assert options.n_threads == 1
    assert options.n_ctx == 4096


def test_model_options_override_plugin_settings() -> None:
    model = LocalProvider(n_threads=2).model("smollm2", n_threads=1, n_ctx=256)
    assert (model.options.n_threads, model.options.n_ctx) == (1, 256)


def test_bad_options_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"\[tool.plait.plugin.local\].*n_threads"):
        LocalProvider(n_threads=0)
    with pytest.raises(ConfigError, match=r"local:smollm2.*n_gpu"):
        LocalProvider().model("smollm2", n_gpu=1)


@pytest.mark.anyio
@pytest.mark.slow
async def test_models_of_one_provider_share_the_loaded_model(provider: LocalProvider) -> None:
    first, second = provider.model("smollm2", n_ctx=512), provider.model("smollm2", n_ctx=512)
    params = RequestParams(settings=ModelSettings(max_tokens=2))
    await first.request([UserMessage(content="hi")], params)
    assert first._engine is second._engine
    await first.aclose()
    response = await second.request([UserMessage(content="hi")], params)  # still loaded
    assert response.usage.output_tokens > 0
    await second.aclose()
    assert second._engine._llama is None  # the last user freed it
    await second.aclose()  # idempotent


@pytest.mark.anyio
@pytest.mark.slow
async def test_a_prompt_longer_than_the_context_is_rejected(provider: LocalProvider) -> None:
    from plait import ContextWindowExceeded

    model = provider.model("smollm2", n_ctx=64)
    try:
        with pytest.raises(ContextWindowExceeded, match="context window"):
            await model.request([UserMessage(content="word " * 200)], RequestParams())
    finally:
        await model.aclose()
