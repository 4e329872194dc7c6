"""The stack: what configuration gives every run (``[tool.plait.stack]``, profiles, env).

A platform team lists tools, guardrails, verifiers, required event handlers, limits,
redaction and a retry policy once; every run a kernel starts gets them — ``plait.run``,
``Agent``, the CLI, sub-runs and resumed runs alike, because the runner applies the
stack to the run's ``RunSpec`` before it prepares the run. A kind listed in ``enforce``
cannot be removed or weakened by application code (code may add its own); the others
are defaults the code replaces by passing its own. See docs/guardrails.md.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

from ._errors import ConfigError
from ._retry import RetryPolicy
from ._settings import Limits

if TYPE_CHECKING:
    from ._config import PlaitConfig
    from ._kernel import Kernel
    from ._run._options import RunSpec

__all__ = ["NAMED_KINDS", "Stack", "StackItem"]

NAMED_KINDS = ("tools", "guardrails", "verifiers", "handlers")
"""The stack's lists of names, and the kernel registry each is looked up in."""
_REGISTRY = {"handlers": "event_handlers"}


@dataclass(frozen=True, slots=True)
class StackItem:
    """One named item of the stack, where it was set, and the plugin that provides it."""

    kind: str
    name: str
    enforced: bool
    source: str
    plugin: str | None = None
    distribution: str | None = None
    version: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class Stack:
    """The effective stack of one kernel (built once, applied to every run)."""

    items: tuple[StackItem, ...]
    model: str | None  # the configured default model, when ``enforce`` names ``model``
    limits: Limits | None
    redact: bool | None
    retry: RetryPolicy | None
    enforce: frozenset[str]
    sources: dict[str, str]

    @classmethod
    def from_config(cls, config: PlaitConfig) -> Stack | None:
        """The configured stack, or ``None`` when it is empty (runs pay nothing)."""
        conf = config.stack
        if conf == type(conf)():
            return None
        where = {k[6:]: v for k, v in config.origins.items() if k.startswith("stack.")}
        enforce = frozenset(conf.enforce)
        model = None
        if "model" in enforce:
            if config.model is None:
                raise ConfigError(
                    f"{where.get('enforce', 'configuration')}: stack enforce names 'model' "
                    "but no model is configured: set `model` (or PLAIT_MODEL)"
                )
            model = config.model
            where["model"] = config.origins.get("model", "configuration")
        items = tuple(
            StackItem(kind, name, kind in enforce, where.get(kind, "configuration"))
            for kind in NAMED_KINDS
            for name in getattr(conf, kind)
        )
        retry = _retry(conf.retry, where)
        return cls(items, model, conf.limits, conf.redact, retry, enforce, where)

    def names(self, kind: str) -> list[str]:
        return [i.name for i in self.items if i.kind == kind]

    def resolved(self, kernel: Kernel) -> Stack:
        """Every name checked against the kernel's registries, with its plugin."""
        problems: list[str] = []
        items = []
        for item in self.items:
            registry = kernel.registrations(_REGISTRY.get(item.kind, item.kind))
            reg = registry.get(item.name)
            if reg is None:
                known = ", ".join(sorted(registry)) or "none"
                problems.append(
                    f"{item.source}: stack {item.kind} names {item.name!r}, which no loaded "
                    f"plugin registers (registered: {known})"
                )
                continue
            info = kernel.plugin_info(reg.plugin)
            dist = info.distribution if info is not None else None
            version = info.version if info is not None else None
            items.append(_with_plugin(item, reg.plugin, dist, version))
        if problems:
            raise ConfigError("the configured stack cannot be applied:\n  " + "\n  ".join(problems))
        return Stack(
            tuple(items),
            self.model,
            self.limits,
            self.redact,
            self.retry,
            self.enforce,
            self.sources,
        )

    def apply(self, spec: RunSpec) -> RunSpec:
        """``spec`` with the stack: enforced kinds added to the code's, others as defaults."""
        changes: dict[str, Any] = {}
        if self.model is not None:
            self._check_model(spec)
        for kind in ("tools", "guardrails", "verifiers"):
            names = self.names(kind)
            given = getattr(spec, kind)
            if not names:
                continue
            if kind in self.enforce:
                changes[kind] = [*names, *(g for g in given or () if not _same(g, names))]
            elif given is None:  # a list the code passes, even empty, replaces a default
                changes[kind] = names
        limits = self._limits(spec)
        if limits is not None:
            changes["limits"], changes["max_turns"] = limits, None
        if self.redact is not None and (
            spec.redact is None or ("redact" in self.enforce and spec.redact is False)
        ):
            changes["redact"] = self.redact
        if self.retry is not None and spec.retry_policy is None:
            changes["retry_policy"] = self.retry
        return spec._replace(**changes) if changes else spec

    def _check_model(self, spec: RunSpec) -> None:
        """An enforced model: a run may name it (or none), never another."""
        given = spec.model
        if given is None or given == self.model:
            return
        asked = given if isinstance(given, str) else f"a model object ({type(given).__name__})"
        raise ConfigError(
            f"the configuration enforces model {self.model!r} ({self.sources['model']}); "
            f"this run asked for {asked}"
        )

    def _limits(self, spec: RunSpec) -> Limits | None:
        if self.limits is None:
            return None
        given = spec.limits
        if spec.max_turns is not None:
            given = (given or Limits()).model_copy(update={"turns": spec.max_turns})
        if given is None:
            return self.limits
        if "limits" not in self.enforce:
            return None  # the code's own limits replace the default
        return _stricter(self.limits, given)

    def describe(self) -> dict[str, Any]:
        """Plain JSON: what ``plait stack --json`` prints and a recorded run keeps."""
        return {
            "items": [i.to_dict() for i in self.items],
            "model": self.model,
            "limits": self.limits.model_dump(mode="json") if self.limits is not None else None,
            "redact": self.redact,
            "retry": None if self.retry is None else _retry_dict(self.retry),
            "enforce": sorted(self.enforce),
            "sources": dict(self.sources),
        }


def _with_plugin(item: StackItem, plugin: str, dist: str | None, version: str | None) -> StackItem:
    return StackItem(item.kind, item.name, item.enforced, item.source, plugin, dist, version)


def _same(given: Any, names: list[str]) -> bool:
    """``given`` (a name or an object) is one of the stack's ``names`` already."""
    name = given if isinstance(given, str) else getattr(given, "name", None)
    return isinstance(name, str) and name in names


def _stricter(enforced: Limits, given: Limits) -> Limits:
    """Field by field, the stricter of two limits (``None`` is no limit)."""
    values: dict[str, Any] = {}
    for name in Limits.model_fields:
        a, b = getattr(enforced, name), getattr(given, name)
        values[name] = b if a is None else a if b is None else min(a, b)
    return Limits.model_validate(values)  # populate_by_name: field names are accepted


def _retry(values: dict[str, float] | None, where: dict[str, str]) -> RetryPolicy | None:
    if values is None:
        return None
    try:
        return RetryPolicy(**values)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        allowed = ", ".join(f.name for f in fields(RetryPolicy))
        raise ConfigError(
            f"{where.get('retry', 'configuration')}: stack retry: {exc} (fields: {allowed})"
        ) from None


def _retry_dict(policy: RetryPolicy) -> dict[str, Any]:
    return {f.name: getattr(policy, f.name) for f in fields(policy)}
