"""The plugin switches checked against what is installed (allow-, block-, required
lists, ``owners``): a name no installed plugin has, or two switches that contradict each
other, become a ``PluginNotFound`` / ``PluginConfigConflict`` row naming where each
switch was set — so a typo in a switch is never silently ignored."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from ._config import ENV_VARS, PlaitConfig
from ._errors import PluginConfigConflict, PluginError, PluginNotFound
from ._plugin_info import PluginInfo, normal_name

__all__ = ["check_owners", "check_switches", "plugin_label", "same_plugin", "switch_source"]

_LISTS = {
    "plugins": "the allow-list",
    "block_plugins": "the block-list",
    "required_plugins": "the required list",
}


def same_plugin(wanted: str, info: PluginInfo | None) -> bool:
    """Whether ``wanted`` (a plugin name, or a distribution name) names this plugin."""
    if info is None:
        return False
    dist = info.distribution
    return wanted == info.name or (dist is not None and normal_name(wanted) == normal_name(dist))


def switch_source(config: PlaitConfig, key: str) -> str:
    """Where the switch ``key`` was set, for messages: ``PLAIT_BLOCK_PLUGINS``, or
    ``block_plugins in /path/plait.toml`` (just the key when set in code)."""
    origin = config.origins.get(key)
    if origin is None:
        return key
    var = next((v for v, k in ENV_VARS.items() if k == key), None)
    if var is not None and origin == f"environment variable {var}":
        return var
    if origin.startswith(("/", ".")) or "[tool.plait]" in origin or origin.endswith(".toml"):
        return f"{key} in {origin}"
    return f"{key} ({origin})"


def _suggest(name: str, known: Iterable[str]) -> str:
    """``; did you mean 'x'?``, else the installed names."""
    names = sorted(set(known))
    close = difflib.get_close_matches(name, names, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f" (installed: {', '.join(names) or 'none'})"


def plugin_label(info: PluginInfo) -> str:
    """``'name' (distribution version)``, for messages naming a plugin."""
    if info.distribution is None:
        return repr(info.name)
    version = f" {info.version}" if info.version else ""
    return f"{info.name!r} ({info.distribution}{version})"


def check_switches(config: PlaitConfig, known: dict[str, PluginInfo]) -> list[PluginInfo]:
    """Fail names in the allow-, block- and required lists that no installed plugin has
    (one row each, naming every list it is in), and required plugins that are blocked.

    Returns the rows made for names that are not installed.
    """
    rows: list[PluginInfo] = []
    required, blocked = set(config.required_plugins), set(config.block_plugins)
    named = (*config.required_plugins, *(config.plugins or ()), *config.block_plugins)
    for name in dict.fromkeys(named):
        info = known.get(name)
        missing = ""
        if info is None:
            missing = f" no installed plugin has that name{_suggest(name, known)}"
        if name in required and name in blocked:
            error: PluginError = PluginConfigConflict(
                f"{name!r} is both required ({switch_source(config, 'required_plugins')}) "
                f"and blocked ({switch_source(config, 'block_plugins')}); a required plugin "
                "must load: take it out of one of the two lists"
                + (f" (besides,{missing})" if missing else ""),
                plugin=name,
            )
        elif info is None:
            lists = " and ".join(
                f"{label} ({switch_source(config, key)})"
                for key, label in _LISTS.items()
                if name in (getattr(config, key) or ())
            )
            error = PluginNotFound(f"{name!r} is in {lists} but{missing}", plugin=name)
        else:
            continue
        if info is None:
            info = PluginInfo(name, None, None, "failed")
            rows.append(info)
        else:
            error.distribution, error.version = info.distribution, info.version
        info.fail(error)
    return rows


def check_owners(config: PlaitConfig, infos: list[PluginInfo]) -> list[PluginInfo]:
    """One ``PluginNotFound`` row per ``owners`` value that names no installed plugin
    (by plugin or distribution name)."""
    unknown: dict[str, list[str]] = {}
    for key, owner in config.owners.items():
        if not any(same_plugin(owner, i) for i in infos):
            unknown.setdefault(owner, []).append(key)
    names = [i.name for i in infos] + [i.distribution for i in infos if i.distribution]
    rows: list[PluginInfo] = []
    for owner, keys in unknown.items():
        info = PluginInfo(owner, None, None, "failed")
        info.fail(
            PluginNotFound(
                f"{owner!r} is named as the owner of {', '.join(map(repr, keys))} "
                f"({switch_source(config, 'owners')}) but no installed plugin or "
                f"distribution has that name{_suggest(owner, names)}",
                plugin=owner,
            )
        )
        rows.append(info)
    return rows
