"""``AnthropicProvider``: the ``anthropic`` prefix, and each profile with ``api = "anthropic"``.

Cheap to create and import-light (httpx is imported when the first model is made).
Where settings come from, highest first:

* the API key: ``api_key=`` given to ``model()``, to the provider, then the environment
  variable ``api_key_env`` (default ``ANTHROPIC_API_KEY``);
* the base URL: ``base_url=`` given to ``model()``, to the provider (a profile's
  ``base_url``), then ``ANTHROPIC_BASE_URL``, then ``https://api.anthropic.com``.

Models made without connection options share the provider's pooled client (one per
event loop), closed by ``aclose``. The key is never part of a repr, an error or an event.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from plait import PlaitConfig

if TYPE_CHECKING:
    from plait.provider import ClientPool

    from .model import AnthropicModel

__all__ = [
    "API_VERSION",
    "DEFAULT_BASE_URL",
    "AnthropicProvider",
    "AnthropicSettings",
    "providers_from_config",
]

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
_CONNECTION_OPTIONS = ("api_key", "base_url", "headers", "transport", "timeout", "limits")
_MODEL_OPTIONS = ("max_tokens", "output_mode")


class AnthropicProvider:
    """Models of the Anthropic Messages API (or a compatible host), by model id.

    ``options`` are default model options (``max_tokens``, ``output_mode``, or body
    fields such as ``thinking``); ``environ`` replaces ``os.environ`` (tests).
    """

    __slots__ = (
        "_api_key",
        "_environ",
        "_options",
        "_pool",
        "api_key_env",
        "base_url",
        "headers",
        "name",
    )

    def __init__(
        self,
        name: str = "anthropic",
        *,
        api_key: str | None = None,
        api_key_env: str | None = None,
        base_url: str | None = None,
        headers: Mapping[str, str] | None = None,
        options: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self._api_key = api_key
        self.api_key_env = api_key_env or "ANTHROPIC_API_KEY"
        self.base_url = base_url
        self.headers = dict(headers or {})
        self._options = dict(options or {})
        self._environ = environ
        self._pool: ClientPool | None = None

    def __repr__(self) -> str:
        return f"AnthropicProvider(name={self.name!r}, base_url={self._base_url(None)!r})"

    def model(self, model_id: str, **options: Any) -> AnthropicModel:
        """A model by id (``claude-sonnet-4-5``); no I/O until it is asked."""
        from .model import AnthropicModel

        options = {**self._options, **options}
        connection = {k: options.pop(k) for k in _CONNECTION_OPTIONS if k in options}
        settings = {k: options.pop(k) for k in _MODEL_OPTIONS if k in options}
        own = bool(connection)
        key = self._key(connection.get("api_key"))
        base_url = self._base_url(connection.get("base_url"))
        pool = (
            self._new_pool(key, base_url, connection) if own else self._shared_pool(key, base_url)
        )
        return AnthropicModel(
            model_id,
            provider=self.name,
            pool=pool,
            # A gateway at a custom URL may need no key; the official API always does.
            has_key=key is not None or base_url != DEFAULT_BASE_URL,
            secrets=(key,) if key else (),
            defaults=options,
            **settings,
        )

    async def aclose(self) -> None:
        """Close the shared pooled client. Idempotent; models keep working (a new one opens)."""
        if self._pool is not None:
            await self._pool.aclose()

    # --- resolution ---------------------------------------------------------------------

    def _env(self) -> Mapping[str, str]:
        return os.environ if self._environ is None else self._environ

    def _key(self, explicit: str | None) -> str | None:
        return explicit or self._api_key or self._env().get(self.api_key_env) or None

    def _base_url(self, explicit: str | None) -> str:
        url = explicit or self.base_url or self._env().get("ANTHROPIC_BASE_URL") or DEFAULT_BASE_URL
        return url.rstrip("/")

    def _shared_pool(self, key: str | None, base_url: str) -> ClientPool:
        if self._pool is None:
            self._pool = self._new_pool(key, base_url, {})
        return self._pool

    def _new_pool(
        self, key: str | None, base_url: str, connection: Mapping[str, Any]
    ) -> ClientPool:
        from plait.provider import ClientPool

        headers = {
            "anthropic-version": API_VERSION,
            "content-type": "application/json",
            "accept": "application/json",
            **self.headers,
            **dict(connection.get("headers") or {}),
        }
        if key:
            headers["x-api-key"] = key
        kwargs: dict[str, Any] = {"base_url": base_url, "headers": headers}
        for name in ("transport", "timeout", "limits"):
            if connection.get(name) is not None:
                kwargs[name] = connection[name]
        return ClientPool(kwargs)


class AnthropicSettings(BaseModel):
    """``[tool.plait.plugin.anthropic]``: default model options. ``max_tokens`` and
    ``output_mode`` are checked; any other key is sent in every request body."""

    model_config = ConfigDict(extra="allow", frozen=True)

    max_tokens: int | None = Field(default=None, ge=1)
    output_mode: Literal["native", "tool"] | None = None


def providers_from_config(config: PlaitConfig) -> list[AnthropicProvider]:
    """The ``anthropic`` provider, plus one per profile with ``api = "anthropic"``.

    A profile named ``anthropic`` configures the default provider instead of adding one;
    ``[tool.plait.plugin.anthropic]`` holds default model options.
    """
    defaults = config.plugin_settings("anthropic", AnthropicSettings).model_dump(exclude_unset=True)
    profiles = {name: p for name, p in config.providers.items() if p.api == "anthropic"}
    main = profiles.pop("anthropic", None)
    providers = [
        AnthropicProvider(
            "anthropic",
            api_key_env=main.api_key_env if main else None,
            base_url=main.base_url if main else None,
            headers=main.headers if main else None,
            options={**defaults, **(main.options if main else {})},
        )
    ]
    for name, profile in sorted(profiles.items()):
        providers.append(
            AnthropicProvider(
                name,
                api_key_env=profile.api_key_env,
                base_url=profile.base_url,
                headers=profile.headers,
                options={**defaults, **profile.options},
            )
        )
    return providers
