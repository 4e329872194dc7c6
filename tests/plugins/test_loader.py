"""Plugin loading: isolation, allow/deny before import, classified and attributed errors."""

from __future__ import annotations

import sys

import pytest

import plait
from plait.testing import FakeEntryPoint, make_kernel

GOOD = """
import plait

class Echo:
    name = "echo-tool"
    description = "echo"
    parameters = {"type": "object", "properties": {}}
    timeout = None
    retries = 0
    idempotent = True
    requires_approval = False
    sequential = False
    async def call(self, args, ctx):
        return "echo"

@plait.hookimpl
def plait_register_tools():
    return [Echo()]
"""


def ep(name: str, value: str, **kw: object) -> FakeEntryPoint:
    return FakeEntryPoint(name, value, **kw)  # type: ignore[arg-type]


def test_broken_import_does_not_stop_other_plugins(write_module) -> None:
    write_module("good_plugin", GOOD)
    broken = ep("broken", "", error=ImportError("no module named 'missing_dep'"))
    with pytest.warns(plait.PluginWarning, match="plait-broken.*missing_dep"):
        kernel = make_kernel(entry_points=[broken, ep("good", "good_plugin")], strict=False)
    status = {i.name: i.status for i in kernel.plugins()}
    assert status["broken"] == "failed" and status["good"] == "loaded"
    assert "echo-tool" in kernel.tools()
    error = next(i.error for i in kernel.plugins() if i.name == "broken")
    assert isinstance(error, plait.PluginImportError)
    assert "missing_dep" in str(error) and "plait-broken" in str(error)


def test_strict_mode_raises_every_failure_together_naming_the_distribution() -> None:
    eps = [
        ep("one", "", error=ImportError("boom"), distribution="acme-one", version="1.2"),
        ep("two", "", error=RuntimeError("bang"), distribution="acme-two"),
    ]
    with pytest.raises(plait.PluginErrors) as info:
        make_kernel(entry_points=eps, strict=True, builtins=False)
    text = str(info.value)
    assert "acme-one 1.2" in text and "acme-two" in text
    assert [type(e) for e in info.value.errors] == [plait.PluginImportError] * 2


@pytest.mark.parametrize(
    "settings",
    [{"block_plugins": ["secret"]}, {"plugins": ["other"]}, {"disable_plugin_autoload": True}],
    ids=["blocked", "not-allowed", "autoload-off"],
)
def test_plugin_not_loaded_is_never_imported(write_module, settings) -> None:
    module = write_module("secret_plugin_mod", GOOD)
    eps = [ep("secret", module)]
    if settings.get("plugins"):
        write_module("other_plugin_mod", GOOD.replace("echo-tool", "other-tool"))
        eps.append(ep("other", "other_plugin_mod"))
    kernel = make_kernel(entry_points=eps, strict=False, **settings)
    assert module not in sys.modules
    assert eps[0].loads == 0
    info = next(i for i in kernel.plugins() if i.name == "secret")
    assert info.status in {"blocked", "not allowed", "disabled"}


def test_autoload_off_still_loads_allow_listed_and_required(write_module) -> None:
    write_module("req_plugin", GOOD)
    kernel = make_kernel(
        entry_points=[ep("req", "req_plugin")],
        disable_plugin_autoload=True,
        required_plugins=["req"],
    )
    assert "echo-tool" in kernel.tools()


def test_missing_required_plugin_is_fatal_even_in_lenient_mode() -> None:
    with pytest.raises(plait.PluginErrors) as info:
        make_kernel(required_plugins=["nowhere"], strict=False)
    assert isinstance(info.value.errors[0], plait.PluginNotFound)
    assert "nowhere" in str(info.value)


def test_allow_listed_but_not_installed_is_not_found() -> None:
    with pytest.warns(plait.PluginWarning, match="ghost"):
        kernel = make_kernel(plugins=["ghost"], strict=False)
    info = next(i for i in kernel.plugins() if i.name == "ghost")
    assert isinstance(info.error, plait.PluginNotFound)


def test_failed_required_plugin_is_fatal(write_module) -> None:
    eps = [ep("needed", "", error=ImportError("x"))]
    with pytest.raises(plait.PluginErrors):
        make_kernel(entry_points=eps, strict=False, required_plugins=["needed"])


def test_async_hookimpl_is_rejected_with_where_the_work_belongs(write_module) -> None:
    write_module(
        "async_plugin",
        """
import plait
@plait.hookimpl
async def plait_register_tools():
    return []
""",
    )
    with pytest.warns(plait.PluginWarning, match="async def"):
        kernel = make_kernel(entry_points=[ep("asyncy", "async_plugin")], strict=False)
    error = next(i.error for i in kernel.plugins() if i.name == "asyncy")
    assert isinstance(error, plait.PluginValidationError)
    assert "async def" in str(error) and "returned object" in str(error)


def test_misspelt_hook_is_rejected_with_a_suggestion(write_module) -> None:
    write_module(
        "typo_plugin",
        """
def plait_register_tool():
    return []
""",
    )
    with pytest.raises(plait.PluginErrors) as info:
        make_kernel(entry_points=[ep("typo", "typo_plugin")])
    error = info.value.errors[0]
    assert isinstance(error, plait.PluginValidationError)
    assert "did you mean plait_register_tools" in str(error)


