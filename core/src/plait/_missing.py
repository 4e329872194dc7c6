"""Why a named object is missing: the error ``Kernel.get`` raises, naming the switch,
the failed or skipped plugin, or the ambiguity that explains it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ._config import PlaitConfig
from ._errors import ConfigError, ModelNotConfigured, PluginError
from ._plugin_info import PluginInfo
from ._switches import same_plugin, switch_source

__all__ = ["missing_error"]


def missing_error(
    label: str,
    name: str,
    *,
    infos: Mapping[str, PluginInfo],
    config: PlaitConfig,
    known: Iterable[str],
    ambiguous: Mapping[str, PluginError],
) -> Exception:
    """The error for ``name`` missing from the registry ``label`` (providers: a
    ``ModelNotConfigured``; other kinds: a ``ConfigError``; a failed plugin: its error)."""
    failed = [i for i in infos.values() if i.status == "failed"]
    same = next((i.error for i in failed if i.name == name and i.error), None)
    if same is not None:
        return same
    kind = label[:-1].replace("_", " ")
    names = ", ".join(sorted(known)) or "none"
    claimed = ambiguous.get(name) if label == "providers" else None
    if claimed is not None:  # two plugins registered it: never pick one silently
        return ModelNotConfigured(claimed.message)
    offered = _skipped_offering(infos.values(), config, kind, name)
    if offered:
        message = f"{offered} (registered: {names})"
        return ModelNotConfigured(message) if label == "providers" else ConfigError(message)
    hint = ""
    if failed:
        hint = "; these plugins failed and may have provided it: " + ", ".join(
            f"{i.name} ({i.error.kind if i.error else 'failed'})" for i in failed
        )
    skipped = [i for i in infos.values() if i.status != "loaded" and not i.error]
    if skipped:
        hint += "; these plugins are not loaded and may provide it: " + ", ".join(
            f"{i.name} ({_why_skipped(config, i)})" for i in skipped
        )
    message = f"no {kind} named {name!r} (registered: {names}){hint}"
    profile = config.providers.get(name) if label == "providers" else None
    if profile is not None:  # a profile no installed plugin took up
        api = "no `api`" if profile.api is None else f"api = {profile.api!r}"
        message = (
            f"provider profile {name!r} has {api} and no installed plugin serves it: "
            f"set `api` to an API a provider plugin serves (registered: {names}){hint}"
        )
    # a missing provider means no model can be had; anything else is a wrong name
    return ModelNotConfigured(message) if label == "providers" else ConfigError(message)


def _skipped_offering(
    infos: Iterable[PluginInfo], config: PlaitConfig, kind: str, name: str
) -> str:
    """``provider 'acme' is offered by plugin 'acme' (distribution plait-acme), which
    PLAIT_BLOCK_PLUGINS blocks`` when a plugin named like ``name`` was not loaded."""
    for info in infos:
        if info.status == "loaded" or info.error is not None:
            continue
        if same_plugin(name, info) or same_plugin(f"plait-{name}", info):
            dist = f" (distribution {info.distribution})" if info.distribution else ""
            return (
                f"{kind} {name!r} is offered by plugin {info.name!r}{dist}, "
                f"{_why_skipped(config, info, which=True)}"
            )
    return ""


def _why_skipped(config: PlaitConfig, info: PluginInfo, *, which: bool = False) -> str:
    """Why ``info`` was not loaded, naming the switch and where it was set."""
    if info.status == "blocked":
        where = switch_source(config, "block_plugins")
        return f"which {where} blocks" if which else f"blocked by {where}"
    if info.status == "not allowed":
        where = switch_source(config, "plugins")
        return f"{'which is ' if which else ''}not in the allow-list ({where})"
    where = switch_source(config, "disable_plugin_autoload")
    reason = f"autoload is off ({where}) and it is neither allow-listed nor required"
    return f"which is not loaded: {reason}" if which else reason
