"""Call hook implementations, one at a time, with attribution; collect what they register.

``call_each`` is the one way the kernel calls a hook: every implementation separately
(instead of the whole hook at once, pluggy's ``pm.hook.<name>(...)``), so one plugin's
failing hook cannot hide the others' objects, and every result or error knows which
plugin it came from — needed to name both sides of a duplicate. A hook that raises
``ConfigError`` (its settings are wrong) is not a plugin failure: it propagates. Each
plugin's implementation runs in a worker thread (``SyncCalls``) and may take
``hook_timeout`` seconds: one that sleeps or spins fails its plugin, and the others
still register. plait's own built-ins are kernel code, called in the caller's thread (a
plain ``plait.run`` calls only theirs, so it starts no thread).

A name registered by two plugins is a ``DuplicateName`` problem naming both, unless the
configuration's ``owners`` table says which one answers for it. The first registration
(in call order) is used, except for providers: an ambiguous provider prefix is left out,
so a model asking for it fails naming both plugins instead of picking one silently.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pluggy

from ._builtins import BUILTINS
from ._call import PluginTimeout, SyncCalls, plugin_failure
from ._config import PlaitConfig
from ._contracts import (
    EventHandler,
    Executor,
    Guardrail,
    Provider,
    Store,
    Tool,
    Verifier,
    is_live_toolset,
)
from ._errors import (
    ConfigError,
    DuplicateName,
    PluginConfigConflict,
    PluginError,
    PluginRegistrationError,
)
from ._loader import (
    PlaitPluginManager,
    PluginInfo,
    same_plugin,
    switch_source,
)

__all__ = [
    "KINDS",
    "Collected",
    "HookCall",
    "Kind",
    "Registration",
    "call_each",
    "collect",
    "hook_error",
    "owner_table",
]


@dataclass(frozen=True)
class Kind:
    """One kind of registered object: its hook, contract, and the attribute naming it."""

    label: str
    hook: str
    contract: type
    key: str = "name"
    unique: bool = True

    @property
    def noun(self) -> str:
        """One object of the kind, for messages: ``event handler``."""
        return self.label[:-1].replace("_", " ")


KINDS: dict[str, Kind] = {
    "providers": Kind("providers", "plait_register_providers", Provider),
    "tools": Kind("tools", "plait_register_tools", Tool),
    "verifiers": Kind("verifiers", "plait_register_verifiers", Verifier),
    "guardrails": Kind("guardrails", "plait_register_guardrails", Guardrail),
    "event_handlers": Kind(
        "event_handlers", "plait_register_event_handlers", EventHandler, unique=False
    ),
    "stores": Kind("stores", "plait_register_stores", Store, key="scheme"),
    "executors": Kind("executors", "plait_register_executors", Executor),
}


_BUILTIN_MODULES = frozenset(module for _, module in BUILTINS)


@dataclass(frozen=True)
class Registration:
    """An object and the plugin that registered it."""

    name: str
    obj: Any
    plugin: str


def _objects(kind: Kind, returned: Any) -> list[Any]:
    if returned is None:
        return []
    if isinstance(returned, (str, bytes)) or not isinstance(returned, Iterable):
        raise TypeError(
            f"{kind.hook} must return an iterable of objects, got {type(returned).__name__}"
        )
    items = list(returned)
    if kind.label != "tools":
        return items
    from ._tool import expand_tools  # the adapter lives with the run loop; import on demand

    return list(expand_tools(items, keep_live=True))  # a live toolset is kept whole


def _check(kind: Kind, obj: Any) -> str:
    if kind.label == "tools" and is_live_toolset(obj):
        pass  # registered whole under its name: its tools are listed when a run starts
    elif not isinstance(obj, kind.contract):
        missing = [
            m for m in getattr(kind.contract, "__protocol_attrs__", ()) if not hasattr(obj, m)
        ]
        detail = f" (missing: {', '.join(sorted(missing))})" if missing else ""
        raise TypeError(f"{obj!r} is not a {kind.contract.__name__}{detail}")
    name = getattr(obj, kind.key)
    if not isinstance(name, str) or not name:
        raise TypeError(f"{obj!r} has no usable {kind.key!r}")
    return name


@dataclass(frozen=True, slots=True)
class HookCall:
    """One hook implementation called: its plugin, and what it returned or raised."""

    plugin: str
    result: Any = None
    error: BaseException | None = None


def call_each(pm: PlaitPluginManager, hook: str, config: PlaitConfig) -> list[HookCall]:
    """Call every implementation of ``hook`` separately, in pluggy's call order.

    An implementation gets ``config`` when it asks for it. What it raises is kept on its
    ``HookCall``, except ``ConfigError``: the user's settings are wrong, never skipped.
    One that does not return within ``config.hook_timeout`` keeps a ``PluginTimeout``.
    """
    impls = getattr(pm.hook, hook).get_hookimpls()
    if not impls:
        return []  # no worker thread for a hook nobody implements
    calls: list[HookCall] = []
    # pluggy lists implementations in registration order (``tryfirst`` last) and calls
    # them reversed: the plugin registered last first, as ``pm.hook.<name>()`` would.
    with SyncCalls(config.hook_timeout, name=f"plait hook {hook}") as bounded:
        for impl in reversed(impls):
            kwargs = {"config": config} if "config" in impl.argnames else {}
            try:
                call = functools.partial(_call_impl, impl.function, kwargs)
                result = call() if _builtin(impl) else bounded.call(call)
                calls.append(HookCall(impl.plugin_name, result))
            except ConfigError:
                raise
            except BaseException as exc:  # SystemExit too: a hook never ends the host
                if not plugin_failure(exc):
                    raise
                calls.append(HookCall(impl.plugin_name, error=exc))
    return calls


def _builtin(impl: pluggy.HookImpl) -> bool:
    """``impl`` belongs to one of plait's own built-in plugins (kernel code)."""
    plugin = impl.plugin
    return isinstance(plugin, ModuleType) and plugin.__name__ in _BUILTIN_MODULES


