"""One test per hook, named for it (datasette's rule, checked by test_hooks_documented):
a plugin implementing only that hook gets the validated configuration, and what it
returns reaches the kernel, attributed to it."""

from __future__ import annotations

from typing import Any

import pytest

import plait
from plait._config import PlaitConfig
from plait.testing import make_kernel


class Thing:
    """Fits every contract: the hook under test decides what it is registered as."""

    name = "thing"
    scheme = "thing"
    description = "a thing"
    parameters: dict[str, Any] = {"type": "object", "properties": {}}  # noqa: RUF012
    timeout = retries = None
    idempotent = requires_approval = sequential = False
    stage = "input"

    def model(self, model_id: str, **options: Any) -> Any:
        return model_id

    async def call(self, args: Any, ctx: Any) -> Any: ...
    async def verify(self, completion: Any, ctx: Any) -> Any: ...
    async def check(self, subject: Any, ctx: Any) -> Any: ...
    async def handle(self, event: Any) -> None: ...
    async def execute(self, job: Any) -> Any: ...
    def open(self, url: str) -> Any: ...


def _kernel_with(hook: str, seen: list[PlaitConfig]) -> tuple[plait.Kernel, Thing]:
    thing = Thing()

    def impl(config: PlaitConfig) -> list[Thing]:
        seen.append(config)
        return [thing]

    plugin = type("OneHook", (), {hook: staticmethod(plait.hookimpl(impl))})()
    plugin.__name__ = "one-hook"  # type: ignore[attr-defined]
    return make_kernel(plugin, builtins=False, model="x:y"), thing


def _delivers(hook: str, label: str) -> None:
    seen: list[PlaitConfig] = []
    kernel, thing = _kernel_with(hook, seen)
    assert seen == []  # registration hooks are called lazily
    kernel.collect_all()
    kernel.collect_all()  # once per kernel
    assert [c.model for c in seen] == ["x:y"]
    objects = kernel.event_handlers() if label == "event_handlers" else kernel.get(label, "thing")
    assert thing in objects if isinstance(objects, list | tuple) else objects is thing
    info = next(i for i in kernel.plugins() if i.name == "one-hook")
    assert info.registered == {label: ["thing"]} and info.hooks == (hook,)


def test_plait_register_providers() -> None:
    _delivers("plait_register_providers", "providers")


def test_plait_register_tools() -> None:
    _delivers("plait_register_tools", "tools")


def test_plait_register_verifiers() -> None:
    _delivers("plait_register_verifiers", "verifiers")


def test_plait_register_guardrails() -> None:
    _delivers("plait_register_guardrails", "guardrails")


def test_plait_register_event_handlers() -> None:
    _delivers("plait_register_event_handlers", "event_handlers")


def test_plait_register_stores() -> None:
    _delivers("plait_register_stores", "stores")


def test_plait_register_executors() -> None:
    _delivers("plait_register_executors", "executors")


def test_plait_configure_is_called_once_per_kernel_after_every_plugin() -> None:
    calls: list[tuple[str, PlaitConfig]] = []

    class First:
        __name__ = "first"

        @plait.hookimpl
        def plait_configure(self, config: PlaitConfig) -> None:
            calls.append(("first", config))

    class Second:
        __name__ = "second"

        @plait.hookimpl
        def plait_configure(self) -> None:  # a subset of the arguments is fine
            calls.append(("second", PlaitConfig()))

    kernel = make_kernel(First(), Second(), builtins=False, model="x:y")
    assert [name for name, _ in calls] == ["second", "first"]  # pluggy's order: LIFO
    assert calls[1][1] is kernel.config
    kernel.collect_all()
    assert len(calls) == 2  # never again


def test_plait_configure_raising_is_a_registration_error_of_its_plugin() -> None:
    class Broken:
        __name__ = "broken"

        @plait.hookimpl
        def plait_configure(self) -> None:
            raise RuntimeError("boom")

    with pytest.raises(plait.PluginErrors, match="plait_configure raised RuntimeError: boom"):
        make_kernel(Broken(), builtins=False)
    with pytest.warns(plait.PluginWarning, match="boom"):
        kernel = make_kernel(Broken(), builtins=False, strict=False)
    info = next(i for i in kernel.plugins() if i.name == "broken")
    assert info.status == "failed" and info.error is not None
    assert isinstance(info.error, plait.PluginRegistrationError)


def test_plait_configure_raising_config_error_is_raised_as_it_is() -> None:
    class Picky:
        __name__ = "picky"

        @plait.hookimpl
        def plait_configure(self) -> None:
            raise plait.ConfigError("[plugin.picky] wants a key")

    with pytest.raises(plait.ConfigError, match="wants a key"):
        make_kernel(Picky(), builtins=False, strict=False)
