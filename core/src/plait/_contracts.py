"""The object contracts that plugins register through the hooks.

Each contract is a small ``Protocol`` with ``async`` methods: plugins need not inherit
from anything, and the kernel checks the shape when an object is registered. Hooks only
*return* these objects; all I/O happens inside their async methods, which the kernel
calls under its timeouts from one place (``plait._call``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict, Field

from ._messages import Message, ModelResponse, StreamEvent
from ._settings import ModelSettings

if TYPE_CHECKING:
    from ._context import Context
    from ._events import Event
    from ._store._contract import StoreConnection

__all__ = [
    "Completion",
    "Decision",
    "EventHandler",
    "Executor",
    "Guardrail",
    "GuardrailStage",
    "Model",
    "OutputSpec",
    "Provider",
    "RequestParams",
    "Store",
    "Tool",
    "ToolSpec",
    "Toolset",
    "Verdict",
    "Verifier",
]


# --- what a model is asked ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as the model sees it: name, description and a JSON schema of its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class OutputSpec:
    """A structured output the provider may enforce natively (``response_format``)."""

    name: str
    schema: Mapping[str, Any]
    strict: bool | None = None


@dataclass(frozen=True, slots=True)
class RequestParams:
    """Everything a model request needs besides the messages."""

    tools: Sequence[ToolSpec] = ()
    settings: ModelSettings = field(default_factory=ModelSettings)
    output: OutputSpec | None = None


@runtime_checkable
class Model(Protocol):
    """A model of one provider, ready to be asked.

    Duty: turn messages into exactly one ``ModelResponse`` (``request``) or a stream of
    deltas that ends with ``ResponseDone`` (``stream``). Failures are raised as
    ``ProviderError`` subclasses; a model never retries (retry is kernel policy) and
    holds its connections until ``aclose``.
    """

    name: str

    async def request(self, messages: Sequence[Message], params: RequestParams) -> ModelResponse:
        """Ask the model once and return its complete answer."""
        ...

    def stream(
        self, messages: Sequence[Message], params: RequestParams
    ) -> AsyncIterator[StreamEvent]:
        """Ask the model and yield deltas; the last event must be ``ResponseDone``."""
        ...

    async def aclose(self) -> None:
        """Release connections and other resources; idempotent."""
        ...


@runtime_checkable
class Provider(Protocol):
    """A source of models, addressed by the prefix of ``"name:model-id"``.

    Optional: ``models() -> Iterable[str]`` (cheap, no I/O) lists model ids the provider
    knows, for ``plait models``; ``aclose()`` releases shared resources (connection pools).
    """

    name: str

    def model(self, model_id: str, **options: Any) -> Model:
        """Return a model object (cheap: no I/O until the model is asked)."""
        ...


# --- tools ------------------------------------------------------------------------------


@runtime_checkable
class Tool(Protocol):
    """A callable capability the model may use.

    ``parameters`` is the JSON schema of the arguments. ``call`` receives arguments that
    have already been decoded from JSON; it validates them and may raise ``plait.Retry``.
    Flags: ``timeout`` seconds (``None``: the run's default), ``retries`` allowed after
    ``Retry`` or invalid arguments, ``idempotent`` (safe to repeat on resume),
    ``requires_approval``, ``sequential`` (a barrier: runs alone, in order).
    """

    name: str
    description: str
    parameters: Mapping[str, Any]
    timeout: float | None
    retries: int | None
    idempotent: bool
    requires_approval: bool
    sequential: bool

    async def call(self, args: Mapping[str, Any], ctx: Context[Any]) -> Any:
        """Run the tool. The return value is serialised to text for the model."""
        ...


@runtime_checkable
class Toolset(Protocol):
    """A named group of tools registered together."""

    name: str

    def tools(self) -> Iterable[Tool]:
        """The tools of this set (cheap: no I/O)."""
        ...


# --- completion, verifiers, guardrails ----------------------------------------------------


class Completion(BaseModel):
    """What the completion tool receives: how the run ended, in the model's words."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["success", "failed"] = "success"
    summary: str = ""
    result: Any = None
    evidence: list[str] = Field(default_factory=list)


class Verdict(BaseModel):
    """A verifier's judgement. ``error`` is set when the verifier itself crashed (fail closed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    passed: bool
    reason: str | None = None
    verifier: str = ""
    error: str | None = None


@runtime_checkable
class Verifier(Protocol):
    """Checks a completion before it is accepted. A crash counts as a failed verdict."""

    name: str

    async def verify(self, completion: Completion, ctx: Context[Any]) -> Verdict:
        """Judge the completion."""
        ...


GuardrailStage = Literal["input", "output", "tool_call", "tool_result", "stream"]


class Decision(BaseModel):
    """A guardrail's decision. ``replacement`` is the new content for redact/replace."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: Literal["allow", "block", "redact", "replace", "retry", "ask"] = "allow"
    reason: str | None = None
    replacement: Any = None
    guardrail: str = ""
    stage: GuardrailStage | None = None
    error: str | None = None


@runtime_checkable
class Guardrail(Protocol):
    """Checks content at one ``stage``. A crash or a timeout counts as ``block`` (fail closed)."""

    name: str
    stage: GuardrailStage

    async def check(self, subject: Any, ctx: Context[Any]) -> Decision:
        """Decide about ``subject`` (the input text, output, tool call or tool result)."""
        ...


# --- events, stores, executors ------------------------------------------------------------


@runtime_checkable
class EventHandler(Protocol):
    """Observes events. May be slow or broken: the run is isolated from it."""

    name: str

    async def handle(self, event: Event) -> None:
        """Receive one event (content already redacted)."""
        ...


@runtime_checkable
class Store(Protocol):
    """Persists threads and runs; chosen by the URL scheme (``sqlite``, ``postgresql``)."""

    scheme: str

    def open(self, url: str) -> StoreConnection:
        """Return a ``StoreConnection`` for ``url`` (it connects on its first call)."""
        ...


@runtime_checkable
class Executor(Protocol):
    """Runs the jobs of ``run_tasks``; ``local`` (anyio) is built in."""

    name: str

    async def execute(self, job: Any) -> Any:
        """Run one job (an async callable taking no arguments) and return its result."""
        ...
