"""Plugin loading: entry points of group ``plait``, one at a time, allow-listed before import.

Every plugin ends in a ``PluginInfo`` whose ``status`` says what happened: ``loaded``,
``failed`` (with a classified, attributed ``PluginError``), ``blocked``, ``not allowed``
or ``disabled`` (autoload switched off). A failure in one plugin never stops the others;
whether failures raise is the caller's choice (strict mode). The first import of an
entry point runs in a worker thread and may take ``import_timeout`` seconds: a plugin
that hangs at import fails, named, and the others still load (a module imported before
is loaded in the caller's thread: no thread for what cannot hang).

Every switch is checked against what is installed: a name in the allow-, block- or
required list (or an ``owners`` value) that no installed plugin has becomes a
``PluginNotFound`` row with a did-you-mean, and a plugin both required and blocked a
``PluginConfigConflict`` — so a typo in a switch is never silently ignored.
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import sys
import traceback
from collections.abc import Iterable, Sequence
from importlib import metadata
from types import FunctionType, MethodType, ModuleType
from typing import Any, Protocol

import pluggy

from . import hookspecs
from ._call import PluginTimeout, SyncCalls, plugin_failure
from ._config import PlaitConfig
from ._errors import (
    DuplicateName,
    PluginError,
    PluginImportError,
    PluginValidationError,
)
from ._markers import PROJECT
from ._plugin_info import PluginInfo, PluginStatus
from ._switches import check_owners, check_switches, plugin_label, same_plugin, switch_source

__all__ = [
    "BUILTIN_DISTRIBUTION",
    "EntryPointLike",
    "PlaitPluginManager",
    "PluginInfo",
    "PluginStatus",
    "discover_entry_points",
    "load_plugins",
    "same_plugin",
    "switch_source",
]

BUILTIN_DISTRIBUTION = "plait (built-in)"
HOOK_PREFIX = "plait_"
_IMPL_MARK = f"{PROJECT}_impl"  # the attribute ``@hookimpl`` sets on a function


class EntryPointLike(Protocol):
    """What the loader needs of an entry point (``importlib.metadata.EntryPoint`` fits)."""

    name: str
    value: str

    def load(self) -> Any: ...


class PlaitPluginManager(pluggy.PluginManager):
    """A pluggy manager for the ``plait`` namespace.

    Unmarked functions named ``plait_*`` count as hook implementations too (as in pytest),
    so a misspelt hook is caught instead of silently ignored.
    """

    def __init__(self) -> None:
        super().__init__(PROJECT)
        self.add_hookspecs(hookspecs)

    def parse_hookimpl_opts(self, plugin: Any, name: str) -> Any:
        if not name.startswith(HOOK_PREFIX) and isinstance(plugin, ModuleType):
            # most names of a module are imports and constants: skip pluggy's static
            # lookup (the slow part of registering) for what cannot be a hookimpl
            value = vars(plugin).get(name)
            if isinstance(value, FunctionType):
                if _IMPL_MARK not in value.__dict__:
                    return None
            elif not isinstance(value, staticmethod | classmethod | MethodType):
                return None  # pluggy hooks only functions, static/class and bound methods
        opts = super().parse_hookimpl_opts(plugin, name)
        if opts is None and name.startswith(HOOK_PREFIX):
            method = getattr(plugin, name, None)
            if inspect.isroutine(method):
                return {}
        return opts


def discover_entry_points() -> list[EntryPointLike]:
    """The installed entry points of group ``plait`` (reads metadata; imports nothing).

    Like ``importlib.metadata.entry_points(group="plait")`` (first distribution of a
    name on ``sys.path`` wins), but only distributions whose ``entry_points.txt`` has a
    ``[plait]`` section are parsed: the others cost one file read each.
    """
    found: list[EntryPointLike] = []
    seen: set[str] = set()
    for dist in metadata.distributions():
        text = dist.read_text("entry_points.txt")
        if not text or f"[{PROJECT}]" not in text:
            continue
        name, _ = _name_version(dist)
        if name is not None:
            key = name.lower().replace("_", "-").replace(".", "-")
            if key in seen:
                continue
            seen.add(key)
        found.extend(dist.entry_points.select(group=PROJECT))
    return found


def _name_version(dist: Any) -> tuple[str | None, str | None]:
    """Name and version from the metadata headers (no full e-mail parse: it is slow)."""
    text = dist.read_text("METADATA") or dist.read_text("PKG-INFO") or ""
    name = version = None
    for line in text.splitlines():
        if not line:
            break  # the headers end at the first blank line
        if line.startswith("Name:"):
            name = line[5:].strip()
        elif line.startswith("Version:"):
            version = line[8:].strip()
    return name, version


def _distribution(ep: Any) -> tuple[str | None, str | None]:
    dist = getattr(ep, "dist", None)
    if dist is None:
        return None, None
    if isinstance(dist, metadata.Distribution):
        return _name_version(dist)
    return dist.metadata["Name"], dist.version  # anything distribution-like


def _import_failure(exc: BaseException) -> str:
    """``Type: message (at file:line)`` with import machinery trimmed away."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "importlib" not in f.filename
        and "<frozen" not in f.filename
        and not f.filename.endswith(("plait/_loader.py", "plait\\_loader.py"))
    ]
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _validate_module(pm: PlaitPluginManager, plugin: object, info: PluginInfo) -> None:
    """Reject async hookimpls and hooks without a spec, before registering anything."""
    known = set(pm.hook.__dict__)
    for name in dir(plugin):
        if not name.startswith(HOOK_PREFIX):
            continue
        func = getattr(plugin, name)
        if not inspect.isroutine(func):
            continue
        if inspect.iscoroutinefunction(func) or inspect.isasyncgenfunction(func):
            raise PluginValidationError(
                f"hook {name} is `async def`; hooks must be synchronous and only return "
                "objects: put the async work in the returned object's methods "
                "(e.g. Tool.call, Model.request)",
                plugin=info.name,
                distribution=info.distribution,
                version=info.version,
            )
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise PluginValidationError(
                f"unknown hook {name}{hint}",
                plugin=info.name,
                distribution=info.distribution,
                version=info.version,
            )


