"""Conformance kits for what a run calls with a ``Context``: tools, toolsets, verifiers,
guardrails. A plugin's test suite subclasses a kit and gives the object under test and a
few inputs as fixtures; see docs/plugins/conformance.md.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, get_args

import pytest

from .._context import Context
from .._contracts import (
    Completion,
    Decision,
    Guardrail,
    GuardrailStage,
    Tool,
    Toolset,
    Verdict,
    Verifier,
)
from .._errors import Retry
from .._markers import hookimpl
from ._plugins import make_kernel

__all__ = ["GuardrailConformance", "ToolConformance", "ToolsetConformance", "VerifierConformance"]

TOOL_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what every model API accepts


def context() -> Context[Any]:
    """The context a kit passes to the object under test."""
    return Context(run_id="conformance", agent="conformance")


class _Plugin:
    """A plugin object returning ``objects`` from one registration hook."""

    def __init__(self, hook: str, objects: list[Any]) -> None:
        setattr(self, hook, hookimpl(lambda: objects))


def _check_tool_shape(tool: Any) -> None:
    assert isinstance(tool, Tool), "a Tool needs name, description, parameters, the flags, call()"
    assert isinstance(tool.name, str) and TOOL_NAME.match(tool.name), (
        f"tool name {tool.name!r} must match {TOOL_NAME.pattern} (model APIs refuse others)"
    )
    assert isinstance(tool.description, str) and tool.description.strip(), "describe the tool"
    params = tool.parameters
    assert isinstance(params, Mapping) and params.get("type") == "object", (
        "parameters must be a JSON schema of type 'object'"
    )
    json.dumps(params)  # the schema is sent to the model as JSON
    missing = set(params.get("required", ())) - set(params.get("properties", {}))
    assert not missing, f"required arguments without a property: {sorted(missing)}"
    assert tool.timeout is None or (isinstance(tool.timeout, int | float) and tool.timeout > 0), (
        "timeout is None or positive seconds"
    )
    assert tool.retries is None or (isinstance(tool.retries, int) and tool.retries >= 0)
    for flag in ("idempotent", "requires_approval", "sequential"):
        assert isinstance(getattr(tool, flag), bool), f"{flag} must be a bool"


@pytest.mark.anyio
class ToolConformance:
    """Fixtures: ``tool``, ``valid_args`` (accepted), optionally ``invalid_args`` (must be
    refused with ``plait.Retry``, which the model is told)."""

    @pytest.fixture
    def tool(self) -> Any:
        raise NotImplementedError("provide a tool fixture returning your Tool")

    @pytest.fixture
    def valid_args(self) -> Mapping[str, Any]:
        raise NotImplementedError("provide valid_args: arguments your tool accepts")

    @pytest.fixture
    def invalid_args(self) -> Mapping[str, Any] | None:
        return None

    async def test_tool_fits_the_contract(self, tool: Any) -> None:
        _check_tool_shape(tool)

    async def test_call_returns_something_serialisable(
        self, tool: Any, valid_args: Mapping[str, Any]
    ) -> None:
        from .._run._tool_text import serialise

        result = await tool.call(dict(valid_args), context())
        assert isinstance(serialise(result), str)

    async def test_invalid_arguments_ask_the_model_again(
        self, tool: Any, invalid_args: Mapping[str, Any] | None
    ) -> None:
        if invalid_args is None:
            pytest.skip("no invalid_args fixture given")
        with pytest.raises(Retry):
            await tool.call(dict(invalid_args), context())

    async def test_kernel_registers_it(self, tool: Any) -> None:
        kernel = make_kernel(_Plugin("plait_register_tools", [tool]), builtins=False)
        assert kernel.tools()[tool.name] is tool


@pytest.mark.anyio
class ToolsetConformance:
    """Fixture: ``toolset``. Every tool it lists must pass ``ToolConformance``'s shape."""

    @pytest.fixture
    def toolset(self) -> Any:
        raise NotImplementedError("provide a toolset fixture returning your Toolset")

    async def test_toolset_fits_the_contract(self, toolset: Any) -> None:
        assert isinstance(toolset, Toolset), "a Toolset needs name and tools()"
        assert isinstance(toolset.name, str) and toolset.name
        tools = list(toolset.tools())
        assert tools, "a toolset lists at least one tool"
        for tool in tools:
            _check_tool_shape(tool)
        names = [t.name for t in tools]
        assert len(set(names)) == len(names), f"tool names repeat: {names}"
        assert [t.name for t in toolset.tools()] == names, "tools() must be stable (no I/O)"

    async def test_kernel_registers_its_tools(self, toolset: Any) -> None:
        kernel = make_kernel(_Plugin("plait_register_tools", [toolset]), builtins=False)
        assert sorted(kernel.tools()) == sorted(t.name for t in toolset.tools())


