"""The public surface is exactly what ``__all__`` lists, sorted, and every name resolves."""

from __future__ import annotations

import importlib

import pytest

import plait

MODULES = ["plait", "plait.testing", "plait.hookspecs"]


@pytest.mark.parametrize("name", MODULES)
def test_all_is_sorted_and_unique(name: str) -> None:
    exported = importlib.import_module(name).__all__
    assert list(exported) == sorted(set(exported))


def test_all_matches_the_lazy_export_table() -> None:
    assert set(plait.__all__) == set(plait._EXPORTS)


@pytest.mark.parametrize("name", plait.__all__)
def test_every_public_name_resolves_from_a_private_module(name: str) -> None:
    value = getattr(plait, name)
    assert value is not None
    assert name in dir(plait)


def test_unknown_attribute_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = plait.nope  # type: ignore[attr-defined]


def test_public_modules_are_typed() -> None:
    from importlib.resources import files

    assert files("plait").joinpath("py.typed").is_file()
