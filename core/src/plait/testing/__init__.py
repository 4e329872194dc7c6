"""Test helpers for plait and its plugins: part of the product (pytest plugin ``plait``).

Fixtures (auto-registered through ``pytest11``): ``plait_kernel``, ``plait_entry_point``,
``plait_env``. Objects: ``make_kernel``, ``FakeEntryPoint``.
"""

from __future__ import annotations

from ._plugins import FakeDistribution, FakeEntryPoint, make_kernel

__all__ = [
    "FakeDistribution",
    "FakeEntryPoint",
    "make_kernel",
]
