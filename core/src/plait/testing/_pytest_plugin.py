"""The ``plait`` pytest plugin (entry point ``pytest11``): fixtures for plugin authors.

- ``plait_kernel``: a factory, ``plait_kernel(*plugins, entry_points=[...], **config)``,
  building a strict kernel from the given plugin objects without scanning entry points.
- ``plait_entry_point``: a factory for ``FakeEntryPoint`` objects (also broken ones).
- ``plait_env``: clears every ``PLAIT_*`` variable for the test, so the machine's
  environment cannot leak into it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from .._config import ENV_VARS
from ._plugins import FakeEntryPoint, make_kernel

__all__ = ["plait_entry_point", "plait_env", "plait_kernel"]


@pytest.fixture
def plait_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A monkeypatch with every ``PLAIT_*`` configuration variable removed."""
    for var in (*ENV_VARS, "PLAIT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


@pytest.fixture
def plait_kernel(plait_env: pytest.MonkeyPatch) -> Callable[..., Any]:
    """Build a kernel: ``plait_kernel(*plugins, entry_points=(), strict=True, **config)``."""
    return make_kernel


@pytest.fixture
def plait_entry_point() -> Callable[..., FakeEntryPoint]:
    """Make a fake entry point: ``plait_entry_point("name", "module:attr")`` or
    ``plait_entry_point("broken", error=ImportError("boom"))``."""
    return FakeEntryPoint
