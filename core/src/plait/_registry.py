"""Call hook implementations, one at a time, with attribution; collect what they register.

``call_each`` is the one way the kernel calls a hook: every implementation separately
(instead of the whole hook at once, pluggy's ``pm.hook.<name>(...)``), so one plugin's
failing hook cannot hide the others' objects, and every result or error knows which
plugin it came from — needed to name both sides of a duplicate. A hook that raises
``ConfigError`` (its settings are wrong) is not a plugin failure: it propagates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ._config import PlaitConfig
from ._contracts import EventHandler, Executor, Guardrail, Provider, Store, Tool, Verifier
from ._errors import ConfigError, DuplicateName, PluginError, PluginRegistrationError
from ._loader import PlaitPluginManager, PluginInfo

__all__ = ["KINDS", "HookCall", "Kind", "Registration", "call_each", "collect", "hook_error"]


@dataclass(frozen=True)
class Kind:
    """One kind of registered object: its hook, contract, and the attribute naming it."""

    label: str
    hook: str
    contract: type
    key: str = "name"
    unique: bool = True


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

    return list(expand_tools(items))


def _check(kind: Kind, obj: Any) -> str:
    if not isinstance(obj, kind.contract):
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
    error: Exception | None = None


def call_each(pm: PlaitPluginManager, hook: str, config: PlaitConfig) -> list[HookCall]:
    """Call every implementation of ``hook`` separately, in pluggy's call order.

    An implementation gets ``config`` when it asks for it. What it raises is kept on its
    ``HookCall``, except ``ConfigError``: the user's settings are wrong, never skipped.
    """
    calls: list[HookCall] = []
    # pluggy lists implementations in registration order (``tryfirst`` last) and calls
    # them reversed: the plugin registered last first, as ``pm.hook.<name>()`` would.
    for impl in reversed(getattr(pm.hook, hook).get_hookimpls()):
        kwargs = {"config": config} if "config" in impl.argnames else {}
        try:
            calls.append(HookCall(impl.plugin_name, impl.function(**kwargs)))
        except ConfigError:
            raise
        except Exception as exc:
            calls.append(HookCall(impl.plugin_name, error=exc))
    return calls


def _attribution(plugin: str, infos: dict[str, PluginInfo]) -> dict[str, Any]:
    info = infos.get(plugin)
    return {
        "plugin": plugin,
        "distribution": info.distribution if info else None,
        "version": info.version if info else None,
    }


def hook_error(
    hook: str, plugin: str, exc: Exception, infos: dict[str, PluginInfo]
) -> PluginRegistrationError:
    """The registration error of ``plugin``'s implementation of ``hook`` that raised ``exc``."""
    return PluginRegistrationError(
        f"{hook} raised {type(exc).__name__}: {exc}", **_attribution(plugin, infos)
    )


def collect(
    pm: PlaitPluginManager, kind: Kind, config: PlaitConfig, infos: dict[str, PluginInfo]
) -> tuple[list[Registration], list[PluginError]]:
    """Call every implementation of ``kind.hook``; return registrations and attributed errors."""
    regs: list[Registration] = []
    errors: list[PluginError] = []
    by_name: dict[str, Registration] = {}
    for call in call_each(pm, kind.hook, config):
        info = infos.get(call.plugin)
        try:
            if call.error is not None:
                raise call.error
            found = [(_check(kind, o), o) for o in _objects(kind, call.result)]
        except ConfigError:
            raise  # the plugin's settings are wrong: the user must hear it, never skipped
        except Exception as exc:
            errors.append(hook_error(kind.hook, call.plugin, exc, infos))
            continue
        for name, obj in found:
            other = by_name.get(name)
            if kind.unique and other is not None:
                errors.append(
                    DuplicateName(
                        f"{kind.label[:-1]} {name!r} is registered by both {other.plugin!r} and "
                        f"{call.plugin!r}; block one (PLAIT_BLOCK_PLUGINS) or rename it",
                        **_attribution(call.plugin, infos),
                    )
                )
                continue
            reg = Registration(name, obj, call.plugin)
            by_name[name] = reg
            regs.append(reg)
            if info is not None:
                info.registered.setdefault(kind.label, []).append(name)
    return regs, errors
