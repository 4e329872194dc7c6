"""Registration hooks and plugin imports are bounded (issue 12, rule 5).

A hook that sleeps, naps in a loop or spins, and a plugin whose import never returns,
cannot hang ``plait.Kernel()`` or ``plait.run``: after ``hook_timeout`` (or
``import_timeout``) seconds the plugin fails with an error naming it and the hook, and
the other plugins still register. Python cannot stop a thread: the stuck code is left
running in a daemon thread (released at the end of each test here).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import pytest

import plait
from plait import ConfigError, PluginErrors, PluginRegistrationError, PluginWarning
from plait._config import load_config
from plait.testing import FakeEntryPoint, ScriptedModel, make_kernel

BOUND = 0.3
WITHIN = 5.0  # generous on a loaded machine; a hang would never end
HOOK = "plait_register_tools"


@pytest.fixture
def release() -> Iterator[threading.Event]:
    """Set at teardown: stuck hooks in abandoned threads end then."""
    event = threading.Event()
    yield event
    event.set()


def plugin(name: str, **hooks: Callable[..., Any]) -> ModuleType:
    """A plugin module object named ``name`` with these hook implementations."""
    module = ModuleType(name)
    for hook, fn in hooks.items():
        setattr(module, hook, plait.hookimpl(fn))
    return module


def registers(tool_name: str) -> Callable[[], list[Any]]:
    def tool() -> str:
        """A tool."""
        return "ok"

    return lambda: [plait.tool(name=tool_name)(tool)]


def hang(how: str, release: threading.Event) -> Callable[[], list[Any]]:
    """A hook body that does not return: sleeps, naps in small steps, or spins."""

    def sleeps() -> list[Any]:
        release.wait(60)  # one long blocking call, like time.sleep(60)
        return []

    def naps() -> list[Any]:
        while not release.is_set():
            time.sleep(0.01)
        return []

    def spins() -> list[Any]:
        while not release.is_set():  # `while True: pass`, stoppable at teardown
            pass
        return []

    return {"sleeps": sleeps, "naps": naps, "spins": spins}[how]


@pytest.mark.parametrize("how", ["sleeps", "naps", "spins"])
def test_a_hook_that_does_not_return_fails_its_plugin_only(
    how: str, release: threading.Event
) -> None:
    kernel = make_kernel(
        plugin("first", plait_register_tools=registers("one")),
        plugin("stuck", plait_register_tools=hang(how, release)),
        plugin("last", plait_register_tools=registers("two")),
        strict=False, hook_timeout=BOUND,
    )  # fmt: skip
    start = time.perf_counter()
    with pytest.warns(PluginWarning, match=rf"stuck: .*{HOOK} did not return within {BOUND}s"):
        tools = kernel.tools()
    assert time.perf_counter() - start < WITHIN
    assert {"one", "two"} <= set(tools)  # called before and after the stuck one
    (info,) = [i for i in kernel.plugins() if i.name == "stuck"]
    assert info.status == "failed" and isinstance(info.error, PluginRegistrationError)
    assert info.error.plugin == "stuck" and HOOK in info.error.message


def test_a_run_is_not_held_by_a_stuck_hook(release: threading.Event) -> None:
    stuck = plugin("stuck", plait_register_event_handlers=hang("sleeps", release))
    kernel = make_kernel(stuck, strict=False, hook_timeout=BOUND)
    start = time.perf_counter()
    with pytest.warns(PluginWarning, match="plait_register_event_handlers did not return"):
        result = plait.run("hi", model=ScriptedModel(["still here"]), kernel=kernel)
    assert result.output == "still here" and time.perf_counter() - start < WITHIN


def test_a_stuck_configure_hook_does_not_hang_the_kernel(release: threading.Event) -> None:
    def configure(config: Any) -> None:
        release.wait(60)

    start = time.perf_counter()
    with pytest.warns(PluginWarning, match="stuck: .*plait_configure did not return"):
        kernel = make_kernel(
            plugin("stuck", plait_configure=configure), strict=False, hook_timeout=BOUND
        )
    assert time.perf_counter() - start < WITHIN
    (info,) = [i for i in kernel.plugins() if i.name == "stuck"]
    assert info.status == "failed"


def test_strict_mode_raises_the_timeout_naming_plugin_and_hook(release: threading.Event) -> None:
    kernel = make_kernel(
        plugin("stuck", plait_register_tools=hang("naps", release)), hook_timeout=BOUND
    )
    with pytest.raises(PluginErrors) as raised:
        kernel.tools()
    (error,) = raised.value.errors
    assert error.plugin == "stuck"
    assert f"{HOOK} did not return within {BOUND}s" in str(error)


def test_a_generator_hook_is_bounded_while_it_is_iterated(release: threading.Event) -> None:
    def tools() -> Iterator[Any]:
        yield from registers("early")()
        release.wait(60)  # iterating the generator is running the hook

    kernel = make_kernel(
        plugin("gen", plait_register_tools=tools), strict=False, hook_timeout=BOUND
    )
    start = time.perf_counter()
    with pytest.warns(PluginWarning, match=f"gen: .*{HOOK} did not return"):
        assert "early" not in kernel.tools()
    assert time.perf_counter() - start < WITHIN


def test_a_hook_raising_config_error_still_propagates() -> None:
    def wrong() -> list[Any]:
        raise ConfigError("[plugin.x] bad: no")

    with pytest.raises(ConfigError, match="bad: no"):
        make_kernel(plugin("x", plait_register_tools=wrong), strict=False).tools()


HOOK_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("HOOK_VAR", default="unset")


def test_hooks_run_in_a_worker_thread_with_the_callers_context() -> None:
    seen: list[tuple[int, str]] = []

    def look() -> list[Any]:
        seen.append((threading.get_ident(), HOOK_VAR.get()))
        return []

    token = HOOK_VAR.set("caller's")
    try:
        make_kernel(plugin("p", plait_register_tools=look)).tools()
        make_kernel(plugin("p", plait_register_tools=look), hook_timeout=None).tools()
    finally:
        HOOK_VAR.reset(token)
    (bounded, unbounded) = seen
    assert bounded[1] == unbounded[1] == "caller's"
    assert bounded[0] != threading.get_ident() and unbounded[0] == threading.get_ident()


@pytest.mark.parametrize("key", ["hook_timeout", "import_timeout"])
def test_the_bounds_must_be_positive(key: str) -> None:
    zero: dict[str, Any] = {key: 0}
    with pytest.raises(ConfigError, match=key):
        load_config(search=False, environ={}, **zero)
    assert getattr(load_config(search=False, environ={}), key) > 0  # on by default


# --- plugin imports ----------------------------------------------------------------------


@dataclass
class HangingEntryPoint(FakeEntryPoint):
    """An entry point whose import never returns (until ``release`` is set)."""

    release: threading.Event = field(default_factory=threading.Event)

    def load(self) -> Any:
        self.release.wait(60)
        return plugin(self.name)


def test_an_import_that_does_not_return_fails_its_plugin_only(release: threading.Event) -> None:
    eps = [
        HangingEntryPoint("stuck", value="stuck_plugin", release=release),
        FakeEntryPoint("fine", target=plugin("fine", plait_register_tools=registers("one"))),
    ]
    start = time.perf_counter()
    with pytest.warns(PluginWarning, match=f"stuck.*import did not return within {BOUND}s"):
        kernel = make_kernel(entry_points=eps, strict=False, import_timeout=BOUND)
    assert time.perf_counter() - start < WITHIN
    assert "one" in kernel.tools()
    (info,) = [i for i in kernel.plugins() if i.name == "stuck"]
    assert info.status == "failed" and isinstance(info.error, plait.PluginImportError)


def test_a_real_module_that_sleeps_at_import(
    write_module: Callable[[str, str], str], release: threading.Event
) -> None:
    name = write_module("plait_sleepy_import", "import time\ntime.sleep(3)\n")
    ep = FakeEntryPoint("sleepy", value=name)
    start = time.perf_counter()
    with pytest.warns(PluginWarning, match="sleepy.*import did not return within"):
        make_kernel(entry_points=[ep], strict=False, import_timeout=BOUND)
    assert time.perf_counter() - start < 3


@dataclass
class RecordingEntryPoint(FakeEntryPoint):
    """An entry point that notes the thread it is loaded in."""

    threads: list[int] = field(default_factory=list)

    def load(self) -> Any:
        self.threads.append(threading.get_ident())
        return plugin(self.name)


def test_only_a_first_import_runs_in_a_worker_thread() -> None:
    imported = RecordingEntryPoint("imported", value="json")  # in sys.modules: runs no code
    first = RecordingEntryPoint("first", value="plait_never_imported_module:hooks")
    make_kernel(entry_points=[imported, first], import_timeout=BOUND)
    assert imported.threads == [threading.get_ident()]
    assert first.threads and first.threads != [threading.get_ident()]
