"""Fixtures of plait-guardrails' tests: a kernel with only this plugin (no entry points)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from plait import Kernel
from plait.testing import make_kernel
from plait_guardrails import hooks


@pytest.fixture
def guard_kernel() -> Callable[..., Kernel]:
    """``guard_kernel(**settings)``: a kernel with the pack, settings as in the config."""

    def build(**settings: Any) -> Kernel:
        return make_kernel(hooks, plugin={"guardrails": settings})

    return build
