"""Plugins written from docs/plugins/writing.md pass plait's conformance kits; broken ones fail.

The doc's titled code blocks (```python title="plait-echo/src/plait_echo/model.py"```) are
written into a temporary folder outside the repository, so the doc cannot drift from what
is tested. Each package is installed the fast way (a ``.dist-info`` with its entry points
on ``PYTHONPATH``) and its own tests run with pytest in a fresh interpreter.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from .conftest import install_distribution, run_plait

ROOT = Path(__file__).resolve().parents[2]
WRITING = ROOT / "docs" / "plugins" / "writing.md"
BLOCK = re.compile(r'^```\w+ title="([^"]+)"\n(.*?)^```$', re.MULTILINE | re.DOTALL)


def doc_files(doc: Path) -> dict[str, str]:
    """Every titled code block of ``doc``; blocks with the same title are joined in order,
    two blank lines apart (as between a module's classes)."""
    files: dict[str, str] = {}
    for path, text in BLOCK.findall(doc.read_text()):
        files[path] = f"{files[path]}\n\n{text}" if path in files else text
    return files


def write_tree(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)


def install(site: Path, package: Path) -> str:
    """Fake-install ``package`` (its pyproject's name, version, entry points); its PYTHONPATH."""
    project = tomllib.loads((package / "pyproject.toml").read_text())["project"]
    entry_points = project["entry-points"]["plait"]
    info = site / f"{project['name'].replace('-', '_')}-{project['version']}.dist-info"
    if not info.exists():
        install_distribution(site, project["name"], project["version"], entry_points)
    return str(package / "src")


def run_pytest(folder: Path, pythonpath: list[str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PLAIT_")}
    env["PYTHONPATH"] = os.pathsep.join([*pythonpath, env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfs", "-W", "error", "-p", "no:cacheprovider"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The doc's packages, written and fake-installed into one site folder."""
    root = tmp_path_factory.mktemp("from-the-docs")
    assert ROOT not in root.parents, "the packages must live outside the repository"
    write_tree(root, doc_files(WRITING))
    (root / "site").mkdir()
    return root


PACKAGES = ("plait-echo", "plait-acme", "plait-house")


def test_the_doc_holds_complete_packages() -> None:
    files = doc_files(WRITING)
    for package in PACKAGES:
        assert f"{package}/pyproject.toml" in files
        assert any(p.startswith(f"{package}/tests/") for p in files)
    assert "plait-echo/src/plait_echo/model.py" in files
    assert "plait-acme/src/plait_acme/model.py" in files
    assert "ProviderConformance" in files["plait-acme/tests/test_conformance.py"]
    for text in files.values():
        assert not re.search(r"^\s*(from|import) plait\._", text, re.MULTILINE), text


@pytest.mark.parametrize(
    ("package", "passed"), [("plait-echo", 13), ("plait-acme", 50), ("plait-house", 22)]
)
def test_doc_plugin_passes_its_conformance_kit(built: Path, package: str, passed: int) -> None:
    folder = built / package
    result = run_pytest(folder, [str(built / "site"), install(built / "site", folder)])
    assert result.returncode == 0, result.stdout + result.stderr
    count = re.search(r"(\d+) passed", result.stdout)
    assert count and int(count[1]) >= passed, result.stdout  # once per anyio backend
    assert "skipped" not in result.stdout and "failed" not in result.stdout, result.stdout


def test_installed_doc_plugins_are_listed(built: Path) -> None:
    site = built / "site"
    paths = [str(site), *(install(site, built / p) for p in PACKAGES)]
    env = {"PYTHONPATH": os.pathsep.join(paths)}
    listed = run_plait(site, "models", "--json", env=env, cwd=built)
    rows = {row["provider"]: row for row in json.loads(listed.stdout or "[]")}
    assert rows["echo"]["models"] == ["echo:default", "echo:down"], listed.stderr
    assert rows["acme"]["models"] == ["acme:large", "acme:small"], listed.stderr
    plugins = run_plait(site, "plugins", "--json", env=env, cwd=built)
    house = {row["name"]: row for row in json.loads(plugins.stdout or "[]")}["house"]
    assert house["status"] == "loaded", house
    assert set(house["registered"]) == {
        "tools", "guardrails", "verifiers", "event_handlers", "executors"
    }  # fmt: skip


# --- a second, hand-written non-HTTP provider, and one broken object per kind ------------

GOOD_PROVIDER = """
    import anyio
    from plait.provider import (
        AssistantMessage, ModelNotFound, ModelResponse, ResponseDone, TextDelta, UserMessage,
    )


    class ReverseModel:
        def __init__(self, name):
            self.name = name

        async def request(self, messages, params):
            await anyio.sleep(0)
            said = [m.content for m in messages if isinstance(m, UserMessage)]
            return ModelResponse(message=AssistantMessage(text=said[-1][::-1]))

        async def stream(self, messages, params):
            response = await self.request(messages, params)
            text = response.message.text
            for i in range(0, len(text), 4):
                yield TextDelta(text[i : i + 4])
            yield ResponseDone(response)

        async def aclose(self):
            pass


    class ReverseProvider:
        name = "reverse"

        def model(self, model_id, **options):
            if model_id != "v1":
                raise ModelNotFound(model_id, provider="reverse")
            return ReverseModel(f"reverse:{model_id}")
"""

BROKEN = """
    import plait
    from plait_reverse import ReverseModel, ReverseProvider
    from plait.provider import TextDelta


    class PrefixedIds(ReverseProvider):  # models() with the prefix: "reverse:reverse:v1"
        def models(self):
            return ["reverse:v1"]


    class NoDoneModel(ReverseModel):
        async def stream(self, messages, params):
            yield TextDelta("no end")


    class NoDoneProvider(ReverseProvider):
        def model(self, model_id, **options):
            return NoDoneModel("reverse:x") if model_id == "v1" else RaisingModel("reverse:y")


    class RaisingModel(ReverseModel):
        async def request(self, messages, params):
            raise RuntimeError("not in the error tree")


    class BadTool:
        name, description = "shout it", "Shout."
        parameters = {"type": "object", "properties": {}}
        timeout, retries, idempotent, requires_approval, sequential = None, 0, True, False, False

        async def call(self, args, ctx):
            return args["text"].upper()  # KeyError instead of plait.Retry


    class SilentBlock:
        name, stage = "silent", "input"

        async def check(self, subject, ctx):
            return plait.Decision(action="block")  # blocks everything, says nothing


    class BoolVerifier:
        name = "bool"

        async def verify(self, completion, ctx):
            return bool(completion.evidence)


    class PickyHandler:
        name = "picky"

        async def handle(self, event):
            {"run.start": 1, "run.end": 2}[event.kind]  # KeyError on any other kind


    class SwallowingExecutor:
        name = "swallowing"

        async def execute(self, job):
            try:
                return await job()
            except Exception:
                return None
"""

BROKEN_TESTS = """
    import pytest
    from plait import Completion
    from plait.testing import (
        EventHandlerConformance, ExecutorConformance, GuardrailConformance, ModelConformance,
        ToolConformance, VerifierConformance,
    )

    from plait_reverse import ReverseProvider
    import broken


    class TestReverse(ModelConformance):
        provider = pytest.fixture(lambda self: ReverseProvider())
        model_id = pytest.fixture(lambda self: "v1")


    class TestPrefixed(ModelConformance):
        provider = pytest.fixture(lambda self: broken.PrefixedIds())
        model_id = pytest.fixture(lambda self: "v1")


    class TestNoDone(ModelConformance):
        provider = pytest.fixture(lambda self: broken.NoDoneProvider())
        model_id = pytest.fixture(lambda self: "v1")
        failing_model_id = pytest.fixture(lambda self: "v2")


    class TestBadTool(ToolConformance):
        tool = pytest.fixture(lambda self: broken.BadTool())
        valid_args = pytest.fixture(lambda self: {"text": "a"})
        invalid_args = pytest.fixture(lambda self: {})


    class TestSilentBlock(GuardrailConformance):
        guardrail = pytest.fixture(lambda self: broken.SilentBlock())
        allowed_subject = pytest.fixture(lambda self: "hello")
        blocked_subject = pytest.fixture(lambda self: "password")


    class TestBoolVerifier(VerifierConformance):
        verifier = pytest.fixture(lambda self: broken.BoolVerifier())
        passing_completion = pytest.fixture(lambda self: Completion(evidence=["x"]))
        failing_completion = pytest.fixture(lambda self: Completion())


    class TestPickyHandler(EventHandlerConformance):
        handler = pytest.fixture(lambda self: broken.PickyHandler())


    class TestSwallowingExecutor(ExecutorConformance):
        executor = pytest.fixture(lambda self: broken.SwallowingExecutor())
"""

CAUGHT = {
    "TestPrefixed::test_models_lists_bare_ids",
    "TestPrefixed::test_kernel_resolves_and_lists_it",
    "TestNoDone::test_stream_ends_with_response_done",
    "TestNoDone::test_errors_are_provider_errors",
    "TestBadTool::test_tool_fits_the_contract",
    "TestBadTool::test_invalid_arguments_ask_the_model_again",
    "TestSilentBlock::test_allows_harmless_content",
    "TestSilentBlock::test_stops_bad_content_with_a_reason",
    "TestBoolVerifier::test_accepts_a_good_completion",
    "TestBoolVerifier::test_refuses_a_bad_completion_with_a_reason",
    "TestPickyHandler::test_handles_every_event_in_order",
    "TestPickyHandler::test_handles_two_runs_at_once",
    "TestSwallowingExecutor::test_the_jobs_error_reaches_the_caller",
}


def test_kits_pass_a_good_provider_and_catch_every_broken_kind(tmp_path: Path) -> None:
    files = {
        "src/plait_reverse.py": GOOD_PROVIDER,
        "src/broken.py": BROKEN,
        "tests/test_kits.py": BROKEN_TESTS,
    }
    write_tree(tmp_path, {k: textwrap.dedent(v) for k, v in files.items()})
    result = run_pytest(tmp_path, [str(tmp_path / "src")])
    failed = set(re.findall(r"^FAILED tests/test_kits\.py::(\S+?)\[", result.stdout, re.MULTILINE))
    assert {f.split("::")[0] for f in failed} <= {c.split("::")[0] for c in CAUGHT}, result.stdout
    assert failed >= CAUGHT, result.stdout + result.stderr
    assert not [f for f in failed if f.startswith("TestReverse::")], result.stdout
    assert "INTERNALERROR" not in result.stdout + result.stderr


def test_plait_models_shows_a_prefixed_id_once() -> None:
    import plait
    from plait._cli.models import collect
    from plait.testing import make_kernel

    class Newcomer:  # lists "echo:default" although models() should return bare ids
        name = "echo"

        def models(self) -> list[str]:
            return ["echo:default", "default", "other"]

        def model(self, model_id: str, **options: object) -> plait.Model:
            raise AssertionError("listing must not build models")

    class Plugin:
        @plait.hookimpl
        def plait_register_providers(self) -> list[Newcomer]:
            return [Newcomer()]

    (row,) = collect(make_kernel(Plugin(), builtins=False))
    assert row["models"] == ["echo:default", "echo:other"]
