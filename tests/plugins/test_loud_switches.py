"""Every plugin switch fails loudly (an outside review found these silent): a name in the
allow-, block- or required list that no installed plugin has, a plugin both required and
blocked, two plugins registering the same name (providers included), a provider whose
plugin is blocked or not allowed, and a mistyped ``owners`` entry.

Lenient mode: one ``plait.PluginWarning`` per problem, naming the switch, where it was set
and a did-you-mean. Strict mode: one ``PluginErrors`` carrying every problem.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any

import pytest

import plait
from plait._config import load_config
from plait.testing import FakeEntryPoint, FunctionModel, make_kernel

from .conftest import install_distribution, run_plait

KIND_HOOKS = {
    "providers": "plait_register_providers",
    "tools": "plait_register_tools",
    "verifiers": "plait_register_verifiers",
    "guardrails": "plait_register_guardrails",
    "event_handlers": "plait_register_event_handlers",
    "stores": "plait_register_stores",
    "executors": "plait_register_executors",
}


class Thing:
    """Fits every contract; the hook that returns it decides its kind."""

    scheme = "thing"
    description = "a thing"
    parameters: dict[str, Any] = {"type": "object", "properties": {}}  # noqa: RUF012
    timeout = retries = None
    idempotent = requires_approval = sequential = False
    stage = "input"

    def __init__(self, name: str, owner: str) -> None:
        self.name = self.scheme = name
        self.owner = owner

    def model(self, model_id: str, **options: Any) -> Any:
        return FunctionModel(lambda messages, info: f"{self.owner} answers")

    async def call(self, args: Any, ctx: Any) -> Any: ...
    async def verify(self, completion: Any, ctx: Any) -> Any: ...
    async def check(self, subject: Any, ctx: Any) -> Any: ...
    async def handle(self, event: Any) -> None: ...
    async def execute(self, job: Any) -> Any: ...
    def open(self, url: str) -> Any: ...


def plugin(name: str, label: str = "guardrails", thing: str = "pii") -> FakeEntryPoint:
    """A fake installed plugin ``name`` (distribution ``plait-<name>``) registering one
    object named ``thing`` of kind ``label``."""

    def impl() -> list[Thing]:
        return [Thing(thing, name)]

    obj = type(f"Plugin_{name}", (), {KIND_HOOKS[label]: staticmethod(plait.hookimpl(impl))})()
    return FakeEntryPoint(name, f"plait_{name}.hooks", target=obj, version="1.0")


def lenient(**settings: Any) -> list[str]:
    """The warnings a lenient kernel gives at load time, as text."""
    with pytest.warns(plait.PluginWarning) as record:
        make_kernel(strict=False, **settings)
    return [str(w.message) for w in record.list]


ECHO = [plugin("echo", "tools", "echo"), plugin("acme", "providers", "acme")]


# --- names in the lists that no installed plugin has -----------------------------------


def test_a_typo_in_the_block_list_is_loud_naming_the_variable_and_a_suggestion() -> None:
    config = load_config(environ={"PLAIT_BLOCK_PLUGINS": "ecko"}, search=False)
    with pytest.warns(plait.PluginWarning) as record:
        kernel = make_kernel(config=config, entry_points=ECHO, strict=False)
    (message,) = [str(w.message) for w in record.list]
    assert message == (
        "plugin ecko: not found: 'ecko' is in the block-list (PLAIT_BLOCK_PLUGINS) but no "
        "installed plugin has that name; did you mean 'echo'?"
    )
    assert "echo" in kernel.tools()  # the plugin the user meant to block still loads
    with pytest.raises(plait.PluginErrors, match="did you mean 'echo'"):
        make_kernel(config=config, entry_points=ECHO, strict=True)


def test_a_typo_in_the_allow_list_is_loud_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "plait.toml").write_text('plugins = ["ecko", "acme"]\n')
    config = load_config(tmp_path / "plait.toml", environ={})
    with pytest.warns(plait.PluginWarning) as record:
        kernel = make_kernel(config=config, entry_points=ECHO, strict=False)
    (message,) = [str(w.message) for w in record.list]
    assert f"'ecko' is in the allow-list (plugins in {tmp_path / 'plait.toml'})" in message
    assert message.endswith("did you mean 'echo'?")
    assert "PLAIT_BLOCK_PLUGINS" not in message
    assert next(i for i in kernel.plugins() if i.name == "echo").status == "not allowed"


def test_a_typo_in_the_required_list_is_fatal_in_lenient_mode_too() -> None:
    config = load_config(environ={"PLAIT_REQUIRED_PLUGINS": "ecko"}, search=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(plait.PluginErrors) as raised:
            make_kernel(config=config, entry_points=ECHO, strict=False)
    (error,) = raised.value.errors
    assert isinstance(error, plait.PluginNotFound)
    assert "the required list (PLAIT_REQUIRED_PLUGINS)" in str(error)
    assert "did you mean 'echo'?" in str(error)


def test_a_name_in_two_lists_is_one_problem_naming_both() -> None:
    (message,) = lenient(entry_points=ECHO, plugins=["acme", "zzz"], block_plugins=["zzz"])
    assert "'zzz' is in the allow-list (plugins) and the block-list (block_plugins)" in message
    assert "(installed: " in message  # no close match: the installed names instead


def test_a_plugin_both_required_and_blocked_is_fatal_naming_both_lists() -> None:
    env = {"PLAIT_REQUIRED_PLUGINS": "acme", "PLAIT_BLOCK_PLUGINS": "acme"}
    config = load_config(environ=env, search=False)
    with pytest.raises(plait.PluginErrors) as raised:
        make_kernel(config=config, entry_points=ECHO, strict=False)
    (error,) = raised.value.errors
    assert isinstance(error, plait.PluginError) and error.kind == "configuration conflict"
    assert str(error) == (
        "plugin acme (plait-acme 1.0): configuration conflict: 'acme' is both required "
        "(PLAIT_REQUIRED_PLUGINS) and blocked (PLAIT_BLOCK_PLUGINS); a required plugin must "
        "load: take it out of one of the two lists"
    )


# --- two plugins, one name -------------------------------------------------------------


@pytest.mark.parametrize("label", ["tools", "verifiers", "guardrails", "stores", "executors"])
def test_a_duplicate_name_warns_naming_both_plugins_and_the_first_wins(label: str) -> None:
    eps = [plugin("alpha", label, "pii"), plugin("beta", label, "pii")]
    kernel = make_kernel(entry_points=eps, builtins=False, strict=False)
    with pytest.warns(plait.PluginWarning) as record:
        winner = kernel.get(label, "pii")
    (message,) = [str(w.message) for w in record.list]
    assert "'beta' (plait-beta 1.0) and 'alpha' (plait-alpha 1.0)" in message
    assert f'owners = {{ "{label}.pii" = "beta" }}' in message
    assert winner.owner == "beta"  # the first registered (pluggy calls the last loaded first)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per kernel, not per lookup
        kernel.get(label, "pii")
    assert all(i.status == "loaded" for i in kernel.plugins())  # a problem fails no plugin


def test_duplicate_event_handler_names_warn_and_both_still_run() -> None:
    eps = [plugin("alpha", "event_handlers", "audit"), plugin("beta", "event_handlers", "audit")]
    kernel = make_kernel(entry_points=eps, builtins=False, strict=False)
    with pytest.warns(plait.PluginWarning, match="'beta' .* and 'alpha' .*all of them run"):
        assert len(kernel.event_handlers()) == 2


def test_an_ambiguous_provider_fails_the_run_naming_both_plugins() -> None:
    eps = [plugin("acme", "providers", "acme"), plugin("acme-fork", "providers", "acme")]
    kernel = make_kernel(entry_points=eps, strict=False)
    with pytest.warns(plait.PluginWarning, match="provider 'acme' is registered by both"):
        assert "acme" not in kernel.providers()  # neither answers silently
    with pytest.raises(plait.ModelNotConfigured) as raised:
        plait.run("hi", model="acme:x", kernel=kernel)
    message = str(raised.value)
    assert "'acme-fork' (plait-acme-fork 1.0) and 'acme' (plait-acme 1.0)" in message
    assert "models 'acme:...' cannot be used until one is chosen" in message


def test_owners_says_which_plugin_answers_for_a_provider(tmp_path: Path) -> None:
    (tmp_path / "plait.toml").write_text('[owners]\n"providers.acme" = "plait-acme"\n')
    config = load_config(tmp_path / "plait.toml", environ={})
    eps = [plugin("acme", "providers", "acme"), plugin("acme-fork", "providers", "acme")]
    kernel = make_kernel(config=config, entry_points=eps, strict=True)  # nothing to report
    result = plait.run("hi", model="acme:x", kernel=kernel)
    assert result.output == "acme answers"


def test_a_bare_owner_name_covers_every_kind() -> None:
    eps = [plugin("alpha", "guardrails", "pii"), plugin("beta", "guardrails", "pii")]
    kernel = make_kernel(entry_points=eps, owners={"pii": "alpha"}, strict=True)
    assert kernel.get("guardrails", "pii").owner == "alpha"  # not the one called first


# --- owners entries that match nothing -------------------------------------------------


def test_an_owner_that_is_not_installed_gets_a_did_you_mean() -> None:
    (message,) = lenient(entry_points=ECHO, owners={"providers.acme": "plait-acmee"})
    assert message.endswith(
        "'plait-acmee' is named as the owner of 'providers.acme' (owners) but no installed "
        "plugin or distribution has that name; did you mean 'plait-acme'?"
    )


def test_an_owner_that_does_not_register_the_name_is_a_problem() -> None:
    eps = [*ECHO, plugin("alpha", "guardrails", "pii"), plugin("beta", "guardrails", "pii")]
    kernel = make_kernel(entry_points=eps, owners={"guardrails.pii": "echo"}, strict=False)
    with pytest.warns(plait.PluginWarning) as record:
        kernel.guardrails()
    text = "\n".join(str(w.message) for w in record.list)
    assert "guardrail 'pii' is given to 'echo' by owners (owners), but 'echo' registers" in text
    assert "registered by both 'beta'" in text  # and the duplicate is still reported


def test_an_owner_for_a_name_nobody_registers_suggests_the_registered_one() -> None:
    kernel = make_kernel(entry_points=ECHO, owners={"tools.ecko": "echo"}, strict=False)
    with pytest.warns(plait.PluginWarning, match="no plugin registers a tool 'ecko'; did you"):
        kernel.tools()


def test_an_owners_key_with_a_misspelt_kind_is_a_config_error() -> None:
    with pytest.raises(plait.ConfigError, match=r"did you mean 'providers\.acme'"):
        make_kernel(entry_points=ECHO, owners={"provider.acme": "acme"})


# --- a provider whose plugin is switched off -------------------------------------------


def test_a_provider_of_a_blocked_plugin_says_it_is_blocked() -> None:
    config = load_config(environ={"PLAIT_BLOCK_PLUGINS": "acme"}, search=False)
    kernel = make_kernel(config=config, entry_points=ECHO)
    with pytest.raises(plait.ModelNotConfigured) as raised:
        plait.run("hi", model="acme:x", kernel=kernel)
    assert str(raised.value).startswith(
        "provider 'acme' is offered by plugin 'acme' (distribution plait-acme), which "
        "PLAIT_BLOCK_PLUGINS blocks"
    )


def test_a_provider_of_a_plugin_outside_the_allow_list_says_so() -> None:
    config = load_config(environ={"PLAIT_PLUGINS": "echo"}, search=False)
    kernel = make_kernel(config=config, entry_points=ECHO)
    with pytest.raises(plait.ModelNotConfigured, match="which is not in the allow-list"):
        kernel.model("acme:x")


# --- strict mode: everything at once ---------------------------------------------------


def test_strict_mode_raises_every_problem_in_one_error() -> None:
    with pytest.raises(plait.PluginErrors) as raised:
        make_kernel(entry_points=ECHO, plugins=["ecko", "acme"], block_plugins=["acmee"])
    assert [type(e).__name__ for e in raised.value.errors] == ["PluginNotFound"] * 2
    eps = [
        plugin("alpha", "guardrails", "pii"),
        plugin("beta", "guardrails", "pii"),
        plugin("gamma", "tools", "search"),
        plugin("delta", "tools", "search"),
    ]
    kernel = make_kernel(entry_points=eps, strict=True)
    with pytest.raises(plait.PluginErrors) as raised:
        kernel.collect_all()
    assert len(raised.value.errors) == 2
    assert all(isinstance(e, plait.DuplicateName) for e in raised.value.errors)


# --- `plait plugins` -------------------------------------------------------------------


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    for name in ("alpha", "beta"):
        (folder / f"dup_{name}.py").write_text(
            "import plait\n"
            "class G:\n"
            "    name = 'pii'\n"
            "    stage = 'input'\n"
            "    async def check(self, subject, ctx): ...\n"
            "@plait.hookimpl\n"
            "def plait_register_guardrails():\n"
            "    return [G()]\n"
        )
        install_distribution(folder, f"plait-{name}", "1.0", {name: f"dup_{name}"})
    return folder


def test_plait_plugins_shows_the_problems_and_a_useful_hint(site: Path, tmp_path: Path) -> None:
    env = {"PLAIT_PLUGINS": "alpha,beta,betta", "PLAIT_LOGS": "off"}
    shown = run_plait(site, "plugins", env=env, cwd=tmp_path)
    assert shown.returncode == 1
    assert "skip it with PLAIT_BLOCK_PLUGINS=betta" not in shown.stderr
    assert "did you mean 'beta'?" in shown.stderr
    warned = [line for line in shown.stderr.splitlines() if "registered by both" in line]
    assert len(warned) == 1 and warned[0].startswith("plait: warning: ")
    rows = {line.split()[0]: line for line in shown.stdout.splitlines()[1:]}
    assert "duplicate name" in rows["alpha"] and "duplicate name" in rows["beta"]

    data = run_plait(site, "plugins", "--json", env=env, cwd=tmp_path)
    rows_json = {row["name"]: row for row in json.loads(data.stdout)}
    assert rows_json["betta"]["error"]["type"] == "PluginNotFound"
    (problem,) = rows_json["alpha"]["problems"]
    assert problem["type"] == "DuplicateName" and "'beta'" in problem["message"]
    assert rows_json["alpha"]["problems"] == rows_json["beta"]["problems"]


def test_plait_plugins_strict_fails_with_every_problem(site: Path, tmp_path: Path) -> None:
    env = {"PLAIT_BLOCK_PLUGINS": "alpa", "PLAIT_STRICT_PLUGINS": "1"}
    shown = run_plait(site, "plugins", env=env, cwd=tmp_path)
    assert shown.returncode == 1
    assert "did you mean 'alpha'?" in shown.stderr and "Traceback" not in shown.stderr
    first = shown.stderr.splitlines()[0]
    assert "1 configuration problem(s)" in first and "failed to load" not in first
    assert "fix the plugin switches" in first and "block a broken plugin" not in first


def test_a_bare_owner_name_nobody_registers_is_reported_by_collect_all() -> None:
    kernel = make_kernel(entry_points=ECHO, owners={"ecko": "echo"}, strict=False)
    with pytest.warns(plait.PluginWarning, match="no plugin registers anything named 'ecko'"):
        kernel.collect_all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kernel.collect_all()  # once