def test_wrong_signature_is_a_validation_error(write_module) -> None:
    write_module(
        "sig_plugin",
        """
import plait
@plait.hookimpl
def plait_register_tools(config, extra_argument):
    return []
""",
    )
    with pytest.warns(plait.PluginWarning, match="extra_argument"):
        kernel = make_kernel(entry_points=[ep("sig", "sig_plugin")], strict=False)
    error = next(i.error for i in kernel.plugins() if i.name == "sig")
    assert isinstance(error, plait.PluginValidationError)
    assert "extra_argument" in str(error)


def test_raising_hook_is_a_registration_error_and_others_still_register(write_module) -> None:
    write_module(
        "raising_plugin",
        """
import plait
@plait.hookimpl
def plait_register_tools():
    raise RuntimeError("cannot register")
""",
    )
    write_module("fine_plugin", GOOD)
    eps = [ep("raising", "raising_plugin"), ep("fine", "fine_plugin")]
    kernel = make_kernel(entry_points=eps, strict=False)
    with pytest.warns(plait.PluginWarning, match="cannot register"):  # registered lazily
        assert "echo-tool" in kernel.tools()
    info = next(i for i in kernel.plugins() if i.name == "raising")
    assert info.status == "failed"
    assert isinstance(info.error, plait.PluginRegistrationError)
    assert "cannot register" in str(info.error)
    with pytest.raises(plait.PluginErrors):
        make_kernel(entry_points=eps, strict=True).tools()


def test_object_not_fitting_the_contract_is_a_registration_error(write_module) -> None:
    write_module(
        "shape_plugin",
        """
import plait
@plait.hookimpl
def plait_register_verifiers():
    return [object()]
""",
    )
    kernel = make_kernel(entry_points=[ep("shape", "shape_plugin")], strict=False)
    with pytest.warns(plait.PluginWarning, match="is not a Verifier"):
        assert kernel.verifiers() == {}
    info = next(i for i in kernel.plugins() if i.name == "shape")
    assert "is not a Verifier" in str(info.error)


def test_duplicate_name_names_both_plugins(write_module) -> None:
    write_module("dup_a", GOOD)
    write_module("dup_b", GOOD)
    eps = [ep("alpha", "dup_a"), ep("beta", "dup_b")]
    with pytest.raises(plait.PluginErrors) as info:
        make_kernel(entry_points=eps).tools()
    error = info.value.errors[0]
    assert isinstance(error, plait.DuplicateName)
    assert "'alpha'" in str(error) and "'beta'" in str(error)


def test_builtins_are_plugins_that_can_be_listed_and_blocked() -> None:
    kernel = make_kernel(strict=False)
    builtin = {i.name for i in kernel.plugins() if i.builtin}
    assert {"local-executor", "test-models", "console", "sqlite"} <= builtin
    assert "local" in kernel.executors()
    blocked = make_kernel(block_plugins=["local-executor"], strict=False)
    assert "local" not in blocked.executors()
    assert next(i for i in blocked.plugins() if i.name == "local-executor").status == "blocked"


def test_missing_object_names_the_plugin_that_failed_to_provide_it() -> None:
    eps = [ep("weather", "", error=ImportError("no"))]
    with pytest.warns(plait.PluginWarning, match="weather"):
        kernel = make_kernel(entry_points=eps, strict=False)
    with pytest.raises(plait.PluginImportError):
        kernel.get("tools", "weather")
    with pytest.raises(plait.ConfigError, match="weather"):
        kernel.get("tools", "forecast")


def test_configure_sees_the_config_once_and_versions_are_recorded(write_module) -> None:
    write_module(
        "conf_plugin",
        """
import plait
SEEN = []
@plait.hookimpl
def plait_configure(config):
    SEEN.append(config.model)
""",
    )
    kernel = make_kernel(entry_points=[ep("conf", "conf_plugin", version="3.1")], model="x:y")
    assert sys.modules["conf_plugin"].SEEN == ["x:y"]
    assert kernel.plugin_versions()["conf"] == "3.1"


def test_plugin_objects_can_be_passed_directly(write_module) -> None:
    write_module("direct_plugin", GOOD)
    kernel = make_kernel(sys.modules.get("direct_plugin") or __import__("direct_plugin"))
    assert "echo-tool" in kernel.tools()


def test_discovery_finds_exactly_what_importlib_metadata_finds(tmp_path, monkeypatch) -> None:
    from importlib import metadata

    from plait._loader import _distribution, discover_entry_points

    from .conftest import install_distribution

    install_distribution(tmp_path, "acme-extra", "4.2", {"acme": "acme_mod:hooks"})
    monkeypatch.syspath_prepend(str(tmp_path))
    ours = {(ep.name, ep.value, _distribution(ep)) for ep in discover_entry_points()}
    theirs = {
        (ep.name, ep.value, (ep.dist.metadata["Name"], ep.dist.version))
        for ep in metadata.entry_points(group="plait")
    }
    assert ours == theirs
    assert ("acme", "acme_mod:hooks", ("acme-extra", "4.2")) in ours
