"""Each registration hook delivers its objects through the kernel, checked against its
contract; what a plugin registered is attributed to it."""

from __future__ import annotations

from typing import Any

import pytest

import plait
from plait.provider import DefaultModel
from plait.testing import make_kernel


class Guard:
    name = "no-secrets"
    stage = "input"

    async def check(self, subject: Any, ctx: Any) -> plait.Decision:
        return plait.Decision(action="allow")


class Handler:
    name = "collector"

    async def handle(self, event: plait.Event) -> None:
        return None


class Store:
    scheme = "memtest"

    def open(self, url: str) -> object:
        return object()


class Provider:
    name = "fake"

    def model(self, model_id: str, **options: Any) -> Any:
        return ("model", model_id, options)


class Everything:
    """One plugin object implementing every registration hook."""

    __name__ = "everything"

    @plait.hookimpl
    def plait_register_guardrails(self) -> list[Any]:
        return [Guard()]

    @plait.hookimpl
    def plait_register_event_handlers(self) -> list[Any]:
        return [Handler(), Handler()]

    @plait.hookimpl
    def plait_register_stores(self) -> list[Any]:
        return [Store()]

    @plait.hookimpl
    def plait_register_providers(self, config: plait.PlaitConfig) -> list[Any]:
        return [Provider()]

    @plait.hookimpl
    def plait_register_executors(self) -> None:
        return None


def test_every_kind_is_delivered_and_attributed() -> None:
    kernel = make_kernel(Everything(), builtins=False)
    assert list(kernel.guardrails()) == ["no-secrets"]
    assert len(kernel.event_handlers()) == 2  # handler names need not be unique
    assert list(kernel.stores()) == ["memtest"]
    assert list(kernel.providers()) == ["fake"]
    assert kernel.executors() == {}
    kernel.collect_all()
    info = next(i for i in kernel.plugins() if i.name == "everything")
    assert info.registered["guardrails"] == ["no-secrets"]
    assert set(info.hooks) >= {"plait_register_guardrails", "plait_register_stores"}


def test_models_resolve_through_the_provider_prefix() -> None:
    kernel = make_kernel(Everything(), builtins=False)
    assert kernel.model("fake:small", temperature=0) == ("model", "small", {"temperature": 0})
    with pytest.raises(plait.ModelNotConfigured, match="no provider prefix"):
        kernel.model("small")
    with pytest.raises(plait.ModelNotConfigured, match="registered: fake"):
        kernel.model("other:small")


def test_default_model_resolution_order() -> None:
    """Configuration wins; else the highest-priority offer whose variable is set."""

    class Local:
        name = "here"
        default_model = DefaultModel("tiny")

        def model(self, model_id: str, **options: Any) -> Any:
            return model_id

    class Hosted(Local):
        name = "cloud"
        default_model = DefaultModel("big", env="CLOUD_KEY", priority=10)

    class Silent(Local):  # offers nothing: never the default
        name = "silent"
        default_model = None

    class Providers:
        __name__ = "providers"

        @plait.hookimpl
        def plait_register_providers(self) -> list[Any]:
            return [Silent(), Local(), Hosted()]

    kernel = make_kernel(Providers(), builtins=False)
    assert kernel.default_model_spec({}) == "here:tiny"
    assert kernel.default_model_spec({"CLOUD_KEY": ""}) == "here:tiny"  # empty is unset
    assert kernel.default_model_spec({"CLOUD_KEY": "k"}) == "cloud:big"
    configured = make_kernel(Providers(), builtins=False, model="cloud:other")
    assert configured.default_model_spec({"CLOUD_KEY": "k"}) == "cloud:other"
    with pytest.raises(plait.ModelNotConfigured, match="PLAIT_MODEL"):
        make_kernel(builtins=False).default_model_spec({})


def test_equal_offers_go_to_the_first_registered_and_unset_keys_are_named() -> None:
    class First:
        name = "first"
        default_model = DefaultModel("a", priority=1)

        def model(self, model_id: str, **options: Any) -> Any:
            return model_id

    class Second(First):
        name = "second"
        default_model = DefaultModel("b", priority=1)

    class Keyed(First):
        name = "keyed"
        default_model = DefaultModel("c", env="KEYED_KEY", priority=5)

    class Providers:
        __name__ = "providers"

        @plait.hookimpl
        def plait_register_providers(self) -> list[Any]:
            return [First(), Second()]

    class OnlyKeyed:
        __name__ = "only_keyed"

        @plait.hookimpl
        def plait_register_providers(self) -> list[Any]:
            return [Keyed()]

    assert make_kernel(Providers(), builtins=False).default_model_spec({}) == "first:a"
    with pytest.raises(plait.ModelNotConfigured, match="set KEYED_KEY for keyed:c"):
        make_kernel(OnlyKeyed(), builtins=False).default_model_spec({})


def test_a_profile_no_plugin_serves_is_an_error_that_says_so() -> None:
    kernel = make_kernel(builtins=False, providers={"groq": {"base_url": "http://x.test"}})
    with pytest.raises(plait.ModelNotConfigured, match="profile 'groq' has no `api`"):
        kernel.model("groq:llama")
    kernel = make_kernel(builtins=False, providers={"groq": {"api": "carrier-pigeon"}})
    with pytest.raises(plait.ModelNotConfigured, match="api = 'carrier-pigeon'"):
        kernel.model("groq:llama")


def test_hook_returning_a_non_iterable_is_a_registration_error() -> None:
    class Bad:
        __name__ = "bad"

        @plait.hookimpl
        def plait_register_stores(self) -> Any:
            return Store()

    with pytest.raises(plait.PluginErrors, match="must return an iterable"):
        make_kernel(Bad(), builtins=False).stores()


def test_plain_function_tools_are_adapted_once_per_kernel() -> None:
    def lookup(city: str) -> str:
        """Look a city up."""
        return city

    kernel = make_kernel(builtins=False)
    first = kernel.function_tool(lookup)
    assert kernel.function_tool(lookup) is first
    assert first.name == "lookup" and first.parameters["required"] == ["city"]
    assert make_kernel(builtins=False).function_tool(lookup) is not first
