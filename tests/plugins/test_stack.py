"""A platform team's stack: an outside guardrail plugin, enabled by configuration alone.

The plugin (``acme-policy``) is installed into a temporary site folder, outside the
repository; ``plait.toml`` names its guardrails in ``[stack]``. Each scenario runs in a
fresh interpreter, so nothing but the installed distribution and the file is shared —
the application code never names the guardrails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from .conftest import install_distribution, run_plait

POLICY = """
    import plait


    @plait.guardrail(name="no-passwords")
    def no_passwords(text: str) -> plait.Decision:
        if "password" in text.lower():
            return plait.Decision(action="block", reason="the input mentions a password")
        return plait.Decision()


    @plait.guardrail(name="no-deletes", stage="tool_call")
    def no_deletes(call) -> plait.Decision:
        if call.name == "delete_everything":
            return plait.Decision(action="block", reason="deleting everything is not allowed")
        return plait.Decision()


    @plait.hookimpl
    def plait_register_guardrails(config):
        return [no_passwords, no_deletes]
"""

APP = """
    import json, os, sys
    from pathlib import Path
    import anyio
    import plait
    from plait.testing import ScriptedModel, call

    MARK = Path(sys.argv[2])

    @plait.tool
    def delete_everything() -> str:
        \"\"\"Delete everything.\"\"\"
        return "deleted"

    @plait.tool(idempotent=True)
    def stop() -> str:
        \"\"\"The first call kills the process (a crash mid-run).\"\"\"
        if not MARK.exists():
            MARK.write_text("killed")
            os._exit(3)
        return "ok"

    @plait.tool
    async def ask_helper(question: str) -> str:
        \"\"\"Ask a sub-agent.\"\"\"
        sub = await plait.arun(question, model=ScriptedModel(["sure"]), raise_on_failure=False)
        return sub.status

    def status(**options):
        return plait.run(raise_on_failure=False, **options).status

    def scenario(name):
        if name == "run":
            return status(task="my password is hunter2", model=ScriptedModel(["ok"]))
        if name == "run-removing":  # the code passes its own list: enforced items stay
            return status(
                task="my password is hunter2", model=ScriptedModel(["ok"]), guardrails=[]
            )
        if name == "clean":
            return status(task="hello", model=ScriptedModel(["ok"]))
        if name == "agent":
            agent = plait.Agent(model=ScriptedModel(["ok"]))
            return agent.run("the password is 1234", raise_on_failure=False).status
        if name == "sub-run":
            turns = [[call("ask_helper", question="what is the password?")], "done"]
            result = plait.run("go", model=ScriptedModel(turns), tools=[ask_helper])
            return result.messages[2].content  # the tool's result: the sub-run's status
        if name == "crash":
            turns = [[call("stop", id="c1")], [call("delete_everything", id="c2")], "done"]
            plait.run("tidy up", model=ScriptedModel(turns), tools=[stop, delete_everything],
                      store=sys.argv[3], run_id="r1")
            return "not killed"
        if name == "resume":
            turns = [[call("delete_everything", id="c2")], "done"]
            result = plait.resume("r1", store=sys.argv[3], model=ScriptedModel(turns),
                                  tools=[stop, delete_everything], raise_on_failure=False)
            return result.status
        raise SystemExit(f"unknown scenario {name}")

    print(json.dumps(scenario(sys.argv[1])))
"""


@pytest.fixture(scope="module")
def outside(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the installed plugin (``site/``), the app and a policy file."""
    root = tmp_path_factory.mktemp("platform")
    site = root / "site"
    site.mkdir()
    (site / "acme_policy.py").write_text(textwrap.dedent(POLICY))
    install_distribution(site, "acme-policy", "1.4.0", {"acme": "acme_policy"})
    (root / "app.py").write_text(textwrap.dedent(APP))
    return root


def _policy(root: Path, enforce: bool = True) -> None:
    enforced = 'enforce = ["guardrails"]\n' if enforce else ""
    (root / "plait.toml").write_text(
        f'[stack]\nguardrails = ["no-passwords", "no-deletes"]\n{enforced}'
    )


