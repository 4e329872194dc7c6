"""Providers, host profiles, environment variables, options and the hook module."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from plait import ConfigError, RequestParams, UserMessage
from plait.provider import PlaitConfig
from plait_openai.provider import providers_for

OPENAI_KEY = "sk-openai-0123456789abcdefghijkl"
GROQ_KEY = "gsk_groq-0123456789abcdefghijkl"


def config() -> PlaitConfig:
    return PlaitConfig.model_validate(
        {
            "providers": {
                "groq": {
                    "api": "openai",
                    "base_url": "https://groq.test/openai/v1",
                    "api_key_env": "GROQ_API_KEY",
                    "headers": {"x-team": "a"},
                },
                "llama": {
                    "api": "openai",
                    "base_url": "http://127.0.0.1:8080/v1",
                    "options": {"json_schema_mode": "json_object", "null_content_as_empty": True},
                },
                "resp": {"api": "openai-responses", "base_url": "https://r.test/v1"},
                "claude": {"api": "anthropic"},
            }
        }
    )


def test_profiles_become_providers() -> None:
    names = [p.name for p in providers_for(config())]
    assert names == ["openai", "openai-responses", "groq", "llama", "resp"]


def test_profile_key_and_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROQ_API_KEY", GROQ_KEY)
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    providers = {p.name: p for p in providers_for(config())}
    groq = providers["groq"].model("llama-3.3-70b")
    assert groq.name == "groq:llama-3.3-70b"
    assert groq.options.base_url == "https://groq.test/openai/v1"  # type: ignore[attr-defined]
    assert groq.options.api_key == GROQ_KEY  # type: ignore[attr-defined]
    assert groq.options.max_tokens_field == "max_tokens"  # type: ignore[attr-defined]
    llama = providers["llama"].model("any")
    assert llama.options.api_key is None  # a profile never gets the OpenAI key  # type: ignore[attr-defined]
    assert llama.options.json_schema_mode == "json_object"  # type: ignore[attr-defined]
    assert providers["resp"].model("x").options.api == "responses"  # type: ignore[attr-defined]
    for model in (groq, llama):
        assert GROQ_KEY not in repr(model)
        assert OPENAI_KEY not in repr(model)


def test_openai_env_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", OPENAI_KEY)
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9999/v1")
    model = providers_for(PlaitConfig())[0].model("gpt-4o-mini")
    assert model.options.base_url == "http://127.0.0.1:9999/v1"  # type: ignore[attr-defined]
    assert model.options.api_key == OPENAI_KEY  # type: ignore[attr-defined]
    explicit = providers_for(PlaitConfig())[0].model(
        "m", base_url="http://h/v1", api_key="sk-explicit-123456"
    )
    assert explicit.options.api_key == "sk-explicit-123456"  # type: ignore[attr-defined]


def test_unknown_option_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown option"):
        providers_for(PlaitConfig())[0].model("m", temprature=1)
    with pytest.raises(ConfigError, match="json_schema_mode"):
        providers_for(PlaitConfig())[0].model("m", json_schema_mode="xml")


@pytest.mark.anyio
async def test_missing_openai_key_fails_before_sending(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    sent = []
    transport = httpx.MockTransport(lambda r: sent.append(r) or httpx.Response(500))
    model = providers_for(PlaitConfig())[0].model("gpt-4o-mini", transport=transport)
    from plait import AuthenticationFailed

    with pytest.raises(AuthenticationFailed, match="OPENAI_API_KEY"):
        await model.request([UserMessage(content="hi")], RequestParams())
    assert sent == []


def test_hooks_module_is_import_light() -> None:
    code = "import sys, plait_openai.hooks; assert 'httpx' not in sys.modules, 'httpx imported'"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_kernel_resolves_profile_models(monkeypatch: pytest.MonkeyPatch) -> None:
    from plait import Kernel

    monkeypatch.setenv("GROQ_API_KEY", GROQ_KEY)
    kernel = Kernel(config(), strict=True)
    model = kernel.model("groq:llama-3.3-70b")
    assert model.name == "groq:llama-3.3-70b"
    assert "openai-responses" in kernel.providers()
