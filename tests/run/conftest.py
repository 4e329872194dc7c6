"""Fixtures for the run-loop tests: a kernel with built-ins only (no installed plugins)."""

from __future__ import annotations

import pytest

from plait._kernel import Kernel
from plait.testing import make_kernel


@pytest.fixture
def kernel() -> Kernel:
    """A kernel that loads only plait's built-in plugins."""
    return make_kernel()