def register_plugin(pm: PlaitPluginManager, plugin: object, info: PluginInfo) -> None:
    """Validate and register one plugin object; failures are recorded on ``info``."""
    try:
        _validate_module(pm, plugin, info)
        pm.register(plugin, name=info.name)
    except PluginError as exc:
        info.fail(exc)
        return
    except (pluggy.PluginValidationError, ValueError) as exc:
        info.fail(
            PluginValidationError(
                str(exc),
                plugin=info.name,
                distribution=info.distribution,
                version=info.version,
            )
        )
        return
    info.status = "loaded"
    info.hooks = tuple(sorted(c.name for c in pm.get_hookcallers(plugin) or ()))


def _entry_point_status(name: str, config: PlaitConfig) -> PluginStatus | None:
    """Why this entry point is not imported, or None when it is to be loaded."""
    if name in config.block_plugins:
        return "blocked"
    wanted = set(config.required_plugins) | set(config.plugins or ())
    if config.plugins is not None and name not in wanted:
        return "not allowed"
    if config.disable_plugin_autoload and name not in wanted:
        return "disabled"
    return None


def _imported(ep: EntryPointLike) -> bool:
    """``ep``'s module is imported already (fully): loading it runs no plugin code."""
    module = sys.modules.get(ep.value.partition(":")[0].strip())
    spec = getattr(module, "__spec__", None)
    return module is not None and not getattr(spec, "_initializing", False)


def _load_entry_point(
    pm: PlaitPluginManager, ep: EntryPointLike, info: PluginInfo, bounded: SyncCalls
) -> None:
    try:
        plugin = ep.load() if _imported(ep) else bounded.call(ep.load)
    except BaseException as exc:  # sys.exit() at import too: a plugin never ends the host
        if not plugin_failure(exc):
            raise
        message = _import_failure(exc)
        if isinstance(exc, PluginTimeout):
            message = (
                f"import {exc} (import_timeout); it is left running in a background "
                "thread, and importing its module again waits for it"
            )
        info.fail(
            PluginImportError(
                message,
                plugin=info.name,
                distribution=info.distribution,
                version=info.version,
            )
        )
        return
    info.module = plugin.__name__ if isinstance(plugin, ModuleType) else repr(plugin)
    register_plugin(pm, plugin, info)


def _entry_point(
    pm: PlaitPluginManager,
    ep: EntryPointLike,
    config: PlaitConfig,
    infos: list[PluginInfo],
    known: dict[str, PluginInfo],
    bounded: SyncCalls,
) -> None:
    """Load one entry point unless it is a duplicate or switched off; record its info."""
    dist, version = _distribution(ep)
    info = PluginInfo(ep.name, dist, version, "loaded", module=ep.value)
    infos.append(info)
    first = known.get(ep.name)
    if first is not None:
        info.fail(
            DuplicateName(
                f"entry point name {ep.name!r} is already taken by {plugin_label(first)}, "
                "found first on the path; this one is not loaded: uninstall one",
                plugin=ep.name,
                distribution=dist,
                version=version,
            )
        )
        return
    known[ep.name] = info
    skip = _entry_point_status(ep.name, config)
    if skip is not None:
        info.status = skip
        return
    _load_entry_point(pm, ep, info, bounded)


def load_plugins(
    pm: PlaitPluginManager,
    config: PlaitConfig,
    *,
    builtins: Sequence[tuple[str, str]] = (),
    entry_points: Iterable[EntryPointLike] | None = None,
) -> list[PluginInfo]:
    """Register built-ins, then entry points one at a time; return one info per plugin.

    Blocked, non-allowed and disabled plugins are never imported. A name in a switch that
    no installed plugin has, and a plugin both required and blocked, become failures
    (see ``_check_switches``).
    """
    infos: list[PluginInfo] = []
    for name, module in builtins:
        info = PluginInfo(name, BUILTIN_DISTRIBUTION, None, "loaded", module=module, builtin=True)
        infos.append(info)
        if name in config.block_plugins:
            info.status = "blocked"
            continue
        try:
            plugin = importlib.import_module(module)
        except BaseException as exc:
            if not plugin_failure(exc):
                raise
            info.fail(
                PluginImportError(
                    _import_failure(exc), plugin=name, distribution=BUILTIN_DISTRIBUTION
                )
            )
            continue
        register_plugin(pm, plugin, info)
    known = {i.name: i for i in infos}
    eps = discover_entry_points() if entry_points is None else list(entry_points)
    with SyncCalls(config.import_timeout, name="plait plugin imports") as bounded:
        for ep in eps:
            _entry_point(pm, ep, config, infos, known, bounded)
    if config.plugins is not None or config.block_plugins or config.required_plugins:
        infos.extend(check_switches(config, known))
    if config.owners:
        infos.extend(check_owners(config, infos))
    return infos
