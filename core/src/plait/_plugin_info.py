"""What the kernel knows of one plugin (``PluginInfo``): ``plait plugins`` prints these."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ._errors import PluginError

__all__ = ["PluginInfo", "PluginStatus", "normal_name"]

PluginStatus = Literal["loaded", "failed", "blocked", "not allowed", "disabled"]


@dataclass
class PluginInfo:
    """One plugin as the kernel sees it; ``plait plugins`` prints these."""

    name: str
    distribution: str | None
    version: str | None
    status: PluginStatus
    module: str | None = None
    builtin: bool = False
    hooks: tuple[str, ...] = ()
    registered: dict[str, list[str]] = field(default_factory=dict)
    error: PluginError | None = None
    problems: list[PluginError] = field(default_factory=list)
    """What concerns this plugin without failing it (a duplicate name it is part of)."""

    def fail(self, error: PluginError) -> None:
        """Mark the plugin failed (the first error wins; later ones are kept in its message)."""
        self.status = "failed"
        if self.error is None:
            self.error = error

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, for ``plait plugins --json``."""
        return {
            "name": self.name,
            "distribution": self.distribution,
            "version": self.version,
            "status": self.status,
            "builtin": self.builtin,
            "module": self.module,
            "hooks": list(self.hooks),
            "registered": self.registered,
            "error": None if self.error is None else _error_dict(self.error),
            "problems": [_error_dict(p) for p in self.problems],
        }


def _error_dict(error: PluginError) -> dict[str, Any]:
    return {"kind": error.kind, "type": type(error).__name__, "message": error.message}


def normal_name(name: str) -> str:
    """A distribution name as packaging compares them (``Plait_Acme`` is ``plait-acme``)."""
    return name.lower().replace("_", "-").replace(".", "-")
