"""The default model comes from the installed provider plugins' offers, not the kernel.

With plait-openai, plait-local and plait-anthropic installed: no key gives the local
model, ``OPENAI_API_KEY`` the hosted one; a configured model always wins.
"""

from __future__ import annotations

import pytest

from plait._config import PlaitConfig
from plait._kernel import Kernel


@pytest.fixture(scope="module")
def kernel() -> Kernel:
    return Kernel(PlaitConfig(plugins=("openai", "local", "anthropic")), strict=True)


def test_without_a_key_the_local_model_is_the_default(kernel: Kernel) -> None:
    assert kernel.default_model_spec({}) == "local:smollm2"
    assert kernel.default_model_spec({"ANTHROPIC_API_KEY": "k"}) == "local:smollm2"


def test_an_openai_key_makes_gpt_4o_mini_the_default(kernel: Kernel) -> None:
    assert kernel.default_model_spec({"OPENAI_API_KEY": "k"}) == "openai:gpt-4o-mini"


def test_a_configured_model_wins() -> None:
    config = PlaitConfig(plugins=("openai", "local"), model="anthropic:claude")
    kernel = Kernel(config, strict=True)
    assert kernel.default_model_spec({"OPENAI_API_KEY": "k"}) == "anthropic:claude"


def test_a_profile_without_api_is_served_by_plait_openai() -> None:
    config = PlaitConfig.model_validate(
        {"plugins": ["openai"], "providers": {"groq": {"base_url": "http://groq.test/v1"}}}
    )
    provider = Kernel(config, strict=True).providers()["groq"]
    assert type(provider).__module__ == "plait_openai.provider"
