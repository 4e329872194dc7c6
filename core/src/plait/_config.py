"""Configuration: ``[tool.plait]`` in pyproject.toml or a ``plait.toml``, then ``PLAIT_*``.

Precedence (later wins): defaults < file < environment < explicit arguments. Every value
is validated with pydantic; a bad key or value raises ``ConfigError`` naming the source
(file or variable), the key and what is allowed. Nothing is read at import time.
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ._errors import ConfigError
from ._settings import Limits

__all__ = [
    "ENV_VARS",
    "STACK_ENV_VARS",
    "PlaitConfig",
    "ProviderProfile",
    "StackConfig",
    "find_config_file",
    "load_config",
]

M = TypeVar("M", bound=BaseModel)


class ProviderProfile(BaseModel):
    """A named host for an existing protocol, e.g. ``[tool.plait.providers.groq]``.

    ``api`` names the protocol; the provider plugin that serves it registers a provider
    under the profile's name (e.g. ``"openai-responses"`` for plait-openai). ``None``
    leaves the choice to the plugins (plait-openai serves such profiles); when none does,
    using the profile's models is an error that says so. ``api_key_env`` names the
    variable holding the key (never the key).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    api: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    headers: dict[str, str] = Field(default_factory=dict)
    options: dict[str, Any] = Field(default_factory=dict)


Enforceable = Literal["model", "tools", "guardrails", "verifiers", "limits", "redact"]