@pytest.mark.anyio
class VerifierConformance:
    """Fixtures: ``verifier``, ``passing_completion``, ``failing_completion``."""

    @pytest.fixture
    def verifier(self) -> Any:
        raise NotImplementedError("provide a verifier fixture returning your Verifier")

    @pytest.fixture
    def passing_completion(self) -> Completion:
        raise NotImplementedError("provide passing_completion: a Completion it accepts")

    @pytest.fixture
    def failing_completion(self) -> Completion:
        raise NotImplementedError("provide failing_completion: a Completion it refuses")

    async def test_verifier_fits_the_contract(self, verifier: Any) -> None:
        assert isinstance(verifier, Verifier), "a Verifier needs name and verify()"
        assert isinstance(verifier.name, str) and verifier.name

    async def test_accepts_a_good_completion(
        self, verifier: Any, passing_completion: Completion
    ) -> None:
        verdict = await verifier.verify(passing_completion, context())
        assert isinstance(verdict, Verdict), f"verify() must return a Verdict, not {verdict!r}"
        assert verdict.passed, f"refused a passing completion: {verdict.reason}"

    async def test_refuses_a_bad_completion_with_a_reason(
        self, verifier: Any, failing_completion: Completion
    ) -> None:
        before = failing_completion.model_dump()
        verdict = await verifier.verify(failing_completion, context())
        assert isinstance(verdict, Verdict), f"verify() must return a Verdict, not {verdict!r}"
        assert not verdict.passed, "accepted a failing completion"
        assert verdict.reason, "a failed verdict says why (the model is told)"
        assert failing_completion.model_dump() == before, "verify() must not change its input"

    async def test_kernel_registers_it(self, verifier: Any) -> None:
        kernel = make_kernel(_Plugin("plait_register_verifiers", [verifier]), builtins=False)
        assert kernel.verifiers()[verifier.name] is verifier


RUN_STAGES = set(get_args(GuardrailStage))  # runs check every stage, "stream" included


@pytest.mark.anyio
class GuardrailConformance:
    """Fixtures: ``guardrail``, ``allowed_subject``, ``blocked_subject`` (content of the
    guardrail's stage that it lets through, and content it must not let through as is;
    for a ``stream`` guardrail, an answer's text so far, a ``str``)."""

    @pytest.fixture
    def guardrail(self) -> Any:
        raise NotImplementedError("provide a guardrail fixture returning your Guardrail")

    @pytest.fixture
    def allowed_subject(self) -> Any:
        raise NotImplementedError("provide allowed_subject: content it allows")

    @pytest.fixture
    def blocked_subject(self) -> Any:
        raise NotImplementedError("provide blocked_subject: content it must stop")

    async def test_guardrail_fits_the_contract(self, guardrail: Any) -> None:
        assert isinstance(guardrail, Guardrail), "a Guardrail needs name, stage and check()"
        assert isinstance(guardrail.name, str) and guardrail.name
        assert guardrail.stage in RUN_STAGES, f"stage must be one of {sorted(RUN_STAGES)}"

    async def test_allows_harmless_content(self, guardrail: Any, allowed_subject: Any) -> None:
        decision = await guardrail.check(allowed_subject, context())
        assert isinstance(decision, Decision), f"check() must return a Decision: {decision!r}"
        assert decision.action == "allow", f"blocked harmless content: {decision}"

    async def test_stops_bad_content_with_a_reason(
        self, guardrail: Any, blocked_subject: Any
    ) -> None:
        decision = await guardrail.check(blocked_subject, context())
        assert isinstance(decision, Decision), f"check() must return a Decision: {decision!r}"
        assert decision.action != "allow", "let through content it must stop"
        assert decision.reason, "a decision that stops content says why"
        if decision.action in ("redact", "replace"):
            assert decision.replacement is not None, f"{decision.action} needs a replacement"

    async def test_kernel_registers_it(self, guardrail: Any) -> None:
        kernel = make_kernel(_Plugin("plait_register_guardrails", [guardrail]), builtins=False)
        assert kernel.guardrails()[guardrail.name] is guardrail
