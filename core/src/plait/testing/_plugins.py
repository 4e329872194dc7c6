"""Build kernels for tests: from given plugin objects, or from fake entry points.

``FakeEntryPoint`` behaves like ``importlib.metadata.EntryPoint`` for the loader: it has a
name, a ``module:attr`` value, a distribution with name and version, and imports only
when ``load()`` is called — so "never imported" can be asserted through ``sys.modules``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._config import PlaitConfig
from .._kernel import Kernel

__all__ = ["FakeDistribution", "FakeEntryPoint", "make_kernel"]


@dataclass(frozen=True)
class FakeDistribution:
    """The part of ``importlib.metadata.Distribution`` the loader reads."""

    name: str
    version: str

    @property
    def metadata(self) -> dict[str, str]:
        return {"Name": self.name}


@dataclass
class FakeEntryPoint:
    """An entry point of group ``plait`` that does not need an installed distribution.

    ``value`` is ``"module"`` or ``"module:attr"`` (imported on ``load()``); or give
    ``target`` (an object returned as is) or ``error`` (raised by ``load()``, like a plugin
    whose import fails).
    """

    name: str
    value: str = ""
    distribution: str | None = None
    version: str = "0.0.0"
    target: Any = None
    error: BaseException | None = None
    loads: int = field(default=0, init=False)

    @property
    def dist(self) -> FakeDistribution:
        return FakeDistribution(self.distribution or f"plait-{self.name}", self.version)

    def load(self) -> Any:
        self.loads += 1
        if self.error is not None:
            raise self.error
        if self.target is not None:
            return self.target
        module, _, attr = self.value.partition(":")
        obj: Any = importlib.import_module(module)
        for part in filter(None, attr.split(".")):
            obj = getattr(obj, part)
        return obj


def make_kernel(
    *plugins: object,
    config: PlaitConfig | None = None,
    entry_points: Sequence[FakeEntryPoint] = (),
    builtins: bool = True,
    strict: bool = True,
    **settings: Any,
) -> Kernel:
    """A kernel from these plugin objects and fake entry points; installed ones are ignored.

    ``settings`` are configuration keys (``block_plugins=[...]``) used when no ``config``
    is given; the environment and configuration files are not read.
    """
    cfg = config if config is not None else PlaitConfig.model_validate(settings)
    return Kernel(cfg, plugins=plugins, entry_points=entry_points, builtins=builtins, strict=strict)


KernelFactory = Callable[..., Kernel]
