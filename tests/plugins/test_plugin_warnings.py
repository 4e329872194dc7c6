"""A plugin that fails to load or register, with plait used as a library: one
``plait.PluginWarning`` per failure, not one per run (issue 9)."""

from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path

import pytest

import plait
from plait.testing import FakeEntryPoint, make_kernel

from .conftest import install_distribution

RAISING = """
import plait
@plait.hookimpl
def plait_register_tools():
    raise RuntimeError("cannot register")
"""


def _runs_quietly(kernel: object, times: int = 2) -> None:
    """Run ``times`` times on ``kernel``; fail on any warning at all."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "always" would be too weak: any warning raises
        for _ in range(times):
            result = plait.run("hi", model="test:echo", kernel=kernel)
            assert result.status == "success"


def test_an_import_failure_warns_once_per_kernel() -> None:
    broken = FakeEntryPoint("broken", error=ImportError("no module named 'missing_dep'"))
    with pytest.warns(plait.PluginWarning) as record:
        kernel = make_kernel(entry_points=[broken], strict=False)
    (warning,) = record.list
    assert issubclass(warning.category, UserWarning)
    assert str(warning.message).startswith(
        "plugin broken (plait-broken 0.0.0): import error: ImportError: no module named "
        "'missing_dep'"
    )
    error = warning.message.error  # type: ignore[union-attr]
    assert isinstance(error, plait.PluginImportError) and error.plugin == "broken"
    _runs_quietly(kernel)


def test_a_registration_failure_warns_when_the_kind_is_first_needed(write_module) -> None:
    write_module("raising_plugin", RAISING)
    kernel = make_kernel(entry_points=[FakeEntryPoint("raising", "raising_plugin")], strict=False)
    with pytest.warns(plait.PluginWarning, match="cannot register") as record:
        kernel.tools()
    assert len(record.list) == 1
    _runs_quietly(kernel)  # runs use the tools registry: the failure is not said again


def test_strict_and_required_failures_raise_instead_of_warning() -> None:
    eps = [FakeEntryPoint("broken", error=ImportError("x"))]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(plait.PluginErrors):
            make_kernel(entry_points=eps, strict=True)
        with pytest.raises(plait.PluginErrors):
            make_kernel(entry_points=eps, strict=False, required_plugins=["broken"])


def test_the_warning_pickles_with_its_error() -> None:
    error = plait.PluginImportError("boom", plugin="p", distribution="d", version="1")
    copy = pickle.loads(pickle.dumps(plait.PluginWarning(error)))
    assert str(copy) == str(error) and copy.error.distribution == "d"


def test_plait_run_as_a_library_warns_about_an_installed_broken_plugin(
    plugin_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("PLAIT_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(plugin_dir)
    (plugin_dir / "exploding_plugin.py").write_text("raise RuntimeError('exploded on import')\n")
    install_distribution(plugin_dir, "acme-exploding", "0.3", {"exploding": "exploding_plugin"})
    with pytest.warns(plait.PluginWarning, match=r"acme-exploding 0\.3.*exploded on import") as rec:
        result = plait.run("hi", model="test:echo")
    assert result.status == "success"  # the run goes on without it
    assert len(rec.list) == 1
    assert rec.list[0].filename == __file__  # it points at the caller, not plait's insides
