"""Plugin code cannot end the host (issue 12, rule 1).

``SystemExit`` — and any ``BaseException`` that is not the run's cancellation or the
user's ``KeyboardInterrupt`` — raised by a tool, guardrail, verifier, event handler,
registration hook or a plugin's import is contained and classified like any other
failure of that kind. Each test would end the pytest process if it were not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import pytest

import plait
from plait import Completion, Context
from plait._call import plugin_failure
from plait.testing import FakeEntryPoint, ScriptedModel, call, make_kernel


class Exit(BaseException):
    """A BaseException of the plugin's own (not SystemExit, not cancellation)."""


RAISED = [SystemExit(3), Exit("own"), BaseExceptionGroup("g", [SystemExit(1)])]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.mark.anyio
@pytest.mark.parametrize("raised", RAISED, ids=type)
@pytest.mark.parametrize("sync", [True, False], ids=["sync", "async"])
async def test_a_tool_that_exits_is_a_failed_call(raised: BaseException, sync: bool) -> None:
    def quit_now() -> str:
        """Quit."""
        raise raised

    async def quit_later() -> str:
        """Quit."""
        raise raised

    tool = plait.tool(quit_now if sync else quit_later)
    turns = [[call(tool.name, id="q1")], "carried on"]
    result = await plait.arun("go", model=ScriptedModel(turns), tools=[tool], kernel=make_kernel())
    assert (result.status, result.output) == ("success", "carried on")
    failed = result.messages[2]
    assert isinstance(failed, plait.ToolResultMessage) and failed.is_error


@pytest.mark.anyio
async def test_a_guardrail_that_exits_blocks() -> None:
    @plait.guardrail
    def leave(text: str) -> bool:
        raise SystemExit(2)

    result = await plait.arun(
        "hi", model=ScriptedModel(["x"]), guardrails=[leave], kernel=make_kernel(),
        raise_on_failure=False,
    )  # fmt: skip
    assert result.status == "blocked"
    assert result.guardrails[0].error == "raised SystemExit"


@pytest.mark.anyio
async def test_a_verifier_that_exits_fails_its_verdict() -> None:
    class Leaving:
        name = "leaving"

        async def verify(self, completion: Completion, ctx: Context[Any]) -> plait.Verdict:
            raise SystemExit(2)

    result = await plait.arun(
        "hi", model=ScriptedModel(["x"] * 5), verifiers=[Leaving()], kernel=make_kernel(),
        raise_on_failure=False,
    )  # fmt: skip
    assert (result.status, result.stop_reason) == ("failed", "verifier")
    assert result.verdicts[0].error == "raised SystemExit"


@pytest.mark.anyio
async def test_an_event_handler_that_exits_does_not_end_the_run() -> None:
    class Leaving:
        name = "leaving"

        async def handle(self, event: plait.Event) -> None:
            raise SystemExit(4)

    result = await plait.arun(
        "hi", model=ScriptedModel(["fine"]), handlers=[Leaving()], kernel=make_kernel()
    )
    assert (result.status, result.output) == ("success", "fine")


@pytest.mark.anyio
async def test_the_users_interrupt_still_propagates() -> None:
    @plait.tool
    def interrupt() -> str:
        """Ctrl-C while it runs."""
        raise KeyboardInterrupt

    turns = [[call("interrupt")], "never"]
    with pytest.raises(KeyboardInterrupt):
        await plait.arun("go", model=ScriptedModel(turns), tools=[interrupt], kernel=make_kernel())


class ExitingHooks:
    @plait.hookimpl
    def plait_register_guardrails(self) -> list[Any]:
        raise SystemExit(5)


def test_a_registration_hook_that_exits_is_a_registration_error() -> None:
    kernel = make_kernel(ExitingHooks(), strict=False)
    with pytest.warns(plait.PluginWarning, match="raised SystemExit"):
        assert dict(kernel.guardrails()) == {}
    (info,) = [i for i in kernel.plugins() if i.name.startswith("ExitingHooks")]
    assert isinstance(info.error, plait.PluginRegistrationError)


def test_a_plugin_that_exits_at_import_is_an_import_error() -> None:
    ep = FakeEntryPoint("quitter", error=SystemExit(1))
    with pytest.warns(plait.PluginWarning, match="import error: SystemExit"):
        kernel = make_kernel(entry_points=[ep], strict=False)
    (info,) = [i for i in kernel.plugins() if i.name == "quitter"]
    assert isinstance(info.error, plait.PluginImportError)
    result = plait.run("still here", model=ScriptedModel(["yes"]), kernel=kernel)
    assert result.output == "yes"


def test_an_installed_plugin_calling_sys_exit_at_import_ends_no_run(tmp_path: Any) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "quitter.py").write_text("import sys\nsys.exit('bye')\n")
    info = site / "plait_quitter-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: plait-quitter\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[plait]\nquitter = quitter\n")
    script = (
        "import plait\nfrom plait.testing import ScriptedModel\n"
        "print(plait.run('hi', model=ScriptedModel(['survived'])).output)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(site), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
        cwd=tmp_path, check=False,
    )  # fmt: skip
    assert (done.returncode, done.stdout.strip()) == (0, "survived"), done.stderr
    assert "quitter" in done.stderr and "SystemExit" in done.stderr


def test_what_counts_as_the_plugins_failure() -> None:
    import anyio

    cancelled = anyio.get_cancelled_exc_class
    assert plugin_failure(SystemExit(0)) and plugin_failure(Exit()) and plugin_failure(ValueError())
    assert not plugin_failure(KeyboardInterrupt()) and not plugin_failure(GeneratorExit())
    assert plugin_failure(BaseExceptionGroup("g", [SystemExit(1), Exit()]))
    assert not plugin_failure(BaseExceptionGroup("g", [SystemExit(1), KeyboardInterrupt()]))

    async def check() -> None:
        assert not plugin_failure(cancelled()(), cancelled())

    anyio.run(check)
