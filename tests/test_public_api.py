"""The public doors: each lists its names once (``_EXPORTS``), and everything agrees with it.

``plait`` (application authors), ``plait.provider`` (provider plugins) and ``plait.store``
(store plugins) load names lazily from a table; type checkers read the ``TYPE_CHECKING``
imports instead. These tests fail when the two disagree, when ``__all__`` is not the
sorted table, when a name does not resolve from the module the table names, or when one
name means two things in two doors.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from types import ModuleType

import pytest

import plait

DOORS = ["plait", "plait.provider", "plait.store"]
MODULES = [*DOORS, "plait.testing", "plait.hookspecs"]
# Module-level names of a door that are not exports (the lazy machinery and typing).
MACHINERY = {"TYPE_CHECKING", "annotations", "lazy_exports"}


def _door(name: str) -> ModuleType:
    return importlib.import_module(name)


def type_checking_imports(source: str) -> dict[str, str]:
    """``{name: module}`` of the ``from .module import name as name`` lines under TYPE_CHECKING."""
    found: dict[str, str] = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for stmt in node.body:
                assert isinstance(stmt, ast.ImportFrom) and stmt.level == 1, ast.unparse(stmt)
                for alias in stmt.names:
                    # ``X as X`` re-exports X for type checkers (PEP 484, mypy strict).
                    assert alias.asname == alias.name, ast.unparse(stmt)
                    assert alias.name not in found, f"{alias.name} imported twice"
                    found[alias.name] = str(stmt.module)
    return found


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_unique(name: str) -> None:
    exported = _door(name).__all__
    assert list(exported) == sorted(set(exported))


@pytest.mark.parametrize("name", DOORS)
def test_all_is_the_export_table(name: str) -> None:
    door = _door(name)
    assert door.__all__ == sorted(door._EXPORTS)


@pytest.mark.parametrize("name", DOORS)
def test_type_checking_imports_are_the_export_table(name: str) -> None:
    door = _door(name)
    assert type_checking_imports(inspect.getsource(door)) == door._EXPORTS


def test_type_checking_check_can_fail() -> None:
    source = "if TYPE_CHECKING:\n    from ._run import run as run\n"
    assert type_checking_imports(source) == {"run": "_run"}
    # a name the table has but the type checker does not see (resume was missing once)
    assert type_checking_imports(source) != {"resume": "_run", "run": "_run"}
    with pytest.raises(AssertionError):  # ``from ._run import run`` is not re-exported
        type_checking_imports(source.replace("run as run", "run"))


@pytest.mark.parametrize(
    ("door", "name", "module"),
    [(door, name, module) for door in DOORS for name, module in _door(door)._EXPORTS.items()],
)
def test_every_public_name_resolves_from_its_module(door: str, name: str, module: str) -> None:
    defining = importlib.import_module(f"plait.{module}")
    assert name in vars(defining), f"plait.{module} has no {name}"
    assert getattr(_door(door), name) is vars(defining)[name]


@pytest.mark.parametrize("name", DOORS)
def test_a_door_has_no_other_public_names(name: str) -> None:
    door = _door(name)
    # Submodules (plait.provider, plait.testing, ...) become attributes when imported.
    public = {
        n
        for n, v in vars(door).items()
        if n.isidentifier() and not n.startswith("_") and not isinstance(v, ModuleType)
    }
    assert public - MACHINERY <= set(door.__all__)
    assert set(door.__all__) <= set(dir(door))


def test_a_name_means_one_thing_in_every_door() -> None:
    doors = [_door(name) for name in DOORS]
    for name in set().union(*(d.__all__ for d in doors)):
        values = {id(getattr(d, name)) for d in doors if name in d.__all__}
        assert len(values) == 1, name
    run_names = set(importlib.import_module("plait._run").__all__)
    assert not run_names & set(_door("plait.store").__all__)


def test_the_app_door_keeps_plugin_kits_out() -> None:
    for name in ("StreamEvent", "FinishReason", "ClientPool", "StoreConnection", "StepRecord"):
        assert name not in plait.__all__
    assert "Kernel" in plait.__all__


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = plait.nope  # type: ignore[attr-defined]
    with pytest.raises(AttributeError, match=r"'plait\.provider' has no attribute 'nope'"):
        _ = _door("plait.provider").nope


def test_public_modules_are_typed() -> None:
    from importlib.resources import files

    assert files("plait").joinpath("py.typed").is_file()
