"""Every hookspec is documented in docs/plugins/hooks.md with its exact signature and a
complete docstring, and every hook is exercised by at least one test."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from plait import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "plugins" / "hooks.md").read_text()
SECTIONS = ("Called:", "Arguments:", "Returns:", "Failures:", "Since:")


def _test_sources() -> str:
    files = [
        *ROOT.joinpath("tests").rglob("test_*.py"),
        *ROOT.joinpath("plugins").rglob("test_*.py"),
    ]
    return "\n".join(p.read_text() for p in files if p.name != Path(__file__).name)


@pytest.mark.parametrize("name", hookspecs.__all__)
def test_hook_is_documented_with_its_exact_signature(name: str) -> None:
    func = getattr(hookspecs, name)
    signature = f"def {name}{inspect.signature(func)}".replace("'", "")
    assert f"## `{name}`" in DOC
    assert signature in DOC
    doc = inspect.getdoc(func) or ""
    assert all(section in doc for section in SECTIONS), name


@pytest.mark.parametrize("name", hookspecs.__all__)
def test_hook_has_a_test(name: str) -> None:
    assert name in _test_sources()


def test_hookspec_module_holds_hookspecs_only() -> None:
    public = [
        n for n, v in vars(hookspecs).items() if inspect.isfunction(v) and not n.startswith("_")
    ]
    assert sorted(public) == sorted(hookspecs.__all__)
    assert all(n.startswith("plait_") for n in public)
