"""Options of an OpenAI-API model: where to connect, with which key, and server quirks.

Options come from (later wins) the provider's defaults, a host profile
(``[tool.plait.providers.<name>]``: ``base_url``, ``api_key_env``, ``headers``, ``options``)
and the keyword arguments of ``provider.model(id, **options)``. The key itself is read
from the environment when the model is made, never stored in configuration.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

from plait import ConfigError

__all__ = ["OPENAI_BASE_URL", "Options", "resolve_options"]

OPENAI_BASE_URL = "https://api.openai.com/v1"


@dataclass(frozen=True, slots=True)
class Options:
    """Everything a model needs besides its id. ``api_key`` never appears in ``repr``.

    ``json_schema_mode``: ``"json_schema"`` (OpenAI's ``response_format``), or
    ``"json_object"`` for servers that take ``{"type": "json_object", "schema": ...}``
    (llama.cpp). ``null_content_as_empty``: send ``""`` instead of ``null`` as the
    content of an assistant message that only calls tools. ``max_tokens_field``: the
    body field for ``ModelSettings.max_tokens``. ``stream_usage``: ask for usage in
    streams (``stream_options``). ``store`` / ``reasoning`` go to the Responses API.
    ``server_state`` (Responses only): continue from the server's copy of the
    conversation (``previous_response_id``) instead of resending it; ``None`` means on
    unless ``store=False`` (an unstored response cannot be continued). See
    docs/providers.md, "Server-side conversation state".
    ``transport``, ``timeout`` and ``limits`` reach ``httpx.AsyncClient`` unchanged.
    ``input_modalities`` declares what the model takes (``["text", "image"]``; plait
    refuses other parts before any request); unset, OpenAI's own models are known by
    family and another host's are not checked.
    """

    api: Literal["chat", "responses"] = "chat"
    base_url: str = OPENAI_BASE_URL
    api_key: str | None = field(default=None, repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    json_schema_mode: Literal["json_schema", "json_object"] = "json_schema"
    null_content_as_empty: bool = False
    max_tokens_field: str = "max_tokens"
    stream_usage: bool = True
    store: bool | None = None
    reasoning: Mapping[str, Any] | None = None
    server_state: bool | None = None
    transport: Any = field(default=None, repr=False)
    timeout: Any = None
    limits: Any = None
    input_modalities: Sequence[str] | None = None


_MODALITIES = ("text", "image", "document", "audio")
_ALLOWED = frozenset(f.name for f in fields(Options)) | {"api_key_env"}


def _check(options: Mapping[str, Any], where: str) -> None:
    unknown = sorted(set(options) - _ALLOWED)
    if unknown:
        raise ConfigError(
            f"{where}: unknown option(s) {', '.join(unknown)}; "
            f"allowed: {', '.join(sorted(_ALLOWED))}"
        )
    for key, allowed in (
        ("api", ("chat", "responses")),
        ("json_schema_mode", ("json_schema", "json_object")),
    ):
        if key in options and options[key] not in allowed:
            raise ConfigError(
                f"{where}: option {key}={options[key]!r}; allowed: {', '.join(allowed)}"
            )
    if "server_state" in options and options["server_state"] not in (None, True, False):
        raise ConfigError(f"{where}: option server_state takes true or false")
    given = options.get("input_modalities")
    if given is not None and (isinstance(given, str) or not set(given) <= set(_MODALITIES)):
        raise ConfigError(
            f"{where}: option input_modalities={given!r}; a list of: {', '.join(_MODALITIES)}"
        )


def _check_state(options: Options, where: str) -> None:
    """``server_state=True`` where it cannot work is an error, not silently off."""
    if options.server_state is not True:
        return
    if options.api != "responses":
        raise ConfigError(
            f"{where}: server_state=True needs the Responses API (api='responses'); "
            "Chat Completions keeps no conversation on the server"
        )
    if options.store is False:
        raise ConfigError(
            f"{where}: server_state=True with store=False: the server keeps a response only "
            "when it is stored; drop store=False or set server_state=False"
        )


def resolve_options(
    base: Options,
    *,
    api_key_env: str | None,
    profile_options: Mapping[str, Any],
    model_options: Mapping[str, Any],
    where: str,
    environ: Mapping[str, str] | None = None,
) -> Options:
    """Merge profile and model options over ``base``; read the key from the environment."""
    _check(profile_options, f"{where} profile")
    _check(model_options, f"{where} model options")
    merged = {**profile_options, **model_options}
    env = os.environ if environ is None else environ
    key_env = merged.pop("api_key_env", api_key_env)
    if "headers" in merged:
        merged["headers"] = {**base.headers, **merged["headers"]}
    options = replace(base, **merged)
    if options.api_key is None and key_env:
        options = replace(options, api_key=env.get(key_env) or None)
    _check_state(options, where)
    return options
