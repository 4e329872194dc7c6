"""The kernel: one plugin manager, its plugins, and what they registered.

There is no module-level kernel. ``plait.run`` builds one per call; an ``Agent`` builds
one lazily and keeps it. Registration hooks are called lazily, once per kind, the first
time that kind is needed.
"""

from __future__ import annotations

import contextlib
import os
import sys
import warnings
import weakref
from collections.abc import Iterable, Mapping, Sequence
from types import FrameType
from typing import Any, cast

from ._builtins import BUILTINS
from ._config import PlaitConfig, load_config
from ._contracts import (
    DefaultModel,
    EventHandler,
    Executor,
    Guardrail,
    LiveToolset,
    Model,
    Provider,
    Store,
    Tool,
    Verifier,
    optional_attribute,
)
from ._errors import (
    ModelNotConfigured,
    PluginConfigConflict,
    PluginError,
    PluginErrors,
    PluginValidationError,
    PluginWarning,
)
from ._loader import (
    EntryPointLike,
    PlaitPluginManager,
    PluginInfo,
    load_plugins,
    register_plugin,
    switch_source,
)
from ._missing import missing_error
from ._redact import DefaultPolicy, Redactor
from ._registry import KINDS, Registration, call_each, collect, hook_error, owner_table
from ._stack import Stack

__all__ = ["Kernel"]


def _caller_level() -> int:
    """The ``stacklevel`` (for a warning issued by this function's caller) of the code
    that called into plait: the frame outside plait's outermost frame, so the warning
    points at the user's ``plait.run(...)`` line, not at kernel internals."""
    frame: FrameType | None = sys._getframe(1)
    level = found = 1
    while frame is not None:
        name = frame.f_globals.get("__name__", "")
        if name == "plait" or name.startswith("plait."):
            found = level + 1
        frame, level = frame.f_back, level + 1
    return found