def _call_impl(function: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """One hook implementation's result; a generator is run to its end here, under the
    hook's time bound (iterating it is running the hook)."""
    result = function(**kwargs)
    return list(result) if isinstance(result, Iterator) else result


def _attribution(plugin: str, infos: dict[str, PluginInfo]) -> dict[str, Any]:
    info = infos.get(plugin)
    return {
        "plugin": plugin,
        "distribution": info.distribution if info else None,
        "version": info.version if info else None,
    }


def hook_error(
    hook: str, plugin: str, exc: BaseException, infos: dict[str, PluginInfo]
) -> PluginRegistrationError:
    """The registration error of ``plugin``'s implementation of ``hook`` that raised ``exc``
    (or did not return in time: ``PluginTimeout``)."""
    if isinstance(exc, PluginTimeout):
        message = (
            f"{hook} did not return within {exc.seconds:g}s (hook_timeout); "
            "it is left running in a background thread and its result is discarded"
        )
    else:
        message = f"{hook} raised {type(exc).__name__}: {exc}"
    return PluginRegistrationError(message, **_attribution(plugin, infos))


def owner_table(config: PlaitConfig) -> dict[str, dict[str, str]]:
    """``config.owners`` split by kind label; bare names (every kind) under ``""``.

    A key whose part before the first dot is close to a kind (``provider.acme``) is a
    ``ConfigError`` with a did-you-mean; any other key is a bare name.
    """
    table: dict[str, dict[str, str]] = {}
    for key, owner in config.owners.items():
        head, dot, name = key.partition(".")
        if dot and head in KINDS and name:
            table.setdefault(head, {})[name] = owner
            continue
        close = difflib.get_close_matches(head, list(KINDS), n=1) if dot else []
        if close or (dot and head in KINDS):
            hint = f"did you mean '{close[0]}.{name}'? " if close and name else ""
            raise ConfigError(
                f"{switch_source(config, 'owners')}: key {key!r} names no kind of object; "
                f"{hint}(write '<kind>.<name>' with a kind of {', '.join(KINDS)}, "
                "or a bare name for every kind)"
            )
        table.setdefault("", {})[key] = owner
    return table


@dataclass
class Collected:
    """What one registration hook produced across plugins.

    ``failures`` fail their plugin (a hook raised or returned a bad object); ``problems``
    do not (a duplicate name, an ``owners`` entry that matches nothing); ``ambiguous``
    holds the names left out because no one may answer for them (providers).
    """

    registrations: list[Registration] = field(default_factory=list)
    failures: list[PluginError] = field(default_factory=list)
    problems: list[PluginError] = field(default_factory=list)
    ambiguous: dict[str, PluginError] = field(default_factory=dict)


def collect(
    pm: PlaitPluginManager,
    kind: Kind,
    config: PlaitConfig,
    infos: dict[str, PluginInfo],
    owners: Mapping[str, Mapping[str, str]] | None = None,
) -> Collected:
    """Call every implementation of ``kind.hook``; sort out duplicates by ``owners`` (an
    ``owner_table``); record problems and registered names on ``infos``."""
    out = Collected()
    found: list[Registration] = []
    for call in call_each(pm, kind.hook, config):
        try:
            if call.error is not None:
                raise call.error
            pairs = [(_check(kind, o), o) for o in _objects(kind, call.result)]
        except ConfigError:
            raise  # the plugin's settings are wrong: the user must hear it, never skipped
        except BaseException as exc:  # a hook's SystemExit (kept by call_each) included
            if not plugin_failure(exc):
                raise
            out.failures.append(hook_error(kind.hook, call.plugin, exc, infos))
            continue
        found.extend(Registration(name, obj, call.plugin) for name, obj in pairs)
    by_name: dict[str, list[Registration]] = {}
    for reg in found:
        by_name.setdefault(reg.name, []).append(reg)
    table = owners or {}
    named = table.get(kind.label, {})
    chosen_by = {**table.get("", {}), **named}
    kept: set[int] = set()
    for name, regs in by_name.items():
        chosen = _resolve(kind, name, regs, chosen_by.get(name), config, infos, out)
        kept.update(id(r) for r in chosen)
    for name, owner in named.items():
        if name not in by_name:
            close = difflib.get_close_matches(name, list(by_name), n=1)
            hint = f"; did you mean {kind.label}.{close[0]}?" if close else ""
            _problem(
                out,
                PluginConfigConflict(
                    f"owners ({switch_source(config, 'owners')}) gives {kind.label}.{name} "
                    f"to {owner!r}, but no plugin registers a {kind.noun} {name!r}{hint}",
                    plugin=owner,
                ),
                [owner],
                infos,
            )
    out.registrations = [r for r in found if id(r) in kept]
    for reg in out.registrations:
        info = infos.get(reg.plugin)
        if info is not None:
            info.registered.setdefault(kind.label, []).append(reg.name)
    return out


def _who(plugin: str, infos: Mapping[str, PluginInfo]) -> str:
    info = infos.get(plugin)
    if info is None or info.distribution is None:
        return repr(plugin)
    version = f" {info.version}" if info.version else ""
    return f"{plugin!r} ({info.distribution}{version})"


def _problem(out: Collected, error: PluginError, plugins: Iterable[str], infos: Any) -> None:
    out.problems.append(error)
    for plugin in dict.fromkeys(plugins):
        info = infos.get(plugin)
        if info is not None:
            info.problems.append(error)


def _resolve(
    kind: Kind,
    name: str,
    regs: list[Registration],
    owner: str | None,
    config: PlaitConfig,
    infos: dict[str, PluginInfo],
    out: Collected,
) -> list[Registration]:
    """The registrations of ``name`` to keep; a problem recorded when it is not clear."""
    plugins = list(dict.fromkeys(r.plugin for r in regs))
    if owner is not None:
        owned = [r for r in regs if owner == r.plugin or same_plugin(owner, infos.get(r.plugin))]
        if owned:
            return owned if not kind.unique else owned[:1]
        status = next((i.status for i in infos.values() if same_plugin(owner, i)), None)
        state = f"plugin {owner!r} ({status})" if status not in (None, "loaded") else repr(owner)
        _problem(
            out,
            PluginConfigConflict(
                f"{kind.noun} {name!r} is given to {owner!r} by owners "
                f"({switch_source(config, 'owners')}), but {state} registers no {kind.noun} "
                f"{name!r} (registered by {', '.join(_who(p, infos) for p in plugins)})",
                **_attribution(plugins[0], infos),
            ),
            plugins,
            infos,
        )
    if len(plugins) == 1:
        if not kind.unique or len(regs) == 1:
            return regs
        _problem(
            out,
            DuplicateName(
                f"{kind.noun} {name!r} is registered {len(regs)} times by the same plugin; "
                "the first is used",
                **_attribution(plugins[0], infos),
            ),
            plugins,
            infos,
        )
        return regs[:1]
    both = " and ".join(_who(p, infos) for p in plugins)
    fix = (
        f'name its owner in the configuration (owners = {{ "{kind.label}.{name}" = '
        f'"{plugins[0]}" }} in [tool.plait]) or block one (PLAIT_BLOCK_PLUGINS)'
    )
    if kind.label == "providers":
        outcome = f"models '{name}:...' cannot be used until one is chosen"
        keep: list[Registration] = []
    elif not kind.unique:
        outcome = "all of them run"
        keep = regs
    else:
        outcome = f"the one of {plugins[0]!r} is used (its hook was called first)"
        keep = regs[:1]
    error = DuplicateName(
        f"{kind.noun} {name!r} is registered by both {both}; {outcome}: {fix}",
        **_attribution(plugins[1], infos),
    )
    _problem(out, error, plugins, infos)
    if kind.label == "providers":
        out.ambiguous[name] = error
    return keep
