"""Shared pytest configuration for the kernel's and the plugins' tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """Async tests run on asyncio by default; tests that matter on trio parametrize it."""
    return "asyncio"