class StackConfig(BaseModel):
    """``[tool.plait.stack]``: what every run gets, whatever the code passes.

    Names are registered by installed plugins (``plait plugins``). An item kind listed in
    ``enforce`` cannot be removed or weakened by application code (code may add its own);
    the others are defaults the code may replace. See docs/guardrails.md.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    tools: tuple[str, ...] = ()
    guardrails: tuple[str, ...] = ()
    verifiers: tuple[str, ...] = ()
    handlers: tuple[str, ...] = ()
    """Event handlers that must be installed (installed handlers see every run anyway)."""
    limits: Limits | None = None
    redact: bool | None = None
    retry: dict[str, float] | None = None
    """``plait.RetryPolicy`` fields, e.g. ``{attempts = 5}``."""
    enforce: tuple[Enforceable, ...] = ()

    @field_validator("tools", "guardrails", "verifiers", "handlers", "enforce", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value


class PlaitConfig(BaseModel):
    """The validated configuration one kernel runs with."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    plugins: tuple[str, ...] | None = None
    """Allow-list: only these entry-point plugins are imported (``None``: all)."""
    block_plugins: tuple[str, ...] = ()
    """Never import these plugins (built-ins included)."""
    disable_plugin_autoload: bool = False
    """Import no entry-point plugin unless allow-listed or required."""
    required_plugins: tuple[str, ...] = ()
    """These must load; their absence or failure is always fatal."""
    strict_plugins: bool = False
    """Raise every plugin failure together instead of reporting and going on."""
    hook_timeout: float | None = Field(default=10.0, gt=0)
    """Seconds one plugin's registration hook (``plait_register_*``, ``plait_configure``)
    may take; a hook that has not returned by then fails its plugin (a registration
    error naming plugin and hook) and goes on in a background thread, its result
    discarded. Hooks run in a worker thread; ``None`` calls them in the caller's thread,
    unbounded."""
    import_timeout: float | None = Field(default=30.0, gt=0)
    """Seconds the first import of one entry-point plugin may take; one that has not
    returned by then fails its plugin (an import error) and goes on in a background
    thread. ``None`` imports in the caller's thread, unbounded."""
    model: str | None = None
    """Default model, ``"provider:model-id"``."""
    store: str | None = None
    """Default thread store URL (``sqlite:///path``, ``postgresql://...``)."""
    providers: dict[str, ProviderProfile] = Field(default_factory=dict)
    """Named hosts for existing protocols."""
    plugin: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Per-plugin settings: ``[tool.plait.plugin.<name>]``."""
    stack: StackConfig = Field(default_factory=StackConfig)
    """What every run gets: ``[tool.plait.stack]`` (see ``StackConfig``)."""
    profile: str | None = None
    """The profile in force (``PLAIT_PROFILE``): its keys replace the file's."""
    profiles: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """Named variants of this configuration: ``[tool.plait.profiles.<name>]``."""
    origins: dict[str, str] = Field(default_factory=dict, exclude=True)
    """Where each key (``stack.<field>`` for the stack) was set; not a setting."""
    owners: dict[str, str] = Field(default_factory=dict)
    """Which plugin answers for a name two plugins register: ``"<kind>.<name>"`` (e.g.
    ``"providers.acme"``) or a bare ``"<name>"`` (every kind) -> plugin or distribution
    name; ``[tool.plait.owners]``. See docs/plugins/errors.md."""
    source: str | None = Field(default=None, exclude=True)
    """Where the file part came from (for messages); not a setting."""

    @field_validator("plugins", "block_plugins", "required_plugins", mode="before")
    @classmethod
    def _split(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(p.strip() for p in value.split(",") if p.strip())
        return value

    def plugin_settings(self, name: str, model: type[M]) -> M:
        """``[plugin.<name>]`` validated by the plugin's pydantic ``model``.

        A plugin calls this in its registration hook; a wrong key or value is a
        ``ConfigError`` naming the section and the file (an unknown key gets a did-you-mean
        when ``model`` forbids extra keys), which the kernel always raises.
        """
        values = self.plugin.get(name, {})
        try:
            return model.model_validate(values)
        except ValidationError as exc:
            raise ConfigError(self._settings_error(name, model, exc)) from None

    def _settings_error(self, name: str, model: type[BaseModel], exc: ValidationError) -> str:
        in_pyproject = self.source is not None and Path(self.source).name == "pyproject.toml"
        section = f"[{'tool.plait.' if in_pyproject else ''}plugin.{name}]"
        where = self.source if self.source not in (None, "defaults") else "configuration"
        keys = [f.alias or k for k, f in model.model_fields.items()]
        problems = []
        for err in exc.errors(include_url=False, include_input=False):
            key = ".".join(str(p) for p in err["loc"]) or "(table)"
            if err["type"] == "extra_forbidden":
                close = difflib.get_close_matches(key, keys, n=1)
                hint = f"allowed: {', '.join(keys)}" if keys else "it takes no settings"
                if close:
                    hint = f"did you mean {close[0]!r}?"
                problems.append(f"unknown key {key!r} in {section} ({where}); {hint}")
            else:  # the value itself is left out: plugin settings may hold secrets
                problems.append(f"{section} {key}: {err['msg']} ({where})")
        return "\n".join(problems)


ENV_VARS: Mapping[str, str] = {
    "PLAIT_PLUGINS": "plugins",
    "PLAIT_BLOCK_PLUGINS": "block_plugins",
    "PLAIT_DISABLE_PLUGIN_AUTOLOAD": "disable_plugin_autoload",
    "PLAIT_REQUIRED_PLUGINS": "required_plugins",
    "PLAIT_STRICT_PLUGINS": "strict_plugins",
    "PLAIT_MODEL": "model",
    "PLAIT_STORE": "store",
    "PLAIT_PROFILE": "profile",
}
"""Environment variables and the configuration keys they override."""

STACK_ENV_VARS: Mapping[str, str] = {
    "PLAIT_TOOLS": "tools",
    "PLAIT_GUARDRAILS": "guardrails",
    "PLAIT_VERIFIERS": "verifiers",
    "PLAIT_HANDLERS": "handlers",
    "PLAIT_ENFORCE": "enforce",
}
"""Environment variables that override one field of ``[tool.plait.stack]`` (comma lists)."""


def find_config_file(start: Path | None = None) -> Path | None:
    """The nearest ``plait.toml`` (or pyproject.toml with ``[tool.plait]``) from ``start`` up."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "plait.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and _has_plait(pyproject):  # one parse per file
            return pyproject
    return None


def _has_plait(path: Path) -> bool:
    tool = _read_toml(path).get("tool", {})
    return isinstance(tool, dict) and "plait" in tool


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


def _file_settings(path: Path) -> dict[str, Any]:
    data = _read_toml(path)
    is_pyproject = path.name == "pyproject.toml"
    section = data.get("tool", {}).get("plait", {}) if is_pyproject else data
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: [tool.plait] must be a table")
    return section


def _env_settings(environ: Mapping[str, str]) -> dict[str, Any]:
    return {key: environ[var] for var, key in ENV_VARS.items() if environ.get(var, "") != ""}


def _validate(values: dict[str, Any], source: str, origin: Mapping[str, str]) -> PlaitConfig:
    try:
        return PlaitConfig.model_validate({**values, "source": source, "origins": dict(origin)})
    except ValidationError as exc:
        raise ConfigError(_describe(exc, origin)) from None


def _describe(exc: ValidationError, origin: Mapping[str, str]) -> str:
    lines = []
    allowed = ", ".join(k for k in PlaitConfig.model_fields if k not in ("source", "origins"))
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"]) or "(top level)"
        loc = [str(p) for p in err["loc"]]
        where = origin.get(".".join(loc[:2]), origin.get(loc[0] if loc else "", "configuration"))
        if err["type"] == "extra_forbidden":
            lines.append(f"{where}: unknown key {key!r}; allowed keys: {allowed}")
        else:
            lines.append(f"{where}: {key}: {err['msg']} (got {err.get('input')!r})")
    return "invalid plait configuration:\n  " + "\n  ".join(lines)


def load_config(
    path: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    search: bool = True,
    **overrides: Any,
) -> PlaitConfig:
    """Read the file (``path``, ``PLAIT_CONFIG``, or the nearest one), then ``PLAIT_*``.

    ``overrides`` (keyword arguments named like the fields) win over both.
    """
    env = os.environ if environ is None else environ
    if path is None and env.get("PLAIT_CONFIG"):
        path = Path(env["PLAIT_CONFIG"])
    if path is None and search:
        path = find_config_file()
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    source = "defaults"
    if path is not None:
        values = _file_settings(path)
        label = f"{path} [tool.plait]" if path.name == "pyproject.toml" else str(path)
        origin = dict.fromkeys(values, label)
        source = str(path)
    env_values = _env_settings(env)
    origin.update(
        {key: f"environment variable {var}" for var, key in ENV_VARS.items() if key in env_values}
    )
    origin.update(dict.fromkeys(overrides, "argument"))
    merged = {**values, **env_values, **overrides}
    merged = _with_profile(merged, origin)
    stack = _stack_values(merged, origin, env)
    if stack:
        merged["stack"] = stack
    return _validate(merged, source, origin)


def _with_profile(values: dict[str, Any], origin: dict[str, str]) -> dict[str, Any]:
    """The selected profile's keys over the file's (a profile's stack field by field)."""
    name = values.get("profile")
    if not name:
        return values
    profiles = values.get("profiles") or {}
    if not isinstance(profiles, dict) or name not in profiles:
        known = ", ".join(sorted(profiles)) if isinstance(profiles, dict) else ""
        where = origin.get("profile", "configuration")
        raise ConfigError(
            f"{where}: profile {name!r} is not defined (profiles: {known or 'none'}); "
            "define it under [tool.plait.profiles.<name>]"
        )
    chosen = profiles[name]
    if not isinstance(chosen, dict):
        raise ConfigError(f"profile {name!r} must be a table")
    label = f"profile {name!r} ({origin.get('profiles', 'configuration')})"
    merged = dict(values)
    for key, value in chosen.items():
        if key == "stack" and isinstance(value, dict):
            base = values.get("stack")
            merged["stack"] = {**(base if isinstance(base, dict) else {}), **value}
            origin.update({f"stack.{k}": label for k in value})
        else:
            merged[key] = value
            origin[key] = label
    return merged


def _stack_values(
    values: dict[str, Any], origin: dict[str, str], env: Mapping[str, str]
) -> dict[str, Any]:
    """``[stack]`` with ``PLAIT_GUARDRAILS`` & co. applied; each field's origin noted."""
    stack = values.get("stack")
    stack = dict(stack) if isinstance(stack, dict) else {}
    for key in stack:
        origin.setdefault(f"stack.{key}", origin.get("stack", "configuration"))
    for var, key in STACK_ENV_VARS.items():
        if env.get(var, "") != "":
            stack[key] = env[var]
            origin[f"stack.{key}"] = f"environment variable {var}"
    return stack
