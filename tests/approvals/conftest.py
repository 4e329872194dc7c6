"""Fixtures for the approval tests: a store URL, a ledger file, the ``bank`` module.

``bank.py`` is the tools and model of every test here; it is loaded by its path (the
tests import in ``importlib`` mode) and also run as a script by a second process.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

BANK = Path(__file__).with_name("bank.py")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A SQLite store URL in the test's folder."""
    return f"sqlite:///{tmp_path}/plait.db"


@pytest.fixture
def bank(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """``bank.py``, with its ledger in the test's folder (``BANK_LEDGER``)."""
    monkeypatch.setenv("BANK_LEDGER", str(tmp_path / "ledger.txt"))
    spec = importlib.util.spec_from_file_location("approval_bank", BANK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
