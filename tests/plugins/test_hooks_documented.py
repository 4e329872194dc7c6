"""Every hookspec is documented in docs/plugins/hooks.md with its exact signature and a
complete docstring, and every hook has a test named for it (datasette's rule:
``test_<hook>...``, a test function the suite collects, not a mention in a string)."""

from __future__ import annotations

import ast
import functools
import inspect
from pathlib import Path

import pytest

from plait import hookspecs

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "plugins" / "hooks.md").read_text()
SECTIONS = ("Called:", "Arguments:", "Returns:", "Failures:", "Since:")


@functools.cache
def _test_names() -> frozenset[str]:
    """The names of the test functions in every test module of the repository."""
    files = [
        *ROOT.joinpath("tests").rglob("test_*.py"),
        *ROOT.joinpath("plugins").rglob("test_*.py"),
    ]
    return frozenset(
        node.name
        for path in files
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.name.startswith("test_")
    )


def _named_for(hook: str, names: frozenset[str] | set[str]) -> list[str]:
    """Tests named ``test_<hook>`` or ``test_<hook>_<more>``."""
    stem = f"test_{hook}"
    return sorted(n for n in names if n == stem or n.startswith(stem + "_"))


@pytest.mark.parametrize("name", hookspecs.__all__)
def test_hook_is_documented_with_its_exact_signature(name: str) -> None:
    func = getattr(hookspecs, name)
    signature = f"def {name}{inspect.signature(func)}".replace("'", "")
    assert f"## `{name}`" in DOC
    assert signature in DOC
    doc = inspect.getdoc(func) or ""
    assert all(section in doc for section in SECTIONS), name


@pytest.mark.parametrize("name", hookspecs.__all__)
def test_hook_has_a_test_named_for_it(name: str) -> None:
    assert _named_for(name, _test_names()), f"no test named test_{name}[_...]"


def test_only_a_test_function_named_for_a_hook_counts() -> None:
    names = {"test_plait_register_tools_are_listed", "test_mentions_plait_register_stores"}
    assert _named_for("plait_register_tools", names) == ["test_plait_register_tools_are_listed"]
    assert _named_for("plait_register_stores", names) == []
    assert _named_for("plait_register_tool", names) == []  # a prefix of another hook


def test_hookspec_module_holds_hookspecs_only() -> None:
    public = [
        n for n, v in vars(hookspecs).items() if inspect.isfunction(v) and not n.startswith("_")
    ]
    assert sorted(public) == sorted(hookspecs.__all__)
    assert all(n.startswith("plait_") for n in public)