class Kernel:
    """Plugins loaded for one configuration, and the objects they registered.

    ``plugins`` are extra plugin objects (modules or instances with hookimpls) registered
    after the built-ins; ``entry_points`` replaces the discovery of installed plugins
    (``()``: load none, as tests and benchmarks do); ``builtins=False`` leaves out
    plait's own; ``strict`` raises every plugin failure together (default:
    ``config.strict_plugins``).
    """

    def __init__(
        self,
        config: PlaitConfig | None = None,
        *,
        plugins: Sequence[object] = (),
        entry_points: Iterable[EntryPointLike] | None = None,
        builtins: bool = True,
        strict: bool | None = None,
    ) -> None:
        self.config = config if config is not None else load_config()
        self.strict = self.config.strict_plugins if strict is None else strict
        self._owners = owner_table(self.config)
        self._pm = PlaitPluginManager()
        infos = load_plugins(
            self._pm,
            self.config,
            builtins=BUILTINS if builtins else (),
            entry_points=entry_points,
        )
        self._infos = {i.name: i for i in infos}
        for index, plugin in enumerate(plugins):
            self._add(plugin, index)
        self._registries: dict[str, list[Registration]] = {}
        self._ambiguous: dict[str, PluginError] = {}  # provider names two plugins claim
        self._maps: dict[str, dict[str, Any]] = {}
        self._handlers: list[EventHandler] | None = None
        self._models: dict[str, Model] = {}
        self._stack: Stack | None = Stack.from_config(self.config)
        self._stack_checked = self._stack is None
        self._provenance: dict[str, Any] | None = None
        self._secret_env_names: tuple[str, ...] | None = None
        self._default_policy: DefaultPolicy | None = None
        # plain functions adapted into tools, kept while the function lives: building a
        # tool's schema costs about 1 ms, far more than a run's own overhead
        self._function_tools: weakref.WeakKeyDictionary[Any, Tool] = weakref.WeakKeyDictionary()
        self._live: dict[int, LiveToolset] = {}  # live toolsets held until aclose
        self._raise_failures([i.error for i in self._infos.values() if i.error])
        self._configure()

    # --- loading -------------------------------------------------------------------------

    def _add(self, plugin: object, index: int) -> None:
        name = getattr(plugin, "__name__", None) or f"{type(plugin).__name__}-{index}"
        info = PluginInfo(name, None, None, "loaded", module=name)
        self._infos[name] = info
        register_plugin(self._pm, plugin, info)

    def _raise_failures(
        self, errors: Sequence[PluginError], problems: Sequence[PluginError] = ()
    ) -> None:
        """Strict: raise failures and problems together. Lenient: raise failures of
        required plugins, warn about the rest (problems never fail a plugin)."""
        required = set(self.config.required_plugins)
        fatal = [e for e in errors if e.plugin in required]
        if self.strict and (errors or problems):
            raise PluginErrors([*errors, *problems])
        if fatal:
            raise PluginErrors(fatal)
        for error in (*errors, *problems):  # lenient: go on, but say so (once: it is recorded)
            warnings.warn(PluginWarning(error), stacklevel=_caller_level())
        try:
            self._pm.check_pending()
        except Exception as exc:  # pluggy's own error; attributed as best it can be
            raise PluginErrors([PluginValidationError(str(exc), plugin="(unknown)")]) from None

    def _configure(self) -> None:
        """Call ``plait_configure`` once, after every plugin is registered.

        Not pluggy's historic call: a kernel registers no plugin later, so there is no
        one to replay the call to (the hookspec is not ``historic``).
        """
        errors: list[PluginError] = []
        for call in call_each(self._pm, "plait_configure", self.config):
            if call.error is not None:
                err = hook_error("plait_configure", call.plugin, call.error, self._infos)
                errors.append(err)
                info = self._infos.get(call.plugin)
                if info is not None:
                    info.fail(err)
        self._raise_failures(errors)

    # --- registries ----------------------------------------------------------------------

    def _registrations(self, label: str) -> list[Registration]:
        found = self._registries.get(label)
        if found is None:
            try:
                self._raise_failures(*self._collect(label))
            except PluginErrors:  # raised (strict, or a required plugin): again next time
                del self._registries[label]
                raise
            found = self._registries[label]
        return found

    def _collect(self, label: str) -> tuple[list[PluginError], list[PluginError]]:
        """Call one kind's hooks and keep what they registered; return the failures and
        problems, for the caller to report."""
        got = collect(self._pm, KINDS[label], self.config, self._infos, self._owners)
        for err in got.failures:
            info = self._infos.get(err.plugin)
            if info is not None:
                info.fail(err)
        self._registries[label] = got.registrations
        if label == "providers":
            self._ambiguous = got.ambiguous
        return got.failures, got.problems

    def _registry(self, label: str) -> dict[str, Registration]:
        return {r.name: r for r in self._registrations(label)}

    def _objects(self, label: str) -> dict[str, Any]:
        found = self._maps.get(label)
        if found is None:
            found = self._maps[label] = {r.name: r.obj for r in self._registrations(label)}
        return found

    def providers(self) -> Mapping[str, Provider]:
        """Registered providers by name."""
        return cast("Mapping[str, Provider]", self._objects("providers"))

    def tools(self) -> Mapping[str, Tool]:
        """Registered tools by name."""
        return cast("Mapping[str, Tool]", self._objects("tools"))

    def verifiers(self) -> Mapping[str, Verifier]:
        """Registered verifiers by name."""
        return cast("Mapping[str, Verifier]", self._objects("verifiers"))

    def guardrails(self) -> Mapping[str, Guardrail]:
        """Registered guardrails by name."""
        return cast("Mapping[str, Guardrail]", self._objects("guardrails"))

    def stores(self) -> Mapping[str, Store]:
        """Registered stores by URL scheme."""
        return cast("Mapping[str, Store]", self._objects("stores"))

    def executors(self) -> Mapping[str, Executor]:
        """Registered executors by name."""
        return cast("Mapping[str, Executor]", self._objects("executors"))

    def event_handlers(self) -> Sequence[EventHandler]:
        """Registered event handlers, in the order the hooks were called (pluggy's: LIFO)."""
        if self._handlers is None:
            self._handlers = [r.obj for r in self._registrations("event_handlers")]
        return self._handlers

    def collect_all(self) -> None:
        """Call every registration hook now (``plait plugins`` shows what each registered);
        strict mode raises the failures and problems of every kind together."""
        errors: list[PluginError] = []
        problems: list[PluginError] = []
        fresh = [label for label in KINDS if label not in self._registries]
        for label in fresh:
            failed, found = self._collect(label)
            errors += failed
            problems += found
        if fresh:  # every kind is known now: a bare ``owners`` name none has is a typo
            names = {r.name for regs in self._registries.values() for r in regs}
            names.update(self._ambiguous)
            problems += [
                PluginConfigConflict(
                    f"owners ({switch_source(self.config, 'owners')}) gives {name!r} to "
                    f"{owner!r}, but no plugin registers anything named {name!r}",
                    plugin=owner,
                )
                for name, owner in self._owners.get("", {}).items()
                if name not in names
            ]
        try:
            self._raise_failures(errors, problems)
        except PluginErrors:  # raised: collected again (and raised again) next time
            for label in fresh:
                del self._registries[label]
            raise

    def get(self, label: str, name: str) -> Any:
        """One registered object; a missing one names plugins that failed to provide it."""
        registry = self._registry(label)
        if name in registry:
            return registry[name].obj
        raise self._missing(label, name)

    def _missing(self, label: str, name: str) -> Exception:
        return missing_error(
            label,
            name,
            infos=self._infos,
            config=self.config,
            known=self._registry(label),
            ambiguous=self._ambiguous,
        )

    def function_tool(self, fn: Any) -> Tool:
        """The ``Tool`` adapted from a plain function, built once per kernel and function."""
        try:
            return self._function_tools[fn]
        except (KeyError, TypeError):
            pass
        from ._tool import tool  # the adapter lives with the run loop; import on demand

        adapted: Tool = tool(fn)
        with contextlib.suppress(TypeError):  # not weak-referenceable: adapt next time again
            self._function_tools[fn] = adapted
        return adapted

    def plugins(self) -> list[PluginInfo]:
        """Every plugin the kernel knows of, with its status."""
        return list(self._infos.values())

    def plugin_versions(self) -> dict[str, str | None]:
        """Loaded plugins and their versions, for run metadata."""
        return {i.name: i.version for i in self._infos.values() if i.status == "loaded"}

    # --- models --------------------------------------------------------------------------

    def default_model_spec(self, environ: Mapping[str, str] | None = None) -> str:
        """``PLAIT_MODEL``/config, else the best ``DefaultModel`` a provider offers.

        An offer counts when its ``env`` variable is set (or it names none); the highest
        ``priority`` wins, ties going to the first in ``providers()`` order.
        """
        env = os.environ if environ is None else environ
        if self.config.model:
            return self.config.model
        best: tuple[int, str] | None = None
        waiting: list[str] = []  # offers whose variable is not set, for the message
        for name, provider in self.providers().items():
            offer: DefaultModel | None = optional_attribute(provider, "default_model")
            if offer is None:
                continue
            if offer.env is not None and not env.get(offer.env):
                waiting.append(f"set {offer.env} for {name}:{offer.model_id}")
            elif best is None or offer.priority > best[0]:
                best = (offer.priority, f"{name}:{offer.model_id}")
        if best is not None:
            return best[1]
        hint = f", {', '.join(waiting)}," if waiting else ""
        raise ModelNotConfigured(
            "no model configured: pass model='provider:model-id', set PLAIT_MODEL "
            f"(or `model` in [tool.plait]){hint} or install a provider plugin that offers "
            "a default model (plait-local embeds one)"
        )

    def model(self, spec: str | Model | None = None, **options: Any) -> Model:
        """Resolve ``"provider:model-id"`` (or the default) to a Model; Models pass through."""
        if spec is not None and not isinstance(spec, str):
            return spec
        spec = spec or self.default_model_spec()
        if not options and spec in self._models:
            return self._models[spec]
        prefix, sep, model_id = spec.partition(":")
        if not sep or not prefix:
            names = sorted(self.providers())
            raise ModelNotConfigured(
                f"model {spec!r} has no provider prefix; write 'provider:model-id', "
                f"e.g. '{names[0] if names else 'provider'}:{spec}' "
                f"(providers: {', '.join(names) or 'none'})"
            )
        provider = cast("Provider", self.get("providers", prefix))
        model = provider.model(model_id, **options)
        if not options:
            self._models[spec] = model
        return model

    def secret_env_names(self) -> tuple[str, ...]:
        """Variables the configuration names as holding keys (each profile's
        ``api_key_env``): their values are redacted like ``*_API_KEY`` ones."""
        if self._secret_env_names is None:
            profiles = self.config.providers.values()
            self._secret_env_names = tuple(
                sorted({p.api_key_env for p in profiles if p.api_key_env})
            )
        return self._secret_env_names

    def default_redactor(self) -> Redactor:
        """The default redaction policy of a run starting now (``redact=`` not given):
        one ``Redactor`` shared by this kernel's runs while the environment is unchanged."""
        if self._default_policy is None:
            self._default_policy = DefaultPolicy(self.secret_env_names())
        return self._default_policy.get()

    def model_spec(self, model: Model) -> str | None:
        """The ``"provider:model-id"`` this kernel resolved ``model`` from, if it did
        (what gives the same model again, e.g. to resume a recorded run)."""
        return next((spec for spec, known in self._models.items() if known is model), None)

    # --- the stack and provenance --------------------------------------------------------

    def stack(self) -> Stack | None:
        """The configured stack, its names checked against the registries on first use
        (``ConfigError`` naming each unknown one); ``None`` when nothing is configured."""
        if not self._stack_checked:
            assert self._stack is not None
            self._stack = self._stack.resolved(self)
            self._stack_checked = True
        return self._stack

    def registrations(self, label: str) -> Mapping[str, Registration]:
        """The objects of one kind (``"guardrails"``, ...) by name, with their plugins."""
        return self._registry(label)

    def plugin_info(self, name: str) -> PluginInfo | None:
        """What the kernel knows of the plugin ``name`` (distribution, version, status)."""
        return self._infos.get(name)

    def provenance(self) -> dict[str, Any]:
        """The loaded plugins (name, distribution, version) and the effective stack: what
        a recorded run keeps so an auditor can tell which policy was in force."""
        if self._provenance is None:
            stack = self.stack()
            self._provenance = {
                "plugins": [
                    {"name": i.name, "distribution": i.distribution, "version": i.version}
                    for i in self._infos.values()
                    if i.status == "loaded"
                ],
                "stack": stack.describe() if stack is not None else None,
            }
        return self._provenance

    async def adopt_toolset(self, toolset: LiveToolset) -> None:
        """Hold ``toolset`` (enter it) until this kernel closes: a run is about to list
        its tools (it is registered, or the run's code passed it); once per kernel."""
        key = id(toolset)
        if key in self._live:
            return
        self._live[key] = toolset  # before the await: concurrent runs enter it once
        try:
            await toolset.__aenter__()
        except BaseException:
            del self._live[key]
            raise

    async def aclose(self) -> None:
        """Close the models this kernel created and providers that hold resources, and
        release the live toolsets its runs used (the last holder of an MCP server stops
        its process or connection)."""
        models, self._models = list(self._models.values()), {}
        for model in models:
            await model.aclose()
        for provider in self._registries.get("providers", []):
            closer = getattr(provider.obj, "aclose", None)
            if closer is not None:
                await closer()
        live, self._live = list(self._live.values()), {}
        failed: Exception | None = None
        for toolset in live:  # one that fails to close does not keep the others open
            try:
                await toolset.__aexit__(None, None, None)
            except Exception as exc:
                failed = failed or exc
        if failed is not None:
            raise failed

    async def __aenter__(self) -> Kernel:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
