"""The providers plait-openai registers: ``openai``, ``openai-responses``, host profiles.

A profile ``[tool.plait.providers.groq]`` with ``api = "openai"`` (or
``"openai-responses"``), ``base_url`` and ``api_key_env = "GROQ_API_KEY"`` makes
``groq:llama-3.3-70b`` work. Only the built-in ``openai`` providers fall back to
``OPENAI_API_KEY`` / ``OPENAI_BASE_URL``: a profile never receives the OpenAI key.
A profile without ``api`` is served here, as ``"openai"`` (Chat Completions, the API
most hosts speak): the kernel itself knows no API by name.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from plait.provider import DefaultModel

from .options import OPENAI_BASE_URL, Options, resolve_options

if TYPE_CHECKING:
    from plait import Model, PlaitConfig, ProviderProfile

__all__ = ["NoSettings", "OpenAIProvider", "providers_for"]

_APIS = {"openai": "chat", "openai-chat": "chat", "openai-responses": "responses"}
DEFAULT_MODEL = DefaultModel("gpt-4o-mini", env="OPENAI_API_KEY", priority=10)
"""``openai:gpt-4o-mini`` is the default model when ``OPENAI_API_KEY`` is set (a hosted
model with a key beats plait-local's, priority 0)."""


class OpenAIProvider:
    """Makes models of one OpenAI-API host (cheap: no I/O until a model is asked).

    ``default_model``: the offer to be the default model (only the ``openai`` provider
    makes one).
    """

    default_model: DefaultModel | None = None

    def __init__(
        self,
        name: str,
        *,
        api: str = "chat",
        base_url: str | None = None,
        api_key_env: str | None = None,
        headers: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
        use_openai_env: bool = False,
    ) -> None:
        self.name = name
        self._api = api
        self._base_url = base_url
        self._api_key_env = api_key_env
        self._headers = dict(headers or {})
        self._options = dict(options or {})
        self._use_openai_env = use_openai_env

    def __repr__(self) -> str:
        return f"OpenAIProvider(name={self.name!r}, api={self._api!r}, base_url={self._base_url!r})"

    def model(self, model_id: str, **options: Any) -> Model:
        """A model of this host; ``options`` override the profile (see ``Options``)."""
        env = os.environ
        base_url = self._base_url
        key_env = self._api_key_env
        if self._use_openai_env:
            base_url = base_url or env.get("OPENAI_BASE_URL") or OPENAI_BASE_URL
            key_env = key_env or "OPENAI_API_KEY"
        base = Options(api=self._api, base_url=base_url or OPENAI_BASE_URL, headers=self._headers)  # type: ignore[arg-type]
        if base.base_url.rstrip("/") == OPENAI_BASE_URL:
            # OpenAI's reasoning models reject max_tokens; other hosts only know it.
            base = replace(base, max_tokens_field="max_completion_tokens")
        resolved = resolve_options(
            base,
            api_key_env=key_env,
            profile_options=self._options,
            model_options=options,
            where=f"provider {self.name!r}",
        )
        from .model import OpenAIModel

        return OpenAIModel(model_id, provider=self.name, options=resolved)


def _from_profile(name: str, profile: ProviderProfile) -> OpenAIProvider:
    return OpenAIProvider(
        name,
        api=_APIS[profile.api or "openai"],
        base_url=profile.base_url,
        api_key_env=profile.api_key_env,
        headers=profile.headers,
        options=profile.options,
        use_openai_env=name in ("openai", "openai-responses"),
    )


class NoSettings(BaseModel):
    """``[plugin.openai]`` takes no keys: a typo there is an error, not ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def providers_for(config: PlaitConfig) -> list[OpenAIProvider]:
    """The built-in providers plus one per profile whose ``api`` is an OpenAI API.

    A profile named ``openai`` or ``openai-responses`` replaces the built-in one.
    """
    # hosts, keys and options live in [providers.<name>]; [plugin.openai] has no keys
    config.plugin_settings("openai", NoSettings)
    found = {
        "openai": OpenAIProvider("openai", api="chat", use_openai_env=True),
        "openai-responses": OpenAIProvider(
            "openai-responses", api="responses", use_openai_env=True
        ),
    }
    for name, profile in config.providers.items():
        if profile.api is None or profile.api in _APIS:  # no api: Chat Completions
            found[name] = _from_profile(name, profile)
    found["openai"].default_model = DEFAULT_MODEL
    return list(found.values())