def _app(root: Path, scenario: str, *, policy: bool = True, enforce: bool = True) -> str:
    if policy:
        _policy(root, enforce)
    else:
        (root / "plait.toml").unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    env["PYTHONPATH"] = os.pathsep.join([str(root / "site"), env.get("PYTHONPATH", "")])
    env["PLAIT_LOGS"] = "off"
    db = f"sqlite:///{root / 'runs.db'}"
    done = subprocess.run(
        [sys.executable, str(root / "app.py"), scenario, str(root / "mark"), db],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if scenario == "crash":
        assert done.returncode == 3, done.stderr
        return "killed"
    assert done.returncode == 0, done.stderr
    return str(json.loads(done.stdout))


@pytest.mark.parametrize(
    ("scenario", "expected"),
    [
        ("run", "blocked"),
        ("agent", "blocked"),
        ("sub-run", "blocked"),
        ("run-removing", "blocked"),
        ("clean", "success"),
    ],
)
def test_configuration_alone_applies_the_plugin(
    outside: Path, scenario: str, expected: str
) -> None:
    assert _app(outside, scenario) == expected


def test_without_the_policy_file_nothing_applies(outside: Path) -> None:
    assert _app(outside, "run", policy=False) == "success"


def test_a_default_stack_is_replaced_by_the_codes_own_list(outside: Path) -> None:
    assert _app(outside, "run", enforce=False) == "blocked"
    assert _app(outside, "run-removing", enforce=False) == "success"


def test_a_resumed_run_gets_the_stack(outside: Path) -> None:
    (outside / "mark").unlink(missing_ok=True)
    assert _app(outside, "crash", policy=False) == "killed"  # recorded without the policy
    assert _app(outside, "resume") == "blocked"  # resumed under it: the call is refused


def test_plait_run_applies_it_and_plait_stack_shows_it(outside: Path) -> None:
    _policy(outside)
    env = {"PLAIT_LOGS": "off"}
    site = outside / "site"
    blocked = run_plait(
        site, "run", "my password is x", "--model", "test:echo", env=env, cwd=outside
    )
    assert blocked.returncode != 0 and "password" in blocked.stdout + blocked.stderr
    shown = run_plait(site, "stack", "--json", env=env, cwd=outside)
    assert shown.returncode == 0, shown.stderr
    items = json.loads(shown.stdout)["stack"]["items"]
    assert [(i["name"], i["enforced"], i["distribution"], i["version"]) for i in items] == [
        ("no-passwords", True, "acme-policy", "1.4.0"),
        ("no-deletes", True, "acme-policy", "1.4.0"),
    ]
    assert all(i["source"].endswith("plait.toml") for i in items)
    text = run_plait(site, "stack", env={**env, "PLAIT_GUARDRAILS": "no-deletes"}, cwd=outside)
    assert "no-deletes" in text.stdout and "environment variable PLAIT_GUARDRAILS" in text.stdout
    assert "no-passwords" not in text.stdout


def test_an_unknown_name_in_the_stack_is_an_error(outside: Path) -> None:
    _policy(outside)
    env = {"PLAIT_LOGS": "off", "PLAIT_GUARDRAILS": "no-pasword"}
    shown = run_plait(outside / "site", "stack", env=env, cwd=outside)
    assert shown.returncode == 1
    assert "PLAIT_GUARDRAILS" in shown.stderr and "'no-pasword'" in shown.stderr
    assert "no-passwords" in shown.stderr  # what is registered


def test_a_recorded_run_keeps_its_provenance_and_decisions(outside: Path) -> None:
    _policy(outside)
    site = outside / "site"
    db = f"sqlite:///{outside / 'audit.db'}"  # plait run logs every run in the store
    ran = run_plait(site, "run", "my password is x", "--model", "test:echo", "--store", db,
                    "--json", cwd=outside)  # fmt: skip
    assert ran.returncode != 0
    result = json.loads(ran.stdout.splitlines()[-1])["result"]  # JSON lines: events, result
    assert result["error"] == (
        "guardrail 'no-passwords' blocked the input: the input mentions a password"
    )
    env = {"PLAIT_LOGS": "off"}
    shown = run_plait(site, "runs", "show", result["run_id"], "--store", db, env=env, cwd=outside)
    assert shown.returncode == 0, shown.stderr
    assert "acme (acme-policy 1.4.0)" in shown.stdout
    assert "guardrail no-passwords (enforced)" in shown.stdout
    assert "guardrail no-passwords (input): block: the input mentions a password" in shown.stdout
    raw = run_plait(
        site, "runs", "show", result["run_id"], "--store", db, "--json", env=env, cwd=outside
    )
    record = json.loads(raw.stdout)
    provenance = record["run"]["options"]["provenance"]
    assert {"name": "acme", "distribution": "acme-policy", "version": "1.4.0"} in (
        provenance["plugins"]
    )
    decisions = record["steps"][-1]["payload"]["decisions"]
    assert [(d["guardrail"], d["action"]) for d in decisions] == [("no-passwords", "block")]
    assert isinstance(decisions[0]["at"], float)
